import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { createMemoryLog, type LogEntry } from "./log.ts";
import { createReplica } from "./replica.ts";
import { flushPromises, manualClock } from "./testing.ts";

type Ev = { n: number };

/** Entries `from`, `from + 1`, ... `to - 1`. */
function entries(from: number, to: number): LogEntry<Ev>[] {
  return Array.from({ length: to - from }, (_, i) => ({ offset: from + i, n: (from + i) * 7 }));
}

/** A replica that records the offsets it applies; `failAt` makes `apply` throw on that offset. */
function replicaWith(applyLagMs: number, failAt?: number) {
  const applied: number[] = [];
  const log = createMemoryLog<Ev>();
  const replica = createReplica<Ev>({
    log,
    applyLagMs,
    apply: (e) => {
      if (e.offset === failAt) throw new Error(`cannot apply offset ${e.offset}`);
      applied.push(e.offset);
    },
  });
  return { replica, applied, log };
}

/** Whether `p` has settled once every queued callback has run. */
async function hasSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(() => (settled = true));
  await flushPromises();
  return settled;
}

describe("createReplica -> receiving batches", () => {
  it("applies strictly in offset order across batches", () => {
    const { replica, applied } = replicaWith(0);
    expect(replica.receive(entries(0, 2), 0)).toEqual({ accepted: 2, duplicates: 0 });
    expect(replica.receive(entries(2, 4), 0)).toEqual({ accepted: 2, duplicates: 0 });
    expect(replica.applyDue(0), "events applied").toBe(4);
    expect(applied, "apply order").toEqual([0, 1, 2, 3]);
    expect(replica.appliedOffset).toBe(3);
    expect(replica.nextFrom).toBe(4);
  });

  it("drops entries below nextFrom as duplicates and counts them", () => {
    const { replica, applied } = replicaWith(0);
    replica.receive(entries(0, 3), 0);
    expect(replica.receive(entries(1, 4), 0), "a batch overlapping what was received").toEqual({ accepted: 1, duplicates: 2 });
    expect(replica.pending, "queued once each").toBe(4);
    replica.applyDue(0);
    expect(applied, "each offset applied once").toEqual([0, 1, 2, 3]);
  });

  it("stops at a gap, reports it, queues nothing after it, and continues once the missing offset arrives", () => {
    const { replica, applied } = replicaWith(0);
    expect(replica.receive([...entries(0, 2), ...entries(3, 5)], 0)).toEqual({ accepted: 2, duplicates: 0, gap: { want: 2, got: 3 } });
    expect(replica.nextFrom, "nextFrom stays at the missing offset").toBe(2);
    expect(replica.pending, "nothing after the gap is queued").toBe(2);
    replica.applyDue(1_000_000);
    expect(applied, "applied before the missing offset arrives").toEqual([0, 1]);

    expect(replica.receive(entries(2, 5), 0)).toEqual({ accepted: 3, duplicates: 0 });
    replica.applyDue(1_000_000);
    expect(applied, "applied after the missing offset arrives").toEqual([0, 1, 2, 3, 4]);
  });

  it("reports a gap at the very start", () => {
    const { replica } = replicaWith(0);
    expect(replica.receive(entries(1, 3), 0)).toEqual({ accepted: 0, duplicates: 0, gap: { want: 0, got: 1 } });
    expect(replica.pending).toBe(0);
  });
});

describe("createReplica -> apply lag", () => {
  it("applies an event applyLagMs after it was received, not a millisecond earlier", () => {
    const { replica } = replicaWith(1500);
    replica.receive(entries(0, 1), 0);
    expect(replica.nextDueAt()).toBe(1500);
    expect(replica.applyDue(1499), "applied at t=1499").toBe(0);
    expect(replica.appliedOffset).toBe(-1);
    expect(replica.applyDue(1500), "applied at t=1500").toBe(1);
    expect(replica.appliedOffset).toBe(0);
  });

  it("accumulates: five events received together each wait for the one before", () => {
    const { replica } = replicaWith(400);
    replica.receive(entries(0, 5), 0);
    for (let k = 1; k <= 5; k++) {
      replica.applyDue(400 * k - 1);
      expect(replica.appliedOffset, `applied offset at t=${400 * k - 1}`).toBe(k - 2);
      replica.applyDue(400 * k);
      expect(replica.appliedOffset, `applied offset at t=${400 * k}`).toBe(k - 1);
    }
    expect(replica.pending).toBe(0);
    expect(replica.nextDueAt(), "nothing left to apply").toBeUndefined();
  });

  it("makes an event received after the previous one was applied wait its own full lag from receipt", () => {
    const { replica } = replicaWith(400);
    replica.receive(entries(0, 1), 0);
    replica.applyDue(400);
    replica.receive(entries(1, 2), 1000);
    expect(replica.nextDueAt()).toBe(1400);
    expect(replica.applyDue(1399), "applied at t=1399").toBe(0);
    expect(replica.applyDue(1400), "applied at t=1400").toBe(1);
  });

  it("with applyLagMs=0 applies a batch of 1000 in one applyDue", () => {
    const { replica, applied } = replicaWith(0);
    replica.receive(entries(0, 1000), 0);
    expect(replica.applyDue(0)).toBe(1000);
    expect(replica.appliedOffset).toBe(999);
    expect(replica.pending).toBe(0);
    expect(applied).toEqual(entries(0, 1000).map((e) => e.offset));
  });

  it("keeps a long backlog in order when the queue is compacted", () => {
    const { replica, applied } = replicaWith(1);
    replica.receive(entries(0, 2000), 0);
    expect(replica.applyDue(1100), "due by t=1100").toBe(1100);
    expect(replica.pending).toBe(900);
    expect(replica.oldestPending?.offset).toBe(1100);
    expect(replica.applyDue(2000), "due by t=2000").toBe(900);
    expect(applied).toEqual(entries(0, 2000).map((e) => e.offset));
  });
});

