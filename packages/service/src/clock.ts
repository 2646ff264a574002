/**
 * Time as a dependency. Everything in the lab that waits (the follower's poll interval, its
 * apply lag, a reader's bounded wait) asks a Clock, so tests can decide when time passes instead
 * of racing the wall clock.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts (it never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fire` after `ms`, unless the function it returns is called first (a timer set and cancelled often, with no promise or AbortController). */
  timer(ms: number, fire: () => void): () => void;
}

/** The real clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      // No wait at all: yield to what is queued, without setTimeout's minimum of a millisecond.
      if (ms <= 0) return void setImmediate(resolve);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    });
  },
  timer(ms, fire) {
    const timer = setTimeout(fire, ms);
    return () => clearTimeout(timer);
  },
};
