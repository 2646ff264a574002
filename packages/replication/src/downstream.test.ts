import { describe, expect, it } from "vitest";
import { createDownstream } from "./downstream.ts";
import { createMemoryLog } from "./log.ts";
import { manualClock } from "./testing.ts";

const TIMEOUT_MS = 3000;

/** A node's log with `events` appended, one every 10 ms, and its view of its followers. */
function nodeWith(events: number) {
  const clock = manualClock(1000);
  const log = createMemoryLog<{ n: number }>({ logId: "aa" });
  const downstream = createDownstream({ log, clock, timeoutMs: TIMEOUT_MS });
  for (let n = 0; n < events; n++) {
    log.append({ n });
    clock.advance(10);
  }
  const row = (id: string) => downstream.list().find((r) => r.id === id);
  return { clock, log, downstream, row };
}

describe("downstream -> positions", () => {
  it("knows nothing of a follower before it is heard from", () => {
    const { downstream } = nodeWith(3);
    expect(downstream.list()).toEqual([]);
  });

  it("takes received and applied from a fetch (every offset below them), shown as the last offsets", () => {
    const { downstream, row } = nodeWith(5);
    downstream.fetchArrived("f-1", { logId: "aa", received: 4, applied: 2 }).done(false);
    expect(row("f-1")).toMatchObject({ via: null, receivedOffset: 3, appliedOffset: 1, lag: { events: 3 } });
  });

  it("shows null positions for a new follower (nothing received) and for one following another log", () => {
    const { downstream, row } = nodeWith(5);
    downstream.fetchArrived("new", { logId: "aa", received: 0, applied: 0 }).done(false);
    downstream.fetchArrived("other", { logId: "bb", received: 4, applied: 4 }).done(false);
    expect(row("new")).toMatchObject({ receivedOffset: null, appliedOffset: null, lag: { events: 5 } });
    expect(row("other")).toMatchObject({ receivedOffset: null, appliedOffset: null, lag: { events: null, ms: null } });
  });

  it("never moves a position back when an ack and a fetch cross on the wire", () => {
    const { downstream, row } = nodeWith(5);
    downstream.ackArrived("f-1", { logId: "aa", received: 5, applied: 5 });
    downstream.fetchArrived("f-1", { logId: "aa", received: 5, applied: 3 }).done(true);
    expect(row("f-1")).toMatchObject({ appliedOffset: 4 });
  });

  it("measures lag in ms from when the first unapplied offset became readable here", () => {
    const { clock, downstream, row } = nodeWith(5); // offset k became readable at 1000 + 10k
    clock.advance(500); // now 1550
    downstream.fetchArrived("f-1", { logId: "aa", received: 5, applied: 2 }).done(true);
    expect(row("f-1")?.lag, "offset 2 became readable at 1020").toEqual({ events: 3, ms: 530 });
    downstream.ackArrived("f-1", { logId: "aa", received: 5, applied: 5 });
    expect(row("f-1")?.lag, "everything applied").toEqual({ events: 0, ms: 0 });
  });
});

describe("downstream -> state", () => {
  it("is streaming while a fetch of its is held, and for the timeout after it was last caught up", () => {
    const { clock, downstream, row } = nodeWith(2);
    const fetch = downstream.fetchArrived("f-1", { logId: "aa", received: 2, applied: 2 });
    fetch.holding();
    clock.advance(10 * TIMEOUT_MS);
    expect(row("f-1")).toMatchObject({ state: "streaming", waiting: true });
    fetch.done(true);
    clock.advance(TIMEOUT_MS);
    expect(row("f-1")).toMatchObject({ state: "streaming", waiting: false });
    clock.advance(1);
    expect(row("f-1")?.state, "no word for longer than the timeout").toBe("disconnected");
  });

  it("is catching up when it has not had everything within the timeout, though it keeps fetching", () => {
    const { clock, log, downstream, row } = nodeWith(2);
    for (let i = 0; i < 5; i++) {
      downstream.fetchArrived("f-1", { logId: "aa", received: log.head - 1, applied: 0 }).done(false);
      log.append({ n: i });
      clock.advance(TIMEOUT_MS);
    }
    expect(row("f-1")?.state).toBe("catching up");
  });

  it("is resyncing from the snapshot fetch until its next fetch", () => {
    const { downstream, row } = nodeWith(2);
    downstream.snapshotFetched("f-1");
    expect(row("f-1")).toMatchObject({ state: "resyncing", appliedOffset: null });
    downstream.fetchArrived("f-1", { logId: "aa", received: 2, applied: 2 }).done(true);
    expect(row("f-1")).toMatchObject({ state: "streaming", appliedOffset: 1 });
  });

  it("is disconnected once not heard from for longer than the timeout, with no fetch held", () => {
    const { clock, downstream, row } = nodeWith(2);
    downstream.fetchArrived("f-1", { logId: "aa", received: 1, applied: 1 }).done(false);
    clock.advance(TIMEOUT_MS + 1);
    expect(row("f-1")).toMatchObject({ state: "disconnected", lastHeardAt: 1020, lastHeardMsAgo: TIMEOUT_MS + 1 });
  });
});

describe("downstream -> followers below followers (cascading)", () => {
  it("lists what a follower reports below it right after it, with the lag worked out here", () => {
    const { downstream } = nodeWith(4);
    downstream.fetchArrived("f-1", { logId: "aa", received: 4, applied: 4 }, [["f-2", "f-1", "streaming", 4, 1], ["f-3", "f-2", "catching up", 2, 0]]).done(true);
    downstream.fetchArrived("f-0", { logId: "aa", received: 4, applied: 4 }).done(true);
    expect(downstream.list().map((r) => [r.id, r.via, r.state, r.appliedOffset, r.lag.events])).toEqual([
      ["f-0", null, "streaming", 3, 0],
      ["f-1", null, "streaming", 3, 0],
      ["f-2", "f-1", "streaming", 0, 3],
      ["f-3", "f-2", "catching up", null, 4],
    ]);
  });

  it("reports its own followers and theirs, naming itself as the one they read from", () => {
    const { downstream } = nodeWith(4);
    downstream.fetchArrived("f-2", { logId: "aa", received: 4, applied: 3 }, [["f-3", "f-2", "streaming", 4, 4]]).done(true);
    expect(downstream.report("f-1")).toEqual([
      ["f-2", "f-1", "streaming", 4, 3],
      ["f-3", "f-2", "streaming", 4, 4],
    ]);
  });

  it("tells subscribers whenever a follower reports", () => {
    const { downstream } = nodeWith(1);
    let told = 0;
    downstream.subscribe(() => told++);
    downstream.fetchArrived("f-1", { logId: "aa", received: 1, applied: 0 }).done(true);
    downstream.ackArrived("f-1", { logId: "aa", received: 1, applied: 1 });
    expect(told).toBe(2);
  });
});