describe("createReplica -> apply throws", () => {
  it("stops applying and keeps the entry pending", () => {
    const { replica, applied } = replicaWith(0, 1);
    replica.receive(entries(0, 3), 0);
    expect(replica.applyDue(0), "applied before the failure").toBe(1);
    expect(replica.failure?.message).toBe("cannot apply offset 1");
    expect(replica.appliedOffset, "appliedOffset stays at the last success").toBe(0);
    expect(replica.nextDueAt(), "nothing is due once applying stopped").toBeUndefined();
    expect(replica.pending, "the failed entry and the one after stay pending").toBe(2);
    expect(replica.oldestPending?.offset).toBe(1);
    expect(replica.applyDue(1_000_000), "a later applyDue applies nothing").toBe(0);
    expect(applied).toEqual([0]);
  });
});

describe("createReplica -> reset", () => {
  it("applies nothing while its log is being replaced: the log is the new history before the position moves", async () => {
    const { replica, log } = replicaWith(1000);
    await replica.reset({ logId: "0123456789abcdef", nextOffset: 0 });
    replica.receive(entries(0, 3), 0);
    replica.applyDue(1000); // offset 0 applied; 1 and 2 wait
    // The apply loop wakes when the log's head moves, which a reset does before the position moves.
    const seenDuringReset: (string | undefined)[] = [];
    const unsubscribe = log.subscribe(() => {
      replica.applyDue(1_000_000);
      seenDuringReset.push(replica.failure?.message);
    });
    await replica.reset({ logId: "fedcba9876543210", nextOffset: 10 });
    unsubscribe();
    expect(seenDuringReset, "no failure from reading the old position in the new log").toEqual([undefined]);
    expect([replica.appliedNext, replica.nextFrom, replica.failure]).toEqual([10, 10, undefined]);
  });
});

describe("createReplica -> waiting", () => {
  const never = new Promise<void>(() => {});

  it("waitForApplied resolves true once the offset is applied, not before", async () => {
    const { replica } = replicaWith(0);
    const waiting = replica.waitForApplied(2, never);
    replica.receive(entries(0, 2), 0);
    replica.applyDue(0);
    expect(await hasSettled(waiting), "resolved after offsets 0-1 only").toBe(false);
    replica.receive(entries(2, 3), 0);
    replica.applyDue(0);
    expect(await waiting).toBe(true);
  });

  it("waitForApplied resolves true at once for an offset already applied", async () => {
    const { replica } = replicaWith(0);
    replica.receive(entries(0, 3), 0);
    replica.applyDue(0);
    expect(await replica.waitForApplied(1, never)).toBe(true);
  });

  it("waitForApplied resolves false when the timeout settles first", async () => {
    const clock = manualClock();
    const { replica } = replicaWith(1000);
    replica.receive(entries(0, 1), 0);
    const waiting = replica.waitForApplied(0, clock.sleep(500));
    expect(await hasSettled(waiting), "settled before the timeout").toBe(false);
    clock.advance(500);
    expect(await waiting).toBe(false);
  });

  it("whenReceived resolves when something new is received, not on duplicates", async () => {
    const { replica } = replicaWith(0);
    replica.receive(entries(0, 1), 0);
    const received = replica.whenReceived();
    replica.receive(entries(0, 1), 0);
    expect(await hasSettled(received), "woken by a duplicate").toBe(false);
    replica.receive(entries(1, 2), 0);
    expect(await hasSettled(received), "woken by a new entry").toBe(true);
  });

  it("whenReceived resolves when its signal aborts", async () => {
    const { replica } = replicaWith(0);
    const stop = new AbortController();
    const received = replica.whenReceived(stop.signal);
    stop.abort();
    expect(await hasSettled(received)).toBe(true);
  });

  it("whenReceived leaves no abort listener behind on a signal that outlives many waits", async () => {
    const { replica } = replicaWith(0);
    const stop = new AbortController();
    for (let i = 0; i < 20; i++) {
      const received = replica.whenReceived(stop.signal);
      replica.receive(entries(i, i + 1), 0);
      await received;
    }
    expect(getEventListeners(stop.signal, "abort"), "abort listeners left after 20 waits").toHaveLength(0);
  });
});
