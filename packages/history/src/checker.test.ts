import { describe, expect, it } from "vitest";
import { checkHistory, countAnomalies } from "./checker.ts";
import type { Operation } from "./history.ts";

/** A write of `value` to o-1 by `client`, at `offset`, from `start` to `end`. */
const write = (client: string, offset: number, value: string, start: number, end: number, more: Partial<Operation> = {}): Operation => ({
  client,
  node: "leader",
  role: "leader",
  kind: "write",
  key: "o-1",
  start,
  end,
  ok: true,
  value,
  offset,
  ...more,
});
/** A read of o-1 by `client` from `node` that saw `value`, with the node's state at `offset`. */
const read = (client: string, node: string, value: string | null, offset: number, start: number, end: number, more: Partial<Operation> = {}): Operation => ({
  client,
  node,
  role: node === "leader" ? "leader" : "follower",
  kind: "read",
  key: "o-1",
  start,
  end,
  ok: true,
  value,
  offset,
  ...more,
});

const created = write("writer", 0, "PENDING", 0, 10);
const confirmed = write("writer", 1, "CONFIRMED", 20, 30);

describe("checkHistory -> a clean history", () => {
  it("finds nothing when every read shows what was acknowledged before it", () => {
    const history = [created, read("r", "f-1", "PENDING", 0, 12, 13), confirmed, read("r", "f-1", "CONFIRMED", 1, 31, 32)];
    expect(countAnomalies(checkHistory(history))).toBe(0);
  });

  it("finds nothing in an empty history", () => {
    expect(checkHistory([])).toEqual({ staleReads: [], readYourWrites: [], monotonicReads: [], lostWrites: [] });
  });
});

describe("checkHistory -> stale reads", () => {
  it("names a read older than a write acknowledged before it started, with those two operations", () => {
    const stale = read("r", "f-1", "PENDING", 0, 35, 36);
    const verdict = checkHistory([created, confirmed, stale]);
    expect(verdict.staleReads).toEqual([
      { kind: "stale-read", message: "r read o-1 PENDING (offset 0) from f-1, but o-1 CONFIRMED (offset 1) was acknowledged before the read started", operations: [confirmed, stale] },
    ]);
  });

  it("names a read that found nothing after the create was acknowledged", () => {
    const missing = read("r", "f-1", null, -1, 11, 12);
    expect(checkHistory([created, missing]).staleReads[0]?.message).toBe("r read o-1 not found from f-1, but o-1 PENDING (offset 0) was acknowledged before the read started");
  });

  it("does not count a read that started before the write was acknowledged, even if it ended after (concurrent)", () => {
    expect(countAnomalies(checkHistory([created, confirmed, read("r", "f-1", "PENDING", 0, 25, 40)]))).toBe(0);
  });

  it("does not count a read that started the instant the write ended (not strictly after)", () => {
    expect(countAnomalies(checkHistory([created, confirmed, read("r", "f-1", "PENDING", 0, 30, 31)]))).toBe(0);
  });

  it("never requires a write that failed or timed out, but accepts a read that saw it", () => {
    const timedOut = write("writer", 1, "CONFIRMED", 20, 30, { ok: false });
    expect(countAnomalies(checkHistory([created, timedOut, read("r", "f-1", "PENDING", 0, 35, 36), read("r", "f-2", "CONFIRMED", 1, 37, 38)]))).toBe(0);
  });

  it("ignores reads that got no answer (refused, timed out)", () => {
    expect(countAnomalies(checkHistory([created, confirmed, read("r", "f-1", null, -1, 35, 36, { ok: false })]))).toBe(0);
  });

  it("keeps keys apart: a write to o-2 is not required of a read of o-1", () => {
    const other = write("writer", 1, "PENDING", 20, 30, { key: "o-2" });
    expect(countAnomalies(checkHistory([created, other, read("r", "f-1", "PENDING", 0, 35, 36)]))).toBe(0);
  });

  it("goes by the value when a read recorded no offset", () => {
    const { offset: _offset, ...stale } = read("r", "f-1", "PENDING", 0, 35, 36);
    expect(checkHistory([created, confirmed, stale]).staleReads).toHaveLength(1);
  });
});

describe("checkHistory -> bounded staleness", () => {
  it("requires of a read with maxStalenessMs only the writes acknowledged more than that before it started", () => {
    const within = read("r", "f-1", "PENDING", 0, 500, 501, { maxStalenessMs: 1000 }); // the confirm (acked at 30) is 470 ms old
    const beyond = read("r", "f-1", "PENDING", 0, 1100, 1101, { maxStalenessMs: 1000 }); // now it is 1070 ms old
    const verdict = checkHistory([created, confirmed, within, beyond]);
    expect(verdict.staleReads.map((a) => a.operations[1])).toEqual([beyond]);
    expect(verdict.staleReads[0]?.message).toMatch(/acknowledged more than 1000 ms before the read started \(its maxStalenessMs\)/);
  });
});

describe("checkHistory -> read your writes", () => {
  it("names a read missing its own client's acknowledged write, and counts it as stale too", () => {
    const mine = write("me", 0, "PENDING", 0, 10);
    const miss = read("me", "f-1", null, -1, 11, 12);
    const verdict = checkHistory([mine, miss]);
    expect(verdict.readYourWrites).toEqual([{ kind: "read-your-writes", message: "me read o-1 not found from f-1 after its own write of o-1 PENDING (offset 0) was acknowledged", operations: [mine, miss] }]);
    expect(verdict.staleReads).toHaveLength(1);
  });

  it("does not name another client's stale read as a read-your-writes violation", () => {
    expect(checkHistory([write("me", 0, "PENDING", 0, 10), read("someone-else", "f-1", null, -1, 11, 12)]).readYourWrites).toEqual([]);
  });
});

