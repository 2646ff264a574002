import { describe, expect, it } from "vitest";
import type { WatchedNode } from "./leadership.ts";
import { createLeaderHistory, readRaftLeader } from "./raft-group.ts";

/** Raft nodes as the dashboard sees them, cut down to what raft-group.ts reads of their /status. */
const node = (id: string, role: string, currentTerm: number, more: Record<string, unknown> = {}): WatchedNode => ({ url: `http://127.0.0.1:400${id.slice(1)}`, up: true, view: { id, role, currentTerm, disconnected: false, ...more } });
const down = (n: WatchedNode): WatchedNode => ({ ...n, up: false });

describe("readRaftLeader", () => {
  it("is the node that leads; null before any node has answered, and during an election", () => {
    expect(readRaftLeader([node("n1", "leader", 1), node("n2", "follower", 1), node("n3", "follower", 1)])).toBe(0);
    expect(readRaftLeader([{ url: "http://127.0.0.1:4000", up: false, view: null }])).toBeNull();
    expect(readRaftLeader([node("n1", "pre-candidate", 1), node("n2", "candidate", 2), node("n3", "follower", 2)])).toBeNull();
  });

  it("is the leader of the newest term when an old leader has not stepped down yet", () => {
    expect(readRaftLeader([node("n1", "leader", 1), node("n2", "leader", 2), node("n3", "follower", 2)])).toBe(1);
  });

  it("is not a leader that is cut off, nor one that does not answer: it cannot commit", () => {
    expect(readRaftLeader([node("n1", "leader", 1, { disconnected: true }), node("n2", "follower", 1)])).toBeNull();
    expect(readRaftLeader([down(node("n1", "leader", 1)), node("n2", "follower", 1)])).toBeNull();
  });
});

describe("createLeaderHistory", () => {
  it("lists each new leader or term once, newest first, with how long the group was without a leader before it", () => {
    let now = 1000;
    const history = createLeaderHistory(() => now);
    const group = [node("n1", "leader", 1), node("n2", "follower", 1), node("n3", "follower", 1)];
    history.note(group);
    history.note(group); // a heartbeat's worth of nothing: no new entry
    now = 5000;
    history.note([node("n1", "leader", 1, { disconnected: true }), ...group.slice(1)]);
    now = 5300;
    history.note([node("n1", "leader", 1, { disconnected: true }), node("n2", "candidate", 2), node("n3", "follower", 2)]);
    now = 5450;
    history.note([node("n1", "follower", 1, { disconnected: true }), node("n2", "leader", 2), node("n3", "follower", 2)]);
    expect(history.seen).toEqual([
      { term: 2, id: "n2", withoutLeaderMs: 450 },
      { term: 1, id: "n1", withoutLeaderMs: null },
    ]);
  });
});
