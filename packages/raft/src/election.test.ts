import { describe, expect, it } from "vitest";
import { decidePreVote, decideVote, randomElectionTimeout, type Voter } from "./election.ts";
import { createRaftNode } from "./node.ts";
import { createHarness } from "./testing/harness.ts";
import { seededRandom } from "./testing/seeded-random.ts";

/**
 * Elections, as eliben/raft's tests tell them (TestElectionBasic, TestElectionLeaderDisconnect,
 * ...), on the simulated group: no sleeping, time moves only when the harness runs.
 */
describe("elections in a group", () => {
  it("elects a single leader, and every node agrees on it and on its term", () => {
    const h = createHarness({ nodes: 3 });
    const { leaderId, term } = h.checkSingleLeader();
    h.runFor(500); // heartbeats keep it in place
    expect(h.checkSingleLeader()).toEqual({ leaderId, term });
    for (const id of h.ids) expect(h.status(id)).toMatchObject({ currentTerm: term, leaderId });
  });

  it("elects a new leader, in a later term, when the leader is disconnected", () => {
    const h = createHarness({ nodes: 3 });
    const first = h.checkSingleLeader();
    h.disconnectPeer(first.leaderId);
    h.runFor(350);
    const second = h.checkSingleLeader();
    expect(second.leaderId, "the new leader").not.toBe(first.leaderId);
    expect(second.term).toBeGreaterThan(first.term);
  });

  it("elects nobody without a majority, and a leader once a majority is back", () => {
    const h = createHarness({ nodes: 3 });
    const { leaderId } = h.checkSingleLeader();
    const other = h.ids.find((id) => id !== leaderId)!;
    h.disconnectPeer(leaderId);
    h.disconnectPeer(other);
    h.runFor(2_000);
    h.checkNoLeader();

    h.reconnectPeer(other);
    expect(h.checkSingleLeader().leaderId).not.toBe(leaderId);
  });

  it("keeps the new leader when the old one comes back: the old one steps down to follow it", () => {
    const h = createHarness({ nodes: 5 });
    const first = h.checkSingleLeader();
    h.disconnectPeer(first.leaderId);
    h.runFor(350);
    const second = h.checkSingleLeader();

    h.reconnectPeer(first.leaderId);
    h.runFor(150);
    expect(h.checkSingleLeader()).toEqual(second);
    expect(h.status(first.leaderId)).toMatchObject({ role: "follower", currentTerm: second.term, leaderId: second.leaderId });
    expect(h.lines.filter((l) => l.includes(`${first.leaderId}: term ${first.term}: leader steps down`)), "the old leader's step-down line").toHaveLength(1);
  });

  it("a leader cut off from the others steps down (checkQuorum), so it stops taking writes it could never commit", () => {
    const h = createHarness({ nodes: 3 });
    const { leaderId } = h.checkSingleLeader();
    h.disconnectPeer(leaderId);
    h.runFor(400);
    expect(h.status(leaderId).role).not.toBe("leader");
    expect(h.submitToServer(leaderId, 1)).toEqual({ ok: false, leaderId: null });
  });

  it("logs one line per election, vote and step-down, naming the term", () => {
    const h = createHarness({ nodes: 3 });
    const { leaderId, term } = h.checkSingleLeader();
    const said = (line: string) => h.lines.some((l) => l.includes(line));
    expect(said(`${leaderId}: term ${term}: standing for election (votedFor ${leaderId})`)).toBe(true);
    expect(said(`${leaderId}: term ${term}: won the election with votes from ${leaderId}, `)).toBe(true);
    expect(h.lines.filter((l) => l.includes(`voted for ${leaderId}`)).length, "votes for the winner").toBeGreaterThanOrEqual(1);
  });
});

