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

describe("readLeaderConfig -> synchronous replication", () => {
  it("is asynchronous by default, as in the chapter", () => {
    expect(readLeaderConfig({}).sync).toEqual({ replicas: 0, ack: "received", timeoutMs: 10_000, onTimeout: "error", minReplicas: 0, maxLagMs: 10_000 });
  });

  it("reads every setting", () => {
    const env = { SYNC_REPLICAS: "2", SYNC_ACK: "applied", SYNC_TIMEOUT_MS: "500", SYNC_ON_TIMEOUT: "async", MIN_REPLICAS_TO_WRITE: "1", MIN_REPLICAS_MAX_LAG_MS: "2000" };
    expect(readLeaderConfig(env).sync).toEqual({ replicas: 2, ack: "applied", timeoutMs: 500, onTimeout: "async", minReplicas: 1, maxLagMs: 2000 });
  });

  it.each([
    ["SYNC_REPLICAS", "-1"],
    ["SYNC_REPLICAS", "one"],
    ["SYNC_ACK", "maybe"],
    ["SYNC_TIMEOUT_MS", "0"],
    ["SYNC_ON_TIMEOUT", "retry"],
    ["MIN_REPLICAS_TO_WRITE", "1.5"],
    ["MIN_REPLICAS_MAX_LAG_MS", "0"],
  ])("%s=%s throws a ConfigError naming the variable", (name, value) => {
    let thrown: unknown;
    try {
      readLeaderConfig({ [name]: value });
    } catch (err) {
      thrown = err;
    }
    expect(thrown, `${name}=${value} must be refused`).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(new RegExp(`^${name} `));
    expect((thrown as Error).message).toContain(JSON.stringify(value));
  });
});

describe("readLeaderConfig -> STORE", () => {
  it("keeps the orders in memory unless STORE=postgres, which reads PG_URL (default: the pair pnpm pg:up starts)", () => {
    expect(readLeaderConfig({}).postgres).toBeUndefined();
    expect(readLeaderConfig({ STORE: "postgres" }).postgres).toEqual({ url: "postgres://lab@127.0.0.1:5440/lab" });
    expect(readLeaderConfig({ STORE: "postgres", PG_URL: "postgresql://lab@localhost:6000/x" }).postgres).toEqual({ url: "postgresql://lab@localhost:6000/x" });
  });

  it.each([
    [{ STORE: "mysql" }, /^STORE must be "memory" or "postgres"/],
    [{ STORE: "postgres", PG_URL: "http://127.0.0.1:5440/lab" }, /^PG_URL must start with postgres:\/\//],
    [{ STORE: "postgres", PG_URL: "postgres://lab@db.example.com/lab" }, /^PG_URL must name a server on this machine/],
    [{ STORE: "postgres", DATA_DIR: "/tmp/x" }, /^DATA_DIR .* unset DATA_DIR$/],
    [{ STORE: "postgres", SYNC_REPLICAS: "1" }, /synchronous_standby_names/],
  ])("refuses %j with a ConfigError", (env, message) => {
    expect(() => readLeaderConfig(env)).toThrow(ConfigError);
    expect(() => readLeaderConfig(env)).toThrow(message);
  });
});
