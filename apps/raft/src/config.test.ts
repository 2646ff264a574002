import { describe, expect, it } from "vitest";
import { groupId, readRaftConfig } from "./config.ts";

const PEERS = "n1=http://127.0.0.1:4000,n2=http://127.0.0.1:4001,n3=http://127.0.0.1:4002";

describe("a Raft node's config", () => {
  it("reads its id, the members, its URL and port, and the chapter's timeouts by default", () => {
    expect(readRaftConfig({ RAFT_ID: "n2", RAFT_PEERS: PEERS })).toEqual({
      id: "n2",
      members: [
        { id: "n1", url: "http://127.0.0.1:4000" },
        { id: "n2", url: "http://127.0.0.1:4001" },
        { id: "n3", url: "http://127.0.0.1:4002" },
      ],
      url: "http://127.0.0.1:4001",
      port: 4001,
      group: groupId(readRaftConfig({ RAFT_ID: "n1", RAFT_PEERS: PEERS }).members),
      dataDir: undefined,
      electionTimeout: { min: 150, max: 300 },
      heartbeatIntervalMs: 50,
      commitTimeoutMs: 5000,
      preVote: true,
    });
    expect(readRaftConfig({ RAFT_ID: "n2", RAFT_PEERS: PEERS, PRE_VOTE: "false" }).preVote, "PRE_VOTE=false").toBe(false);
  });

  it("gives every node of one member list the same group id, whatever the order, and another list another", () => {
    const reversed = PEERS.split(",").reverse().join(",");
    expect(readRaftConfig({ RAFT_ID: "n1", RAFT_PEERS: reversed }).group).toBe(readRaftConfig({ RAFT_ID: "n3", RAFT_PEERS: PEERS }).group);
    expect(readRaftConfig({ RAFT_ID: "n1", RAFT_PEERS: `${PEERS},n4=http://127.0.0.1:4003` }).group).not.toBe(readRaftConfig({ RAFT_ID: "n1", RAFT_PEERS: PEERS }).group);
  });

  it.each([
    [{ RAFT_PEERS: PEERS }, "RAFT_ID is required"],
    [{ RAFT_ID: "n1" }, "RAFT_PEERS is required"],
    [{ RAFT_ID: "n4", RAFT_PEERS: PEERS }, 'RAFT_ID "n4" is not one of the members in RAFT_PEERS (n1, n2, n3)'],
    [{ RAFT_ID: "n1", RAFT_PEERS: `${PEERS},n2=http://127.0.0.1:4009` }, "RAFT_PEERS names the id n2 twice"],
    [{ RAFT_ID: "n1", RAFT_PEERS: `${PEERS},n4=http://127.0.0.1:4002` }, "RAFT_PEERS names the URL http://127.0.0.1:4002 twice"],
    [{ RAFT_ID: "n1", RAFT_PEERS: "n1=http://127.0.0.1:4000,n2" }, 'RAFT_PEERS: "n2" is not id=url'],
    [{ RAFT_ID: "n1", RAFT_PEERS: "n1=http://10.0.0.5:4000" }, "must be a loopback base URL with a port"],
    [{ RAFT_ID: "n1", RAFT_PEERS: "n1=http://127.0.0.1:4000/raft" }, "must be a loopback base URL with a port"],
    [{ RAFT_ID: "n1", RAFT_PEERS: PEERS, PORT: "5000" }, "PORT=5000 disagrees with RAFT_PEERS, which says n1 is at http://127.0.0.1:4000"],
    [{ RAFT_ID: "n1", RAFT_PEERS: PEERS, ELECTION_TIMEOUT_MIN_MS: "400", ELECTION_TIMEOUT_MAX_MS: "300" }, "ELECTION_TIMEOUT_MAX_MS (300) must be at least ELECTION_TIMEOUT_MIN_MS (400)"],
    [{ RAFT_ID: "n1", RAFT_PEERS: PEERS, HEARTBEAT_MS: "200" }, "HEARTBEAT_MS (200) must be below ELECTION_TIMEOUT_MIN_MS (150)"],
    [{ RAFT_ID: "n1", RAFT_PEERS: PEERS, PRE_VOTE: "no" }, 'PRE_VOTE must be "true" or "false", got "no"'],
  ])("refuses %j with a message", (env, message) => {
    expect(() => readRaftConfig(env)).toThrow(message);
  });
});
