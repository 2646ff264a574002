import type { Clock } from "./clock.ts";

interface Sleeper {
  wakeAt: number;
  wake: () => void;
}

/** A clock that moves only when a test says so. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, waking, in time order, every sleep that falls due. */
  advance(ms: number): void;
  /** How many sleeps are waiting. */
  readonly sleeping: number;
  /** Resolves once at least `count` sleeps are waiting: "the server is now blocked on the clock". */
  whenSleeping(count?: number): Promise<void>;
}

/**
 * Creates a manual clock starting at `start`. A sleep of 0 ms or less resolves at once; a sleep
 * whose signal aborts resolves at once and is forgotten.
 */
export function createManualClock(start = 0): ManualClock {
  let now = start;
  let sleepers: Sleeper[] = [];
  let watchers: { count: number; resolve: () => void }[] = [];

  const notifyWatchers = () => {
    const ready = watchers.filter((w) => sleepers.length >= w.count);
    watchers = watchers.filter((w) => sleepers.length < w.count);
    for (const w of ready) w.resolve();
  };

  return {
    now: () => now,
    sleep(ms, signal) {
      if (ms <= 0 || signal?.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const sleeper: Sleeper = {
          wakeAt: now + ms,
          wake: () => {
            sleepers = sleepers.filter((s) => s !== sleeper);
            signal?.removeEventListener("abort", sleeper.wake);
            resolve();
          },
        };
        sleepers.push(sleeper);
        signal?.addEventListener("abort", sleeper.wake, { once: true });
        notifyWatchers();
      });
    },
    timer(ms, fire) {
      // `fire` runs on a microtask, as the code after an awaited sleep would.
      if (ms <= 0) {
        let cancelled = false;
        queueMicrotask(() => cancelled || fire());
        return () => void (cancelled = true);
      }
      const sleeper: Sleeper = {
        wakeAt: now + ms,
        wake: () => {
          sleepers = sleepers.filter((s) => s !== sleeper);
          queueMicrotask(fire);
        },
      };
      sleepers.push(sleeper);
      notifyWatchers();
      return () => void (sleepers = sleepers.filter((s) => s !== sleeper));
    },
    advance(ms) {
      const target = now + ms;
      const due = sleepers.filter((s) => s.wakeAt <= target).sort((a, b) => a.wakeAt - b.wakeAt);
      for (const s of due) {
        now = s.wakeAt;
        s.wake();
      }
      now = target;
    },
    get sleeping() {
      return sleepers.length;
    },
    whenSleeping(count = 1) {
      return new Promise<void>((resolve) => {
        watchers.push({ count, resolve });
        notifyWatchers();
      });
    },
  };
}
