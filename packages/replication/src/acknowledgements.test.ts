import { describe, expect, it } from "vitest";
import { createAcknowledgements } from "./acknowledgements.ts";
import { manualClock } from "./testing.ts";

/** Lets queued promise callbacks run; no time passes on the manual clock. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Followers whose positions a test sets, telling the acknowledgements as a report would. */
function followers() {
  let rows: { id: string; received: number; applied: number; lastHeardAt: number; waiting: boolean }[] = [];
  let listeners: (() => void)[] = [];
  return {
    positions: () => rows,
    subscribe(listener: () => void) {
      listeners.push(listener);
      return () => void (listeners = listeners.filter((l) => l !== listener));
    },
    report(id: string, received: number, applied = received) {
      rows = [...rows.filter((r) => r.id !== id), { id, received, applied, lastHeardAt: 0, waiting: false }];
      for (const l of listeners) l();
    },
  };
}

describe("acknowledgements", () => {
  it("one report releases every write it covers, and leaves the others waiting", async () => {
    const downstream = followers();
    const acks = createAcknowledgements({ downstream, clock: manualClock() });
    const results: string[] = [];
    for (const offset of [0, 1, 2]) void acks.wait(offset, { replicas: 1, kind: "received", timeoutMs: 1000 }).then((r) => results.push(`${offset}:${r.reached}`));
    downstream.report("f-1", 2); // has offsets 0 and 1
    await settle();
    expect(results).toEqual(["0:true", "1:true"]);
    expect(acks.waiting).toBe(1);
  });

  it("many waits share one timer, and each times out at its own deadline", async () => {
    const clock = manualClock();
    const acks = createAcknowledgements({ downstream: followers(), clock });
    const timedOut: number[] = [];
    for (const ms of [300, 100, 200, 100]) void acks.wait(0, { replicas: 1, kind: "received", timeoutMs: ms }).then((r) => !r.reached && timedOut.push(ms));
    await settle();
    expect(clock.sleeping, "one timer for four waits").toBe(1);
    clock.advance(100);
    await settle();
    expect(timedOut).toEqual([100, 100]);
    clock.advance(100);
    await settle();
    expect(timedOut).toEqual([100, 100, 200]);
    clock.advance(100);
    await settle();
    expect(timedOut).toEqual([100, 100, 200, 300]);
    expect(clock.sleeping, "no timer once nobody waits").toBe(0);
  });

  it("a wait whose caller gives up ends at once, and the timer goes with the last one", async () => {
    const clock = manualClock();
    const acks = createAcknowledgements({ downstream: followers(), clock });
    const gone = new AbortController();
    const waiting = acks.wait(0, { replicas: 1, kind: "applied", timeoutMs: 1000, signal: gone.signal });
    expect(acks.wanted).toBe("applied");
    gone.abort();
    expect(await waiting).toEqual({ reached: false, followers: [] });
    await settle();
    expect(acks.waiting).toBe(0);
    expect(clock.sleeping).toBe(0);
  });
});
