import { describe, expect, it } from "vitest";
import type { Envelope } from "./messages.ts";
import { createRaftNode } from "./node.ts";
import { confirmReads } from "./read-index.ts";
import { createHarness } from "./testing/harness.ts";

/**
 * Linearizable reads without writing to the log: the read index (thesis §6.4). The leader serves
 * a read at its commitIndex only once a majority has answered a round of AppendEntries sent after
 * the read arrived: then it was still the leader when the read arrived, and no write acknowledged
 * by a newer leader can be missing from its state.
 */
describe("the read index", () => {
  it("the leader answers once a majority has answered a round sent after the read, at its commitIndex", () => {
    const h = createHarness({ nodes: 3, latencyMs: { min: 5, max: 5 } });
    const { leaderId } = h.checkSingleLeader();
    h.submitToServer(leaderId, 1);
    h.waitCommitted(1);
    const read = h.readIndex(leaderId);
    expect(h.readResult(read), "before any follower has answered").toBeUndefined();
    h.runFor(10); // one round trip
    expect(h.readResult(read)).toEqual({ id: read, ok: true, index: 2, node: leaderId, appliedThen: 2 });
  });

  it("a leader cut off from the majority never confirms a read, so it never serves the stale state", () => {
    const h = createHarness({ nodes: 5, seed: 4 });
    const old = h.checkSingleLeader();
    const majority = h.ids.filter((id) => id !== old.leaderId).slice(0, 3);
    h.partition([old.leaderId, h.ids.find((id) => id !== old.leaderId && !majority.includes(id))!], majority);
    const read = h.readIndex(old.leaderId);
    const next = h.checkSingleLeader(majority);
    h.submitToServer(next.leaderId, 1);
    h.waitCommitted(1, majority); // a write the old leader's state does not have
    expect(h.readResult(read)?.ok, "the old leader's read, while the new leader commits").not.toBe(true);
    h.waitFor("the old leader stepping down", () => (h.status(old.leaderId).role !== "leader" ? true : undefined));
    expect(h.readResult(read), "the read, once it stepped down").toMatchObject({ ok: false, leaderId: null });
  });

  it("a follower refuses, naming the leader", () => {
    const h = createHarness({ nodes: 3 });
    const { leaderId } = h.checkSingleLeader();
    h.runFor(100);
    const follower = h.ids.find((id) => id !== leaderId)!;
    expect(h.readResult(h.readIndex(follower))).toMatchObject({ ok: false, leaderId });
  });

  it("a new leader holds a read until its own no-op is committed: until then its commitIndex may be behind its predecessor's", () => {
    let now = 0;
    const node = createRaftNode<number>({ id: "n1", peers: ["n2", "n3"], clock: { now: () => now }, random: () => 0, preVote: false, persisted: { currentTerm: 1, votedFor: null, log: [{ term: 1, command: 7 }] } });
    const deliver = (m: Envelope<number>) => {
      node.receive(m);
      return node.takeReady();
    };
    now = 1_000;
    node.tick(); // election timeout: stands for term 2
    deliver({ type: "RequestVoteReply", term: 2, voteGranted: true, from: "n2", to: "n1" });
    expect(node.status()).toMatchObject({ role: "leader", currentTerm: 2, lastLogIndex: 2, commitIndex: 0 });
    node.readIndex(1);
    const appends = node.takeReady().messages.filter((m) => m.type === "AppendEntries");
    const round = Math.max(...appends.map((m) => m.round));
    // n2 answers this round, but has only index 1 (its reply for the no-op is still on its way).
    const answer = (matchIndex: number) => deliver({ type: "AppendEntriesReply", term: 2, success: true, matchIndex, conflictIndex: 0, conflictTerm: 0, round, from: "n2", to: "n1" });
    expect(answer(1).reads, "leadership confirmed, but nothing of term 2 committed").toEqual([]);
    const ready = answer(2);
    expect(node.status().commitIndex).toBe(2);
    expect(ready.reads).toEqual([{ id: 1, ok: true, index: 2 }]);
  });

  it("counts only answers to a round begun after the read", () => {
    const pending = [{ id: 1, round: 4 }];
    expect(confirmReads(pending, { groupSize: 3, peerRounds: [3, 3], committedInTerm: true }).confirmed).toEqual([]);
    expect(confirmReads(pending, { groupSize: 3, peerRounds: [4, 3], committedInTerm: true }).confirmed).toEqual(pending);
    expect(confirmReads(pending, { groupSize: 5, peerRounds: [4, 3, 3, 3], committedInTerm: true }).confirmed, "two of five").toEqual([]);
  });
});
