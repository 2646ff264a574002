import { describe, expect, it } from "vitest";
import { planDev } from "../dev-plan.ts";

const summary = (env: Record<string, string>) => planDev(env).map((p) => [p.name, p.port, p.env.APPLY_LAG_MS, p.env.DATA_DIR]);

describe("pnpm dev -> what it starts", () => {
  it("by default: the leader on 3000 and one follower on 3001, named api and worker as in the chapter, and the dashboard on 3100", () => {
    expect(planDev({})).toEqual([
      { name: "api", app: "api", port: 3000, env: { PORT: "3000" } },
      { name: "worker", app: "worker", port: 3001, env: { PORT: "3001", LEADER_URL: "http://localhost:3000" } },
      { name: "dashboard", app: "dashboard", port: 3100, env: { DASHBOARD_PORT: "3100", LEADER_URL: "http://localhost:3000", FOLLOWER_URLS: "http://localhost:3001" } },
    ]);
  });

  it("FOLLOWERS=3: followers on 3001, 3002, 3003, each prefixed with its port", () => {
    expect(summary({ FOLLOWERS: "3" }).map(([name, port]) => [name, port])).toEqual([
      ["api", 3000],
      ["worker-3001", 3001],
      ["worker-3002", 3002],
      ["worker-3003", 3003],
      ["dashboard", 3100],
    ]);
    expect(planDev({ FOLLOWERS: "3" }).at(-1)!.env.FOLLOWER_URLS, "the dashboard watches every follower").toBe("http://localhost:3001,http://localhost:3002,http://localhost:3003");
  });

  it("APPLY_LAG_MS=0,3000 gives each follower its own lag; one value gives every follower the same", () => {
    expect(summary({ FOLLOWERS: "2", APPLY_LAG_MS: "0,3000" }).map((r) => r[2])).toEqual([undefined, "0", "3000", undefined]);
    expect(summary({ FOLLOWERS: "2", APPLY_LAG_MS: "800" }).map((r) => r[2])).toEqual([undefined, "800", "800", undefined]);
  });

  it("gives each of several followers its own DATA_DIR, so none shares a file", () => {
    expect(summary({ FOLLOWERS: "2", DATA_DIR: ".data" }).map((r) => r[3])).toEqual([undefined, ".data/follower-3001", ".data/follower-3002", undefined]);
    expect(summary({ DATA_DIR: ".data" }).map((r) => r[3]), "one follower keeps the chapter's DATA_DIR (its own app directory)").toEqual([undefined, undefined, undefined]);
  });

  it("moves with LEADER_PORT and FOLLOWER_PORT", () => {
    expect(summary({ LEADER_PORT: "4000", FOLLOWER_PORT: "4100", FOLLOWERS: "2" }).map((r) => r[1])).toEqual([4000, 4100, 4101, 3100]);
  });
});

describe("pnpm dev -> settings that do not fit, refused with a message naming them", () => {
  it.each([
    [{ FOLLOWERS: "abc" }, /FOLLOWERS must be a whole number from 0 to 16, got "abc"/],
    [{ FOLLOWERS: "17" }, /FOLLOWERS must be a whole number from 0 to 16/],
    [{ FOLLOWERS: "3", APPLY_LAG_MS: "0,3000" }, /APPLY_LAG_MS lists 2 lags \("0,3000"\) for FOLLOWERS=3/],
    [{ FOLLOWERS: "2", FOLLOWER_ID: "me" }, /FOLLOWER_ID names one follower; with FOLLOWERS=2/],
    [{ LEADER_PORT: "3002", FOLLOWERS: "3" }, /LEADER_PORT=3002 is one of the followers' ports \(3001, 3002, 3003\)/],
    [{ FOLLOWER_PORT: "65535", FOLLOWERS: "2" }, /runs past port 65535/],
    [{ DASHBOARD_PORT: "3001" }, /DASHBOARD_PORT=3001 is a node's port/],
  ])("%j", (env, message) => {
    expect(() => planDev(env)).toThrow(message);
  });
});