describe("checkHistory -> monotonic reads", () => {
  it("names a read older than one the same client had completed, with those two reads", () => {
    const first = read("r", "f-1", "CONFIRMED", 1, 31, 32);
    const second = read("r", "f-2", "PENDING", 0, 33, 34);
    expect(checkHistory([created, confirmed, first, second]).monotonicReads).toEqual([
      { kind: "monotonic-reads", message: "r read o-1 PENDING (offset 0) from f-2 after it had read o-1 CONFIRMED (offset 1) from f-1: back in time", operations: [first, second] },
    ]);
  });

  it("does not compare two reads of the same client that overlapped", () => {
    const history = [created, confirmed, read("r", "f-1", "CONFIRMED", 1, 31, 40), read("r", "f-2", "PENDING", 0, 33, 34)];
    expect(checkHistory(history).monotonicReads).toEqual([]);
  });

  it("does not compare reads of different clients", () => {
    const history = [created, confirmed, read("a", "f-1", "CONFIRMED", 1, 31, 32), read("b", "f-2", "PENDING", 0, 33, 34)];
    expect(checkHistory(history).monotonicReads).toEqual([]);
  });

  it("compares with the newest version seen, not merely the last read", () => {
    const history = [created, confirmed, read("r", "f-1", "CONFIRMED", 1, 31, 32), read("r", "f-2", "CONFIRMED", 1, 33, 34), read("r", "f-3", "PENDING", 0, 35, 36)];
    expect(checkHistory(history).monotonicReads.map((a) => a.operations.map((op) => op.node))).toEqual([["f-1", "f-3"]]);
  });
});

describe("checkHistory -> lost writes", () => {
  it("keeps two logs apart: offset 0 of a new log is not offset 0 of the old one (a leader restarted without its log)", () => {
    const old = write("writer", 0, "PENDING", 0, 10, { logId: "aa" });
    const fresh = write("writer", 0, "PENDING", 20, 30, { key: "n-1", logId: "bb" });
    const final = read("checker", "f-1", null, 0, 40, 41, { final: true, logId: "bb" });
    expect(checkHistory([old, fresh, final]).lostWrites.map((a) => a.operations[0])).toEqual([old]);
  });

  it("keeps two leaderships apart at one offset: the old leader's unshipped confirm (offset 1, epoch 0) is not the new leader's offset 1 (epoch 1)", () => {
    const unshipped = write("writer", 1, "CONFIRMED", 20, 30, { epoch: 0 });
    const other = write("other", 1, "PENDING", 40, 50, { key: "n-1", epoch: 1 });
    const newLeader = [{ epoch: 1, start: 1 }];
    const onNewLeader = read("writer", "follower-1", "PENDING", 1, 60, 61, { role: "leader", epochs: newLeader });
    const verdict = checkHistory([{ ...created, epoch: 0 }, unshipped, other, onNewLeader]);
    expect(verdict.lostWrites).toEqual([
      {
        kind: "lost-write",
        message: "a read from the leader follower-1 by writer saw o-1 PENDING (offset 0, epoch 0), but writer's write of o-1 CONFIRMED (offset 1, epoch 0) was acknowledged before it started: the write is lost",
        operations: [unshipped, onNewLeader],
      },
    ]);
    const withoutEpochs = checkHistory([created, { ...unshipped, epoch: undefined }, { ...other, epoch: undefined }, { ...onNewLeader, epochs: undefined }]);
    expect(withoutEpochs.lostWrites, "by offsets alone, offset 1 looks applied").toEqual([]);
  });

  it("a node whose history gives the offset to the write's epoch holds it: the old leader before it rejoins", () => {
    const unshipped = write("writer", 1, "CONFIRMED", 20, 30, { epoch: 0 });
    const onOldLeader = read("writer", "leader", "CONFIRMED", 1, 40, 41, { epochs: [] });
    expect(countAnomalies(checkHistory([{ ...created, epoch: 0 }, unshipped, onOldLeader]))).toBe(0);
  });

  it("a replaced leader still answering (split brain) serves a stale read of the newer epoch's write, not a lost one", () => {
    const onNew = write("b", 1, "CONFIRMED", 20, 30, { node: "follower-1", epoch: 1 });
    const onOldLeader = read("a", "leader", "PENDING", 1, 40, 41, { epochs: [] });
    const verdict = checkHistory([{ ...created, epoch: 0 }, onNew, onOldLeader]);
    expect(verdict.lostWrites).toEqual([]);
    expect(verdict.staleReads.map((a) => a.operations)).toEqual([[onNew, onOldLeader]]);
  });

  it("names an acknowledged write a leader's later read does not show (a failover lost it)", () => {
    const lostOne = read("r", "leader-2", "PENDING", 0, 40, 41, { role: "leader" });
    const verdict = checkHistory([created, confirmed, lostOne]);
    expect(verdict.lostWrites).toEqual([
      { kind: "lost-write", message: "a read from the leader leader-2 by r saw o-1 PENDING (offset 0), but writer's write of o-1 CONFIRMED (offset 1) was acknowledged before it started: the write is lost", operations: [confirmed, lostOne] },
    ]);
    expect(verdict.staleReads, "a leader's read is not merely stale").toEqual([]);
  });

  it("names an acknowledged write missing from a final read, on any node", () => {
    const final = read("checker", "f-1", "PENDING", 0, 100, 101, { final: true });
    expect(checkHistory([created, confirmed, final]).lostWrites).toHaveLength(1);
  });

  it("does not call a write lost when the leader shows it", () => {
    expect(checkHistory([created, confirmed, read("r", "leader", "CONFIRMED", 1, 40, 41)]).lostWrites).toEqual([]);
  });
});
