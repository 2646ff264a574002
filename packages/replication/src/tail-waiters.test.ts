import { describe, expect, it } from "vitest";
import { createMemoryLog } from "./log.ts";
import { createTailWaiters } from "./tail-waiters.ts";
import { manualClock } from "./testing.ts";

/** Lets queued promise callbacks run; no time passes on the manual clock. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("tail waiters", () => {
  it("release a waiter as soon as an entry at its offset is appended", async () => {
    const log = createMemoryLog<{ n: number }>();
    const clock = manualClock();
    const tail = createTailWaiters(log, clock);
    let released = false;
    const waiting = tail.wait(0, 5000).then(() => (released = true));
    await settle();
    expect(released, "before the append").toBe(false);
    expect(tail.waiting).toBe(1);
    log.append({ n: 1 });
    await waiting;
    expect(clock.now(), "no time passed").toBe(0);
    expect(tail.waiting).toBe(0);
  });

  it("release waiters when their time is up, sharing one timer among many", async () => {
    const log = createMemoryLog<{ n: number }>();
    const clock = manualClock();
    const tail = createTailWaiters(log, clock);
    const released: number[] = [];
    for (const ms of [300, 100, 200]) void tail.wait(0, ms).then(() => released.push(ms));
    await settle();
    expect(clock.sleeping, "timers for three waiting requests").toBe(1);
    clock.advance(100);
    await settle();
    expect(released).toEqual([100]);
    clock.advance(100);
    await settle();
    expect(released).toEqual([100, 200]);
    clock.advance(100);
    await settle();
    expect(released).toEqual([100, 200, 300]);
    expect(clock.sleeping, "timers once nobody waits").toBe(0);
  });

  it("release a waiter whose request goes away, and forget it", async () => {
    const log = createMemoryLog<{ n: number }>();
    const clock = manualClock();
    const tail = createTailWaiters(log, clock);
    const gone = new AbortController();
    const waiting = tail.wait(0, 5000, gone.signal);
    await settle();
    gone.abort();
    await waiting;
    expect(tail.waiting).toBe(0);
    expect(clock.sleeping, "timers once nobody waits").toBe(0);
  });

  it("answer at once when the entry is already there, or when asked not to wait", async () => {
    const log = createMemoryLog<{ n: number }>();
    log.append({ n: 1 });
    const tail = createTailWaiters(log, manualClock());
    await tail.wait(0, 5000);
    await tail.wait(1, 0);
    expect(tail.waiting).toBe(0);
  });

  it("wake only the waiters whose offset became readable", async () => {
    const log = createMemoryLog<{ n: number }>();
    const tail = createTailWaiters(log, manualClock());
    const released: number[] = [];
    void tail.wait(0, 5000).then(() => released.push(0));
    void tail.wait(1, 5000).then(() => released.push(1));
    log.append({ n: 0 });
    await settle();
    expect(released).toEqual([0]);
    expect(tail.waiting).toBe(1);
  });
});
