import type { Downstream } from "./downstream.ts";
import { createHeadListeners } from "./log.ts";
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

/**
 * Why a wait's timer is cancelled. Giving abort() a reason spares it building a DOMException,
 * stack trace and all, once per synchronous write.
 */
const RELEASED = "released";

interface Waiter {
  offset: number;
  replicas: number;
  kind: AckKind;
  done(result: Acknowledged): void;
}

/**
 * Waiting until followers have an offset: what a synchronous write waits for before it is
 * acknowledged, and what `POST /wait` (Redis's WAIT) waits for. Followers report their positions
 * with every fetch and ack (see downstream.ts); each report re-checks the waiters, so writes that
 * arrive together are released by the same report: one round trip for all of them (group
 * acknowledgement), not one each. While anyone waits, `wanted` is set, and the node tells its
 * followers to report at once instead of batching their next fetch.
 */
export function createAcknowledgements({ downstream, clock }: { downstream: Pick<Downstream, "positions" | "subscribe">; clock: WaitClock }) {
  const waiters = new Set<Waiter>();
  const changed = createHeadListeners(); // told when waits begin and end (a dashboard shows them)

  type Positions = ReturnType<Downstream["positions"]>;
  /** The followers that have `offset`, in the sense of `kind`. */
  const holdersIn = (positions: Positions, offset: number, kind: AckKind) =>
    positions
      .filter((p) => (kind === "received" ? p.received : p.applied) > offset)
      .map((p) => p.id)
      .sort();
  const holders = (offset: number, kind: AckKind) => holdersIn(downstream.positions(), offset, kind);

  /** One report can release many writes (all those at or below it): the positions are read once for all of them. */
  const check = () => {
    const positions = downstream.positions();
    let released = false;
    for (const w of [...waiters]) {
      const have = holdersIn(positions, w.offset, w.kind);
      if (have.length >= w.replicas) {
        waiters.delete(w);
        w.done({ reached: true, followers: have });
        released = true;
      }
    }
    if (released) changed.notify(waiters.size);
  };
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
      const have = holders(offset, kind);
      if (have.length >= replicas || timeoutMs <= 0 || signal?.aborted) return Promise.resolve({ reached: have.length >= replicas, followers: have });
      return new Promise((resolve) => {
        const stop = new AbortController();
        const onAbort = () => stop.abort(RELEASED);
        signal?.addEventListener("abort", onAbort, { once: true });
        const waiter: Waiter = {
          offset,
          replicas,
          kind,
          done(result) {
            stop.abort(RELEASED);
            signal?.removeEventListener("abort", onAbort);
            resolve(result);
          },
        };
        waiters.add(waiter);
        changed.notify(waiters.size);
        void clock.sleep(timeoutMs, stop.signal).then(() => {
          if (!waiters.delete(waiter)) return; // released by a report already
          signal?.removeEventListener("abort", onAbort);
          changed.notify(waiters.size);
          resolve({ reached: false, followers: holders(offset, kind) });
        });
      });
    },
  };
}

export type Acknowledgements = ReturnType<typeof createAcknowledgements>;
