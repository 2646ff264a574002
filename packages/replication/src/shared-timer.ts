import type { WaitClock } from "./tail-waiters.ts";

/**
 * One timer for many waits that each time out at their own deadline: it is set for the earliest
 * of them and set again as waits come and go, so a waiting request or write costs no timer of its
 * own. `onDue` runs when the time it was set for comes; it times out what is due and sets the
 * timer for the next deadline.
 */
export function createSharedTimer(clock: Pick<WaitClock, "now" | "timer">, onDue: () => void) {
  let armed: { at: number; cancel: () => void } | undefined;
  return {
    /** When it goes off; Infinity while it is not set. */
    get at() {
      return armed?.at ?? Number.POSITIVE_INFINITY;
    },
    /** Sets it for `at` (Infinity: not at all), unless it is set for that already. */
    set(at: number) {
      if ((armed?.at ?? Number.POSITIVE_INFINITY) === at) return;
      armed?.cancel();
      armed = undefined;
      if (at === Number.POSITIVE_INFINITY) return;
      const timer = {
        at,
        cancel: clock.timer(Math.max(0, at - clock.now()), () => {
          if (armed !== timer) return;
          armed = undefined;
          onDue();
        }),
      };
      armed = timer;
    },
  };
}
