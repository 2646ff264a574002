import type { ReplicationLog } from "./log.ts";
import { createSharedTimer } from "./shared-timer.ts";

/**
 * What waiting needs of a clock (the lab's Clock fits): the time, a sleep that an abort cuts
 * short, and a timer that is cancelled by calling what it returns (cheaper than a sleep and its
 * AbortController, for a timer set and cancelled many times a second).
 */
export interface WaitClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  timer(ms: number, fire: () => void): () => void;
}

interface Waiter {
  offset: number;
  /** The log's identity when the wait began: a reset (a resync) releases the waiter. */
  logId: string;
  deadline: number;
  done(): void;
}

/**
 * Long-polling on the leader's side: followers that are caught up wait here for the next event
 * instead of asking again and again (Kafka's `replica.fetch.wait.max.ms`, a WAL sender waiting
 * for new WAL). A waiter is released as soon as an entry at its offset is readable, when its
 * time is up, when its request goes away, or when the log is reset to another history.
 *
 * It costs nothing while nobody writes: no busy loop and no timer per waiting request. Appends
 * wake waiters through the log's `subscribe`; timeouts share one timer, armed for the earliest
 * deadline and re-armed as waiters come and go.
 */
export function createTailWaiters(log: Pick<ReplicationLog<unknown>, "logId" | "head" | "subscribe">, clock: WaitClock) {
  const waiters = new Set<Waiter>();
  const release = (w: Waiter) => {
    if (waiters.delete(w)) w.done();
  };

  /** Sets the one timer for the earliest deadline among the waiters. */
  const arm = () => {
    let earliest = Number.POSITIVE_INFINITY;
    for (const w of waiters) earliest = Math.min(earliest, w.deadline);
    timer.set(earliest);
  };
  const timer = createSharedTimer(clock, () => {
    const now = clock.now();
    for (const w of [...waiters]) if (w.deadline <= now) release(w);
    arm();
  });

  // Waiters are released after the current turn of the event loop, not at the append itself:
  // writes that arrive together (many clients at once) then leave in one reply per follower
  // instead of one each, which spares the leader a request per write for well under a millisecond.
  let releasing = false;
  const releaseReadable = () => {
    releasing = false;
    const { head, logId } = log;
    let changed = false;
    for (const w of [...waiters]) {
      if (w.offset < head || w.logId !== logId) {
        release(w);
        changed = true;
      }
    }
    if (changed) arm();
  };
  log.subscribe(() => {
    if (waiters.size === 0 || releasing) return;
    releasing = true;
    setImmediate(releaseReadable);
  });

  return {
    /** How many requests are waiting. */
    get waiting() {
      return waiters.size;
    },
    /**
     * Resolves once an entry at `offset` is readable, after `ms`, or when `signal` aborts,
     * whichever comes first. Resolves at once if the entry is already there or `ms` is 0.
     */
    wait(offset: number, ms: number, signal?: AbortSignal): Promise<void> {
      if (offset < log.head || ms <= 0 || signal?.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const waiter: Waiter = {
          offset,
          logId: log.logId,
          deadline: clock.now() + ms,
          done: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          release(waiter);
          arm();
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        waiters.add(waiter);
        arm();
      });
    },
  };
}

export type TailWaiters = ReturnType<typeof createTailWaiters>;