describe("the runaway server (the chapter's scenario)", () => {
  /**
   * A follower is cut off for a while; the others go on committing. When it comes back, its log
   * is behind. Without pre-vote it has been standing again and again, so its term is far ahead:
   * its return forces an election, which it cannot win. With pre-vote it never stood at all.
   */
  function runAway(preVote: boolean) {
    const h = createHarness({ nodes: 3, preVote, seed: 7 });
    const first = h.checkSingleLeader();
    const runaway = h.ids.find((id) => id !== first.leaderId)!;
    h.disconnectPeer(runaway);
    for (let i = 1; i <= 5; i++) h.submitToServer(first.leaderId, i);
    h.waitCommitted(5);
    h.runFor(3_000); // about ten election timeouts, alone
    const away = h.status(runaway).currentTerm;
    h.reconnectPeer(runaway);
    h.runFor(1_000);
    return { h, first, runaway, away };
  }

  it("without pre-vote: it comes back with a higher term and forces an election, but cannot win it (§5.4.1)", () => {
    const { h, first, runaway, away } = runAway(false);
    expect(away, "its term after standing alone").toBeGreaterThan(first.term + 5);
    const after = h.checkSingleLeader();
    expect(after.term, "the term after its return").toBeGreaterThanOrEqual(away);
    expect(after.leaderId, "the leader after its return").not.toBe(runaway);
    expect(h.lines.some((l) => l.includes(`refused to vote for ${runaway}: its log`)), "a vote refused for its log").toBe(true);
    h.submitToServer(after.leaderId, 6);
    h.waitCommitted(6, h.ids);
    expect(h.commands(runaway)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("with pre-vote: it never raises its term, and the leader stays leader of the same term", () => {
    const { h, first, runaway, away } = runAway(true);
    expect(away, "its term after three seconds alone").toBe(first.term);
    expect(h.checkSingleLeader()).toEqual(first);
    expect(h.lines.some((l) => l.includes(`${runaway}: term ${first.term}: election timeout: asking for pre-votes for term ${first.term + 1}`))).toBe(true);
    expect(h.commands(runaway)).toEqual([1, 2, 3, 4, 5]);
  });

  it("with pre-vote, a node that asks the moment it is back is refused: the others still hear from the leader", () => {
    const h = createHarness({ nodes: 3, seed: 3 });
    const first = h.checkSingleLeader();
    const runaway = h.ids.find((id) => id !== first.leaderId)!;
    h.disconnectPeer(runaway);
    h.waitFor("the runaway asking for pre-votes", () => (h.status(runaway).role === "pre-candidate" ? true : undefined));
    h.runFor(h.deadline(runaway) - h.now - 1); // its election timer is about to fire again
    h.reconnectPeer(runaway);
    h.runFor(20);
    const refusals = h.lines.filter((l) => l.includes(`refused ${runaway} a pre-vote for term ${first.term + 1}: we still hear from a leader`));
    expect(refusals.map((l) => l.split(":")[0]!.split(" ").at(-1)).sort(), "who refused it").toEqual(h.ids.filter((id) => id !== runaway));
    h.runFor(100); // the next heartbeat
    expect(h.checkSingleLeader()).toEqual(first);
    expect(h.status(runaway)).toMatchObject({ role: "follower", currentTerm: first.term, leaderId: first.leaderId });
  });
});

describe("the election timer", () => {
  it("is not restarted by a newer term alone: a candidate that cannot win does not keep the others from standing", () => {
    let now = 0;
    const node = createRaftNode<number>({ id: "n1", peers: ["n2", "n3"], clock: { now: () => now }, random: () => 0.5, persisted: { currentTerm: 2, votedFor: null, log: [{ term: 2, command: 1 }] } });
    const deadline = node.nextDeadline();
    now = 100;
    node.receive({ type: "RequestVote", term: 9, candidateId: "n2", lastLogIndex: 0, lastLogTerm: 0, from: "n2", to: "n1" });
    expect(node.status()).toMatchObject({ currentTerm: 9, votedFor: null });
    expect(node.nextDeadline(), "the deadline after refusing a vote in a newer term").toBe(deadline);
    node.receive({ type: "RequestVote", term: 9, candidateId: "n3", lastLogIndex: 1, lastLogTerm: 2, from: "n3", to: "n1" });
    expect(node.nextDeadline(), "the deadline after granting a vote").toBeGreaterThan(deadline);
  });
});

describe("a voter's rules", () => {
  const voter: Voter = { currentTerm: 3, votedFor: null, lastLogIndex: 5, lastLogTerm: 2, hearsFromLeader: false };
  const asks = (lastLogIndex: number, lastLogTerm: number, term = 3) => ({ type: "RequestVote" as const, term, candidateId: "n2", lastLogIndex, lastLogTerm });

  it("grants a vote only to a log at least as up-to-date: a later last term, or the same and as long (§5.4.1)", () => {
    expect(decideVote(voter, asks(5, 2)).granted).toBe(true);
    expect(decideVote(voter, asks(1, 3)).granted, "shorter, later last term").toBe(true);
    expect(decideVote(voter, asks(4, 2)).granted, "same last term, shorter").toBe(false);
    expect(decideVote(voter, asks(9, 1)).granted, "longer, older last term").toBe(false);
  });

  it("votes once per term, and never for an older term", () => {
    expect(decideVote({ ...voter, votedFor: "n3" }, asks(9, 9))).toMatchObject({ granted: false, reason: "already voted for n3 in term 3" });
    expect(decideVote({ ...voter, votedFor: "n2" }, asks(9, 9)).granted, "the same candidate asking again").toBe(true);
    expect(decideVote(voter, asks(9, 9, 2)).granted).toBe(false);
  });

  it("grants a pre-vote only for a newer term, while it hears from no leader", () => {
    const pre = (term: number) => ({ ...asks(5, 2, term), type: "PreVote" as const });
    expect(decidePreVote(voter, pre(4)).granted).toBe(true);
    expect(decidePreVote(voter, pre(3)).granted).toBe(false);
    expect(decidePreVote({ ...voter, hearsFromLeader: true }, pre(4))).toMatchObject({ granted: false, reason: "we still hear from a leader" });
    expect(decidePreVote(voter, { ...pre(4), lastLogIndex: 4 }).granted).toBe(false);
  });

  it("draws election timeouts over the whole range", () => {
    const random = seededRandom(1);
    const drawn = Array.from({ length: 1000 }, () => randomElectionTimeout(random, { min: 150, max: 300 }));
    expect(Math.min(...drawn)).toBe(150);
    expect(Math.max(...drawn)).toBe(300);
  });
});
