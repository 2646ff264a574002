import { ConfigError } from "@lab/service";
import { describe, expect, it } from "vitest";
import { readLeaderConfig } from "./config.ts";

// These tests cover PORT and HOST; they match only those fields, so settings added later (such as
// RETAIN_EVENTS) need tests of their own rather than edits here.
describe("readLeaderConfig -> nothing set", () => {
  it("listens on port 3000, loopback only", () => {
    expect(readLeaderConfig({})).toMatchObject({ port: 3000, host: undefined });
  });

  it("treats empty values as unset", () => {
    expect(readLeaderConfig({ PORT: "", HOST: "  " })).toMatchObject({ port: 3000, host: undefined });
  });
});

describe("readLeaderConfig -> valid overrides", () => {
  it.each([
    [{ PORT: "8080" }, { port: 8080, host: undefined }],
    [{ PORT: "0" }, { port: 0, host: undefined }],
    [{ PORT: "65535", HOST: "0.0.0.0" }, { port: 65535, host: "0.0.0.0" }],
    [{ HOST: " ::1 " }, { port: 3000, host: "::1" }],
  ])("reads %j", (env, expected) => {
    expect(readLeaderConfig(env)).toMatchObject(expected);
  });
});

describe("readLeaderConfig -> invalid PORT", () => {
  it.each(["70000", "65536", "-1", "1.5", "abc", "0x50"])("PORT=%s throws a ConfigError naming PORT", (value) => {
    let thrown: unknown;
    try {
      readLeaderConfig({ PORT: value });
    } catch (err) {
      thrown = err;
    }
    expect(thrown, `PORT=${value} must be refused`).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(/^PORT /);
    expect((thrown as Error).message).toContain(JSON.stringify(value));
  });
});
