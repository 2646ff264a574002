import { describe, expect, it } from "vitest";
import { planRaftDashboard, planRaftDev, readDevRaftFlags } from "../dev-raft-plan.ts";

describe("pnpm dev:raft -> what it starts", () => {
  it("by default: three nodes on 4000-4002, one group (the same RAFT_PEERS for all)", () => {
    const plan = planRaftDev({});
    const peers = "n1=http://127.0.0.1:4000,n2=http://127.0.0.1:4001,n3=http://127.0.0.1:4002";
    expect(plan).toEqual([
      { id: "n1", port: 4000, env: { RAFT_ID: "n1", RAFT_PEERS: peers, PORT: "4000", DATA_DIR: "" } },
      { id: "n2", port: 4001, env: { RAFT_ID: "n2", RAFT_PEERS: peers, PORT: "4001", DATA_DIR: "" } },
      { id: "n3", port: 4002, env: { RAFT_ID: "n3", RAFT_PEERS: peers, PORT: "4002", DATA_DIR: "" } },
    ]);
  });

  it("RAFT_NODES=5: five, on 4000-4004; with DATA_DIR, a directory each", () => {
    const plan = planRaftDev({ RAFT_NODES: "5", DATA_DIR: "/tmp/raft" });
    expect(plan.map((p) => [p.id, p.port, p.env.DATA_DIR])).toEqual([
      ["n1", 4000, "/tmp/raft/n1"],
      ["n2", 4001, "/tmp/raft/n2"],
      ["n3", 4002, "/tmp/raft/n3"],
      ["n4", 4003, "/tmp/raft/n4"],
      ["n5", 4004, "/tmp/raft/n5"],
    ]);
    expect(new Set(plan.map((p) => p.env.RAFT_PEERS)).size).toBe(1);
  });

  it.each([
    [{ RAFT_NODES: "0" }, "RAFT_NODES must be a whole number from 1 to 7"],
    [{ RAFT_NODES: "three" }, "RAFT_NODES must be a whole number from 1 to 7"],
    [{ RAFT_PORT: "65535" }, "RAFT_PORT must be a whole number from 1 to 65533"],
  ])("refuses %j", (env, message) => {
    expect(() => planRaftDev(env)).toThrow(message);
  });
});

describe("pnpm dev:raft --dashboard -> the live dashboard beside the group", () => {
  it("on 3100, watching every node of the group", () => {
    expect(readDevRaftFlags([])).toEqual({ dashboard: false });
    expect(readDevRaftFlags(["--dashboard"])).toEqual({ dashboard: true });
    expect(planRaftDashboard({}, planRaftDev({}))).toEqual({ port: 3100, env: { DASHBOARD_PORT: "3100", RAFT_URLS: "http://127.0.0.1:4000,http://127.0.0.1:4001,http://127.0.0.1:4002" } });
    expect(planRaftDashboard({ DASHBOARD_PORT: "3200" }, planRaftDev({ RAFT_NODES: "5", RAFT_PORT: "4100" })).env).toEqual({ DASHBOARD_PORT: "3200", RAFT_URLS: "http://127.0.0.1:4100,http://127.0.0.1:4101,http://127.0.0.1:4102,http://127.0.0.1:4103,http://127.0.0.1:4104" });
  });

  it("refuses another option, and a DASHBOARD_PORT that is a node's", () => {
    expect(() => readDevRaftFlags(["--dashbord"])).toThrow('unknown option "--dashbord": the one option is --dashboard');
    expect(() => planRaftDashboard({ DASHBOARD_PORT: "4001" }, planRaftDev({}))).toThrow("DASHBOARD_PORT=4001 is a node's port (4000, 4001, 4002)");
  });
});
