import type { Downstream } from "./downstream.ts";
import { createHeadListeners } from "./log.ts";
import { createSharedTimer } from "./shared-timer.ts";
import type { WaitClock } from "./tail-waiters.ts";

/**
 * What "a follower has it" means for a synchronous acknowledgement, as PostgreSQL's
 * synchronous_commit: `received`, the follower holds the event (on disk, if it keeps its log
 * there: remote_write/on); `applied`, it has applied it, so a read there right after the
 * acknowledgement is never stale (remote_apply).
 */
export type AckKind = "received" | "applied";

/** What a wait for acknowledgements came to. */
export interface Acknowledged {
  /** Whether enough followers had the offset before the time ran out. */
  reached: boolean;
  /** The followers that had it when the wait ended, by id. */
  followers: string[];
}

interface Waiter {
  offset: number;
  replicas: number;
  kind: AckKind;
  /** When the wait times out, on the clock. */
  deadline: number;
  resolve(result: Acknowledged): void;
  /** The caller's signal, and what it calls on abort (only a caller that can give up has them). */
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** Ends a wait with `result`. */
function finish(w: Waiter, result: Acknowledged) {
  if (w.onAbort) w.signal?.removeEventListener("abort", w.onAbort);
  w.resolve(result);
}

/**
 * Waiting until followers have an offset: what a synchronous write waits for before it is
 * acknowledged, and what `POST /wait` (Redis's WAIT) waits for. Followers report their positions
 * with every fetch and ack (see downstream.ts); each report re-checks the waiters, so writes that
 * arrive together are released by the same report: one round trip for all of them (group
 * acknowledgement), not one each. While anyone waits, `wanted` is set, and the node tells its
 * followers to report at once instead of batching their next fetch. One timer serves every
 * waiter, set for the earliest deadline, so a synchronous write costs no timer of its own.
 */
export function createAcknowledgements({ downstream, clock }: { downstream: Pick<Downstream, "positions" | "subscribe">; clock: WaitClock }) {
  const waiters = new Set<Waiter>();
  const changed = createHeadListeners(); // told when waits begin and end (a dashboard shows them)

  type Positions = ReturnType<Downstream["positions"]>;
  /** Whether a follower at `p` has `offset`, in the sense of `kind`. */
  const has = (p: Positions[number], offset: number, kind: AckKind) => (kind === "received" ? p.received : p.applied) > offset;
  /** The followers that have `offset`, in the sense of `kind`. */
  const holdersIn = (positions: Positions, offset: number, kind: AckKind) =>
    positions
      .filter((p) => has(p, offset, kind))
      .map((p) => p.id)
      .sort();
  const holders = (offset: number, kind: AckKind) => holdersIn(downstream.positions(), offset, kind);
  /** How many of `positions` have `offset`, without listing them. */
  const countIn = (positions: Positions, offset: number, kind: AckKind) => {
    let count = 0;
    for (const p of positions) if (has(p, offset, kind)) count++;
    return count;
  };

  /** One report can release many writes (all those at or below it): the positions are read once for all of them. */
  const check = () => {
    const positions = downstream.positions();
    let released = false;
    for (const w of waiters) {
      if (countIn(positions, w.offset, w.kind) < w.replicas) continue;
      waiters.delete(w); // deleting the entry being visited is safe while iterating a Set
      finish(w, { reached: true, followers: holdersIn(positions, w.offset, w.kind) });
      released = true;
    }
    if (released) settled();
  };

  /** Waits ended: whoever shows waits is told, and the timer goes with the last one. */
  const settled = () => {
    changed.notify(waiters.size);
    if (waiters.size === 0) timer.set(Number.POSITIVE_INFINITY);
  };
  /** The deadline came for some waiters: they time out, with the followers that had their offset then; the timer is set for the next one. */
  const timer = createSharedTimer(clock, () => {
    const now = clock.now();
    let next = Number.POSITIVE_INFINITY;
    let expired = false;
    for (const w of [...waiters]) {
      if (w.deadline > now) {
        next = Math.min(next, w.deadline);
        continue;
      }
      waiters.delete(w);
      finish(w, { reached: false, followers: holders(w.offset, w.kind) });
      expired = true;
    }
    if (expired) settled();
    timer.set(next);
  });
  downstream.subscribe(() => {
    if (waiters.size > 0) check();
  });

  return {
    holders,
    /** Whether a write (or a WAIT) is waiting for followers now, and for what: followers should report at once. */
    get wanted(): AckKind | undefined {
      let wanted: AckKind | undefined;
      for (const w of waiters) if (w.kind === "applied" || !wanted) wanted = w.kind;
      return wanted;
    },
    /** How many waits are pending. */
    get waiting() {
      return waiters.size;
    },
    /** Calls `listener` whenever a wait begins or ends; returns a function that unsubscribes. */
    subscribe: (listener: () => void) => changed.subscribe(listener),
    /**
     * Resolves once `replicas` followers have `offset` (`kind`), or when `timeoutMs` passes or
     * `signal` aborts, with the followers that had it then. At once if they already do.
     */
    wait(offset: number, { replicas, kind, timeoutMs, signal }: { replicas: number; kind: AckKind; timeoutMs: number; signal?: AbortSignal }): Promise<Acknowledged> {
      const positions = downstream.positions();
      if (countIn(positions, offset, kind) >= replicas || timeoutMs <= 0 || signal?.aborted) {
        const have = holdersIn(positions, offset, kind);
        return Promise.resolve({ reached: have.length >= replicas, followers: have });
      }
      return new Promise((resolve) => {
        const waiter: Waiter = { offset, replicas, kind, deadline: clock.now() + timeoutMs, resolve };
        if (signal) {
          // The caller gave up (a client that hung up): the wait ends now, as a timeout would.
          waiter.signal = signal;
          waiter.onAbort = () => {
            if (!waiters.delete(waiter)) return;
            settled();
            resolve({ reached: false, followers: holders(offset, kind) });
          };
          signal.addEventListener("abort", waiter.onAbort, { once: true });
        }
        waiters.add(waiter);
        changed.notify(waiters.size);
        if (waiter.deadline < timer.at) timer.set(waiter.deadline);
      });
    },
  };
}

export type Acknowledgements = ReturnType<typeof createAcknowledgements>;
