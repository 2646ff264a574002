import { ConfigError } from "@lab/service";
import { describe, expect, it } from "vitest";
import { readFollowerConfig } from "./config.ts";

/** The error `readFollowerConfig(env)` throws; fails the test if it does not throw. */
function configError(env: Record<string, string>): unknown {
  try {
    readFollowerConfig(env);
  } catch (err) {
    return err;
  }
  throw new Error(`readFollowerConfig(${JSON.stringify(env)}) did not throw`);
}

describe("readFollowerConfig -> nothing set", () => {
  it("uses the chapter's defaults", () => {
    expect(readFollowerConfig({})).toMatchObject({ port: 3001, host: undefined, leaderUrl: "http://localhost:3000", pollIntervalMs: 300, applyLagMs: 1500, longPollMs: 500, batchWaitMs: 50, followerId: undefined, retainEvents: 100_000, followerTimeoutMs: 3000 });
  });

  it("treats empty values as unset", () => {
    expect(readFollowerConfig({ PORT: "", HOST: " ", LEADER_URL: "", POLL_INTERVAL_MS: "", APPLY_LAG_MS: " " })).toEqual(readFollowerConfig({}));
  });
});

describe("readFollowerConfig -> valid overrides", () => {
  it("reads every variable", () => {
    const env = { PORT: "4001", HOST: "0.0.0.0", LEADER_URL: "https://leader.example:8443/", POLL_INTERVAL_MS: "50", APPLY_LAG_MS: "0", LONG_POLL_MS: "0", BATCH_WAIT_MS: "0" };
    expect(readFollowerConfig(env)).toMatchObject({ port: 4001, host: "0.0.0.0", leaderUrl: "https://leader.example:8443", pollIntervalMs: 50, applyLagMs: 0, longPollMs: 0, batchWaitMs: 0 });
  });

  it("accepts the bounds: PORT=0, POLL_INTERVAL_MS=1, APPLY_LAG_MS=600000", () => {
    expect(readFollowerConfig({ PORT: "0", POLL_INTERVAL_MS: "1", APPLY_LAG_MS: "600000" })).toMatchObject({ port: 0, pollIntervalMs: 1, applyLagMs: 600_000 });
  });
});

describe("readFollowerConfig -> invalid values", () => {
  it.each([
    ["APPLY_LAG_MS", "abc"],
    ["APPLY_LAG_MS", "-5"],
    ["APPLY_LAG_MS", "1.5"],
    ["APPLY_LAG_MS", "1e3"],
    ["APPLY_LAG_MS", "600001"],
    ["POLL_INTERVAL_MS", "0"],
    ["POLL_INTERVAL_MS", "abc"],
    ["PORT", "70000"],
    ["PORT", "-1"],
    ["PORT", "http"],
    ["LEADER_URL", "notaurl"],
    ["LEADER_URL", "ftp://x"],
    ["LEADER_URL", "http://leader:3000/?x=1"],
    ["LEADER_URL", "http://leader:3000/api"],
    ["LONG_POLL_MS", "30001"],
    ["LONG_POLL_MS", "-1"],
    ["BATCH_WAIT_MS", "30001"],
    ["BATCH_WAIT_MS", "20ms"],
    ["STREAM", "yes"],
    ["FOLLOWER_ID", ""],
    ["FOLLOWER_ID", "x".repeat(65)],
    ["FOLLOWER_ID", "-f"],
    ["FOLLOWER_ID", "a b"],
    ["RETAIN_EVENTS", "0"],
    ["FOLLOWER_TIMEOUT_MS", "0"],
  ])("%s=%s throws a ConfigError naming the variable", (name, value) => {
    const err = configError({ [name]: value });
    expect(err, `${name}=${value}`).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(name);
    expect((err as Error).message).toContain(JSON.stringify(value));
  });
});

describe("readFollowerConfig -> STREAM", () => {
  it("fetches a batch at a time unless STREAM=1, which needs long-polling for its heartbeat", () => {
    expect(readFollowerConfig({}).stream).toBe(false);
    expect(readFollowerConfig({ STREAM: "1" }).stream).toBe(true);
    const err = configError({ STREAM: "1", LONG_POLL_MS: "0" });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^STREAM=1 needs long-polling: LONG_POLL_MS/);
  });
});

describe("readFollowerConfig -> STORE", () => {
  it("replicates itself unless STORE=postgres, which reads the standby at PG_URL and sets its delay only when APPLY_LAG_MS is given", () => {
    expect(readFollowerConfig({}).postgres).toBeUndefined();
    expect(readFollowerConfig({ STORE: "postgres" }).postgres).toEqual({ url: "postgres://lab@127.0.0.1:5441/lab", applyLagMs: undefined });
    expect(readFollowerConfig({ STORE: "postgres", APPLY_LAG_MS: "3000" }).postgres).toEqual({ url: "postgres://lab@127.0.0.1:5441/lab", applyLagMs: 3000 });
  });

  it.each([
    [{ STORE: "postgres", PG_URL: "postgres://lab@10.0.0.5/lab" }, /^PG_URL must name a server on this machine/],
    [{ STORE: "postgres", DATA_DIR: "/tmp/x" }, /^DATA_DIR .* unset DATA_DIR$/],
    [{ STORE: "postgres", APPLY_LAG_MS: "3s" }, /^APPLY_LAG_MS must be a whole number/],
  ])("refuses %j with a ConfigError", (env, message) => {
    const err = configError(env);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
  });
});
