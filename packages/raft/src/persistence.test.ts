import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openFileStorage } from "./file-storage.ts";
import { createRaftNode } from "./node.ts";
import { createHarness } from "./testing/harness.ts";
import { pick, seededRandom } from "./testing/seeded-random.ts";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * Crashes and restarts (the chapter's part 3): a node keeps currentTerm, votedFor and its log in
 * storage, and a restart begins from them as a follower that has applied nothing: it applies its
 * log again as it learns the commitIndex.
 */
describe("crashes and restarts", () => {
  it("a follower that crashes catches up when it restarts, applying everything again from index 1", () => {
    const h = createHarness({ nodes: 3 });
    const { leaderId } = h.checkSingleLeader();
    const follower = h.ids.find((id) => id !== leaderId)!;
    h.submitToServer(leaderId, 1);
    h.waitCommitted(1, h.ids);
    h.crashPeer(follower);
    for (const c of [2, 3]) h.submitToServer(leaderId, c);
    h.waitCommitted(3, h.alive());
    h.restartPeer(follower);
    expect(h.status(follower)).toMatchObject({ role: "follower", lastLogIndex: 2, commitIndex: 0, lastApplied: 0 });
    h.waitCommitted(3, h.ids);
    expect(h.commands(follower)).toEqual([1, 2, 3]);
  });

  it("the leader crashes: a new one is elected with every committed entry, and the old one rejoins as a follower", () => {
    const h = createHarness({ nodes: 3 });
    const first = h.checkSingleLeader();
    for (const c of [1, 2, 3]) h.submitToServer(first.leaderId, c);
    h.waitCommitted(3, h.ids);
    h.crashPeer(first.leaderId);
    const second = h.checkSingleLeader();
    expect(second.term).toBeGreaterThan(first.term);
    h.submitToServer(second.leaderId, 4);
    h.restartPeer(first.leaderId);
    h.waitCommitted(4, h.ids);
    expect(h.commands(first.leaderId)).toEqual([1, 2, 3, 4]);
  });

  it("every node crashes at once: after they restart, every committed entry is applied again everywhere", () => {
    const h = createHarness({ nodes: 3 });
    const { leaderId } = h.checkSingleLeader();
    for (const c of [1, 2, 3]) h.submitToServer(leaderId, c);
    h.waitCommitted(3, h.ids);
    for (const id of h.ids) h.crashPeer(id);
    h.runFor(1_000);
    for (const id of h.ids) h.restartPeer(id);
    h.checkSingleLeader();
    h.waitCommitted(3, h.ids);
  });

  it("a command the leader accepted and crashed before sending is never acknowledged; the group goes on without it", () => {
    const h = createHarness({ nodes: 3 });
    const { leaderId } = h.checkSingleLeader();
    h.runFor(100);
    h.crashAtNextReady(leaderId);
    expect(h.submitToServer(leaderId, 1)).toMatchObject({ ok: true });
    expect(h.isAlive(leaderId)).toBe(false);
    const next = h.checkSingleLeader();
    h.submitToServer(next.leaderId, 2);
    h.restartPeer(leaderId);
    h.waitCommitted(2, h.ids);
    h.checkNotCommitted(1);
    expect(h.acknowledged().map((p) => p.command)).toEqual([2]);
  });

  it("a restarted node keeps its vote: it refuses a second candidate in the term it voted in", () => {
    const node = createRaftNode<number>({ id: "n1", peers: ["n2", "n3"], persisted: { currentTerm: 5, votedFor: "n2", log: [] }, clock: { now: () => 0 }, random: () => 0 });
    node.receive({ type: "RequestVote", term: 5, candidateId: "n3", lastLogIndex: 9, lastLogTerm: 4, from: "n3", to: "n1" });
    expect(node.takeReady().messages).toEqual([{ type: "RequestVoteReply", term: 5, voteGranted: false, from: "n1", to: "n3" }]);
  });

  it("saves a vote before the reply that grants it goes out, in a new term or in its current one", () => {
    const node = createRaftNode<number>({ id: "n1", peers: ["n2", "n3"], clock: { now: () => 0 }, random: () => 0 });
    node.receive({ type: "RequestVote", term: 1, candidateId: "n2", lastLogIndex: 0, lastLogTerm: 0, from: "n2", to: "n1" });
    const ready = node.takeReady();
    expect(ready.hardState).toEqual({ currentTerm: 1, votedFor: "n2" });
    expect(ready.messages).toEqual([{ type: "RequestVoteReply", term: 1, voteGranted: true, from: "n1", to: "n2" }]);

    const other = createRaftNode<number>({ id: "n1", peers: ["n2", "n3"], persisted: { currentTerm: 4, votedFor: null, log: [] }, clock: { now: () => 0 }, random: () => 0 });
    other.receive({ type: "RequestVote", term: 4, candidateId: "n3", lastLogIndex: 0, lastLogTerm: 0, from: "n3", to: "n1" });
    expect(other.takeReady().hardState).toEqual({ currentTerm: 4, votedFor: "n3" });
  });
});

describe("no committed entry is lost across leader crashes while a majority is up", () => {
  it.each([1, 2, 3, 4])("five nodes, twelve leaders crashed one after another, at random (seed %i)", (seed) => {
    const h = createHarness({ nodes: 5, seed });
    const random = seededRandom(seed * 31);
    let command = 0;
    for (let round = 0; round < 12; round++) {
      const { leaderId } = h.checkSingleLeader();
      const batch = range(command + 1, command + 1 + Math.floor(random() * 4));
      for (const c of batch) h.submitToServer(leaderId, c);
      command = batch.at(-1)!;
      h.waitCommitted(command, h.alive());
      h.crashPeer(leaderId);
      // At most two of five down: restart one of the others first if two already are.
      const down = h.ids.filter((id) => !h.isAlive(id) && id !== leaderId);
      if (down.length >= 2 || (down.length === 1 && random() < 0.5)) h.restartPeer(pick(random, down));
    }
    for (const id of h.ids.filter((id) => !h.isAlive(id))) h.restartPeer(id);
    const { leaderId } = h.checkSingleLeader();
    h.submitToServer(leaderId, command + 1);
    h.waitCommitted(command + 1, h.ids);
    for (const id of h.ids) expect(h.commands(id), `commands on ${id}`).toEqual(range(1, command + 1));
  });
});

describe("a group on disk", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("every node crashes and restarts from its DATA_DIR, several times, and keeps every committed entry", () => {
    const root = mkdtempSync(join(tmpdir(), "raft-group-"));
    dirs.push(root);
    const h = createHarness<number>({ nodes: 3, openStorage: (id) => openFileStorage<number>({ dir: join(root, id), groupId: "g", nodeId: id }) });
    try {
      for (let c = 1; c <= 30; c++) {
        h.submitToServer(h.checkSingleLeader().leaderId, c);
        if (c % 10 === 0) {
          h.waitCommitted(c, h.ids);
          for (const id of h.ids) h.crashPeer(id);
          for (const id of h.ids) h.restartPeer(id);
        }
      }
      h.submitToServer(h.checkSingleLeader().leaderId, 31);
      h.waitCommitted(31, h.ids);
      for (const id of h.ids) expect(h.commands(id)).toEqual(range(1, 31));
    } finally {
      h.shutdown();
    }
  });
});
