import { describe, expect, it } from "vitest";
import { baseUrl, sameNode } from "./url.ts";

describe("a node's base URL", () => {
  it.each([
    ["http://127.0.0.1:3001", "http://127.0.0.1:3001"],
    ["http://localhost:3001/", "http://localhost:3001"],
    ["https://node.example:443", "https://node.example:443"],
  ])("%s is one (%s)", (value, want) => expect(baseUrl(value)).toBe(want));

  it.each([[5], ["ftp://x"], ["http://a b"], ["http://x:1/path"], ["http://x:1?q=1"], [`http://${"x".repeat(300)}`]])("%j is not", (value) => expect(baseUrl(value)).toBeUndefined());

  it("names the same node through localhost, 127.0.0.1 or [::1], with or without a trailing slash", () => {
    expect(sameNode("http://localhost:3001", "http://127.0.0.1:3001/")).toBe(true);
    expect(sameNode("http://[::1]:3001", "http://127.0.0.1:3001")).toBe(true);
    expect(sameNode("http://127.0.0.1:3001", "http://127.0.0.1:3002")).toBe(false);
    expect(sameNode("http://127.0.0.1:80", "http://127.0.0.1")).toBe(true);
  });
});
