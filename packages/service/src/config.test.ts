import { describe, expect, it } from "vitest";
import { isLoopbackHost } from "./config.ts";

describe("isLoopbackHost: whether a node's admin routes may answer", () => {
  it.each([[undefined], ["127.0.0.1"], ["::1"], ["localhost"]])("HOST=%s is loopback", (host) => expect(isLoopbackHost(host)).toBe(true));
  it.each([["0.0.0.0"], ["::"], ["192.0.2.7"], ["node.example"]])("HOST=%s is not", (host) => expect(isLoopbackHost(host)).toBe(false));
});
