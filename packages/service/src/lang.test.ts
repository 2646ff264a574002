import { describe, expect, it } from "vitest";
import { chooseLang } from "./lang.ts";

describe("chooseLang: the learner's language", () => {
  it.each([
    [{ LAB_LANG: "ja" }, "en-US", "ja"],
    [{ LAB_LANG: "JA_jp" }, "en-US", "ja"],
    [{ LAB_LANG: "en", LANG: "ja_JP.UTF-8" }, "ja-JP", "en"],
    [{ LANG: "ja_JP.UTF-8" }, "en-US", "ja"],
    [{ LC_ALL: "ja_JP.UTF-8", LANG: "en_US.UTF-8" }, "en-US", "ja"],
    [{ LC_MESSAGES: "en_GB.UTF-8", LANG: "ja_JP.UTF-8" }, "en-US", "en"],
    [{}, "ja-JP", "ja"],
    [{}, "en-US", "en"],
    [{ LANG: "jam" }, "en-US", "en"],
    [{ LAB_LANG: "  " }, "ja", "ja"],
  ] as const)("%j with Intl saying %s speaks %s", (env, intl, want) => {
    expect(chooseLang(env, intl)).toBe(want);
  });
});
