import { describe, expect, it } from "vitest";
import type { AppendEntries, AppendEntriesReply } from "./messages.ts";
import { createRaftNode } from "./node.ts";
import { createHarness, type Harness } from "./testing/harness.ts";

/** Every AppendEntries and reply delivered to or from `id` from now on. */
function watchAppends(h: Harness, id: string) {
  const requests: AppendEntries<number>[] = [];
  const failures: AppendEntriesReply[] = [];
  h.network.watch((m) => {
    if (m.type === "AppendEntries" && m.to === id) requests.push(m);
    if (m.type === "AppendEntriesReply" && m.from === id && !m.success) failures.push(m);
  });
  return { requests, failures };
}

/**
 * Log replication (the chapter's part 2): commands submitted to the leader, AppendEntries with
 * its consistency check, commitIndex on a majority, lastApplied; told as stories on the harness.
 */
describe("log replication", () => {
  it("commits a command on every node, at the same index, after the leader's no-op", () => {
    const h = createHarness({ nodes: 3 });
    const { leaderId, term } = h.checkSingleLeader();
    expect(h.submitToServer(leaderId, 42)).toEqual({ ok: true, index: 2, term });
    expect(h.waitCommitted(42)).toEqual({ count: 3, index: 2 });
    expect(h.applied(leaderId)[0]).toEqual({ index: 1, term, noop: true });
  });

  it("tells every follower the new commitIndex right after, not at the next heartbeat (the chapter's two round trips)", () => {
    const h = createHarness({ nodes: 5, heartbeatIntervalMs: 1_000, electionTimeout: { min: 1_500, max: 2_000 } });
    const { leaderId } = h.checkSingleLeader();
    h.runFor(1_100); // the no-op committed everywhere with the first heartbeat
    h.submitToServer(leaderId, 42);
    h.runFor(20); // two round trips of at most 10 ms, far from the next heartbeat
    h.checkCommitted(42, h.ids);
  });

  it("refuses a command on a follower, naming the leader", () => {
    const h = createHarness({ nodes: 3 });
    const { leaderId } = h.checkSingleLeader();
    h.runFor(100); // its first heartbeats: everyone knows it
    const follower = h.ids.find((id) => id !== leaderId)!;
    expect(h.submitToServer(follower, 42)).toEqual({ ok: false, leaderId });
    h.runFor(300);
    h.checkNotCommitted(42);
  });

  it("commits many commands in the order they were submitted", () => {
    const h = createHarness({ nodes: 5 });
    const { leaderId } = h.checkSingleLeader();
    for (let c = 1; c <= 50; c++) h.submitToServer(leaderId, c);
    h.waitCommitted(50);
    for (const id of h.ids) expect(h.commands(id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it("shows nextIndex and matchIndex on the leader, and commitIndex and lastApplied everywhere", () => {
    const h = createHarness({ nodes: 3 });
    const { leaderId } = h.checkSingleLeader();
    h.runFor(100); // everyone has committed the leader's no-op
    const [behind, upToDate] = h.ids.filter((id) => id !== leaderId);
    h.disconnectPeer(behind!);
    for (let c = 1; c <= 3; c++) h.submitToServer(leaderId, c);
    h.waitCommitted(3, [leaderId, upToDate!]);
    h.runFor(100);
    expect(h.status(leaderId)).toMatchObject({ role: "leader", lastLogIndex: 4, commitIndex: 4, lastApplied: 4 });
    expect(h.status(leaderId).peers).toEqual(expect.arrayContaining([{ id: upToDate, nextIndex: 5, matchIndex: 4 }]));
    expect(h.status(leaderId).peers!.find((p) => p.id === behind)!.matchIndex, "the disconnected follower's matchIndex").toBeLessThan(4);
    expect(h.status(behind!)).toMatchObject({ commitIndex: 1, lastApplied: 1 });
  });

  it("commits despite lost, duplicated and reordered messages", () => {
    const h = createHarness({ nodes: 3, latencyMs: { min: 1, max: 40 } });
    const { leaderId } = h.checkSingleLeader();
    h.network.dropRate = 0.3;
    h.network.duplicateRate = 0.3;
    for (let c = 1; c <= 30; c++) h.submitToServer(leaderId, c);
    h.network.dropRate = 0;
    const leader = h.checkSingleLeader().leaderId;
    h.submitToServer(leader, 31);
    h.waitCommitted(31, h.ids);
    const commands = h.commands(leader);
    expect(commands, "applied in order, each once").toEqual([...commands].sort((a, b) => a - b));
    expect(new Set(commands).size).toBe(commands.length);
  });

  it("batches: a follower back from a disconnection catches up 300 entries in a few AppendEntries", () => {
    const h = createHarness({ nodes: 3, maxEntriesPerAppend: 100 });
    const { leaderId } = h.checkSingleLeader();
    const behind = h.ids.find((id) => id !== leaderId)!;
    h.disconnectPeer(behind);
    for (let c = 1; c <= 300; c++) h.submitToServer(leaderId, c);
    h.waitCommitted(300, h.ids.filter((id) => id !== behind));
    const { requests } = watchAppends(h, behind);
    h.reconnectPeer(behind);
    h.waitCommitted(300, h.ids);
    const carrying = requests.filter((r) => r.entries.length > 0);
    expect(carrying.length, `AppendEntries with entries, of sizes ${carrying.map((r) => r.entries.length).join(", ")}`).toBeLessThanOrEqual(5);
    expect(Math.max(...carrying.map((r) => r.entries.length))).toBe(100);
  });

  it("batches the commands submitted while an AppendEntries is on its way into the next one", () => {
    const h = createHarness({ nodes: 3, latencyMs: { min: 5, max: 5 } });
    const { leaderId } = h.checkSingleLeader();
    const follower = h.ids.find((id) => id !== leaderId)!;
    h.runFor(100);
    const { requests } = watchAppends(h, follower);
    for (let c = 1; c <= 100; c++) {
      h.submitToServer(leaderId, c);
      h.runFor(1); // a command a millisecond: ten per round trip
    }
    h.waitCommitted(100, h.ids);
    const carrying = requests.filter((r) => r.entries.length > 0);
    const sizes = `AppendEntries with entries, of sizes ${carrying.map((r) => r.entries.length).join(", ")}`;
    expect(carrying.length, sizes).toBeLessThanOrEqual(15);
    expect(carrying.reduce((sum, r) => sum + r.entries.length, 0), `${sizes}: each entry sent once (heartbeats send none while a batch is on its way)`).toBe(100);
  });
});

describe("log repair", () => {
  it("replaces a follower's conflicting suffix with the leader's, skipping a whole term per failed check (the conflict hint)", () => {
    const h = createHarness({ nodes: 5, seed: 5 });
    const first = h.checkSingleLeader();
    h.submitToServer(first.leaderId, 1);
    h.waitCommitted(1);
    // Cut off, the leader takes 40 commands that nobody else will ever have: indexes 3 to 42.
    h.disconnectPeer(first.leaderId);
    for (let c = 100; c < 140; c++) h.submitToServer(first.leaderId, c);
    const others = h.ids.filter((id) => id !== first.leaderId);
    const second = h.checkSingleLeader(others);
    for (let c = 2; c <= 21; c++) h.submitToServer(second.leaderId, c);
    h.waitCommitted(21, others);
    // The second leader crashes; a third, whose log goes past where the first one's stopped agreeing, takes over.
    h.crashPeer(second.leaderId);
    const third = h.checkSingleLeader(others.filter((id) => id !== second.leaderId));
    expect(h.savedLog(first.leaderId).slice(2).map((e) => e.term), "the first leader's suffix").toEqual(Array(40).fill(first.term));

    const { failures } = watchAppends(h, first.leaderId);
    h.reconnectPeer(first.leaderId);
    h.submitToServer(third.leaderId, 22);
    const running = h.ids.filter((id) => id !== second.leaderId);
    h.waitCommitted(22, running);
    expect(h.savedLog(first.leaderId), "the first leader's log, repaired").toEqual(h.savedLog(third.leaderId));
    expect(h.commands(first.leaderId)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
    for (let c = 100; c < 140; c++) h.checkNotCommitted(c);
    // One step back per entry would have taken 21 (third's log ends at 24, agreement at 2).
    expect(failures.map((f) => [f.conflictIndex, f.conflictTerm]), "failed consistency checks before the logs matched").toEqual([[1, first.term]]);
  });

  it("a minority's leader cannot commit; its entries are dropped when the partition heals", () => {
    const h = createHarness({ nodes: 5, seed: 2 });
    const old = h.checkSingleLeader();
    const minority = [old.leaderId, h.ids.find((id) => id !== old.leaderId)!];
    const majority = h.ids.filter((id) => !minority.includes(id));
    h.partition(minority, majority);
    expect(h.submitToServer(old.leaderId, 1)).toMatchObject({ ok: true, term: old.term });
    h.runFor(1_000);
    h.checkNotCommitted(1);
    expect(h.status(old.leaderId).commitIndex, "the minority leader's commitIndex").toBe(1);
    expect(h.submitToServer(old.leaderId, 2), "after checkQuorum").toMatchObject({ ok: false });

    const next = h.checkSingleLeader(majority);
    h.submitToServer(next.leaderId, 3);
    h.waitCommitted(3, majority);
    h.heal();
    h.waitCommitted(3, h.ids);
    h.checkNotCommitted(1);
    for (const id of h.ids) expect(h.commands(id)).toEqual([3]);
  });
});

describe("a follower's commitIndex", () => {
  it("moves to leaderCommit only as far as this request proved its log matches: the rest may be another leader's", () => {
    // n1 holds an entry of term 2 at index 3 that the leader of term 3 never had.
    const node = createRaftNode<number>({ id: "n1", peers: ["n2", "n3"], clock: { now: () => 0 }, random: () => 0, persisted: { currentTerm: 3, votedFor: null, log: [{ term: 1, command: 1 }, { term: 1, command: 2 }, { term: 2, command: 99 }] } });
    node.receive({ type: "AppendEntries", term: 3, leaderId: "n2", prevLogIndex: 2, prevLogTerm: 1, entries: [], leaderCommit: 3, round: 1, from: "n2", to: "n1" });
    expect(node.status().commitIndex).toBe(2);
    expect(node.takeReady().committed.map((e) => e.index)).toEqual([1, 2]);
  });
});
