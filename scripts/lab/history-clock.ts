import type { ManualClock } from "@lab/service";

/**
 * The clock a recorded history is stamped with: ms since the run began (on `manual`, or on the
 * real clock), plus a millionth of a ms per stamp taken, so that an operation that began after
 * another ended is later even when no time passed between them (always on the manual clock;
 * often within one ms on the real one).
 */
export function historyClock(manual?: ManualClock): () => number {
  const clockMs = manual ? () => manual.now() : () => performance.now();
  const t0 = clockMs();
  let stamps = 0;
  return () => clockMs() - t0 + ++stamps * 1e-6;
}
