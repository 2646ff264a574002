import { describe, expect, it } from "vitest";
import { readLeadership, type WatchedNode } from "./leadership.ts";

/**
 * Who leads, read from the nodes' own views, in the situations a failover goes through. The
 * views are cut down to the fields readLeadership reads (role, epoch, url, status).
 */
const A = "http://localhost:3000";
const B = "http://localhost:3001";
const C = "http://localhost:3002";

const leader = (url: string, epoch: number, more: Record<string, unknown> = {}): WatchedNode => ({ url, up: true, view: { role: "leader", epoch, url: url.replace("localhost", "127.0.0.1"), status: { role: "leader", epoch, ...more } } });
const follower = (url: string, epoch: number, upstream: string, writesTo: string | null = upstream): WatchedNode => ({ url, up: true, view: { role: "follower", epoch, url, status: { role: "follower", epoch, leaderUrl: upstream, writesTo } } });
const down = (n: WatchedNode): WatchedNode => ({ ...n, up: false });

describe("readLeadership -> before any node has answered", () => {
  it("takes the first node for the leader and the others for its followers, as they were started", () => {
    const got = readLeadership([A, B].map((url) => ({ url, up: false, view: null })));
    expect(got).toEqual({
      leader: 0,
      claiming: [],
      nodes: [
        { role: "leader", epoch: null, writesTo: 0, against: 0, rejoin: false },
        { role: "follower", epoch: null, writesTo: null, against: 0, rejoin: false },
      ],
    });
  });
});

describe("readLeadership -> the chapter's cluster", () => {
  it("has one leader, and draws a follower of a follower against the leader at the top of its chain", () => {
    const got = readLeadership([leader(A, 0), follower(B, 0, A), follower(C, 0, B, A)]);
    expect(got.leader).toBe(0);
    expect(got.claiming).toEqual([0]);
    expect(got.nodes.map((n) => [n.writesTo, n.against, n.rejoin])).toEqual([
      [0, 0, false],
      [0, 0, false],
      [0, 0, false],
    ]);
  });
});

describe("readLeadership -> a failover", () => {
  it("keeps a leader that stopped answering as the leader until another is promoted", () => {
    expect(readLeadership([down(leader(A, 0)), follower(B, 0, A), follower(C, 0, A)]).leader).toBe(0);
  });

  it("takes the promoted follower for the leader; a follower still pointed at the old one is drawn against it, and may follow the new one", () => {
    const got = readLeadership([down(leader(A, 0)), leader(B, 1), follower(C, 0, A)]);
    expect(got.leader).toBe(1);
    expect(got.claiming, "the old leader does not answer: no split brain seen").toEqual([1]);
    expect(got.nodes[2]).toMatchObject({ writesTo: 0, against: 0, rejoin: true });
    expect(got.nodes[0], "a node that does not answer is offered nothing").toMatchObject({ role: "leader", rejoin: false });
  });

  it("sees two leaders when the old one comes back untold, and offers it to follow the newer", () => {
    const got = readLeadership([leader(A, 0), leader(B, 1), follower(C, 1, B)]);
    expect(got.leader, "the highest epoch").toBe(1);
    expect(got.claiming).toEqual([1, 0]);
    expect(got.nodes.map((n) => n.rejoin)).toEqual([true, false, false]);
    expect(got.nodes[2]).toMatchObject({ writesTo: 1, against: 1 });
  });

  it("does not count a fenced leader as a leader, and says where it sends writes", () => {
    const got = readLeadership([leader(A, 0, { fencedBy: { epoch: 1, leaderUrl: "http://127.0.0.1:3001" } }), leader(B, 1), follower(C, 1, B)]);
    expect(got.leader).toBe(1);
    expect(got.claiming).toEqual([1]);
    expect(got.nodes[0]).toMatchObject({ role: "leader", writesTo: 1, against: 0, rejoin: true });
  });

  it("is done once the old leader follows the new one", () => {
    const got = readLeadership([follower(A, 1, B), leader(B, 1), follower(C, 1, B)]);
    expect(got).toMatchObject({ leader: 1, claiming: [1] });
    expect(got.nodes.map((n) => n.rejoin)).toEqual([false, false, false]);
  });

  it("on two leaders of the same epoch (two followers promoted), takes the first listed, and sees both", () => {
    const got = readLeadership([down(leader(A, 0)), leader(B, 1), leader(C, 1)]);
    expect(got).toMatchObject({ leader: 1, claiming: [1, 2] });
  });

  it("has no leader when every node follows", () => {
    const got = readLeadership([follower(A, 1, B), follower(B, 1, A)]);
    expect(got.leader).toBeNull();
    expect(got.nodes.map((n) => n.rejoin)).toEqual([false, false]);
  });
});
