import type { LogEntry } from "@lab/replication";

interface Received<E> {
  entry: LogEntry<E>;
  receivedAt: number;
}

/** What `receive` did with a batch from the leader. */
export interface ReceiveResult {
  /** Entries queued for applying. */
  accepted: number;
  /** Entries dropped because they were already received (offset below nextFrom). */
  duplicates: number;
  /** Set when the batch skipped offsets: the first offset missing, and the one that came instead. */
  gap?: { want: number; got: number };
}

export interface ReplicaOptions<E> {
  /**
   * How long each event waits before it is applied, counted from when it was received or when the
   * one before it fell due, whichever is later. Counting from when the previous one was due (not
   * when a busy machine got round to it) keeps the schedule exact: five events, 400 ms each, 2 s.
   */
  applyLagMs: number;
  /** Applies one entry to the follower's state. If it throws, the replica stops applying: its state no longer matches its log. */
  apply(entry: LogEntry<E>): void;
  /** Called after each event is applied, with the time it was applied at (for the follower's log line). */
  onApplied?(entry: LogEntry<E>, appliedAt: number): void;
}

/**
 * A follower's replication position: what it has received from the leader's log and what it has
 * applied. The two are kept apart, like PostgreSQL's receive and replay positions (or MySQL's IO
 * and SQL threads): the follower keeps fetching, and so keeps seeing the leader's head, while
 * it applies events one by one, each `applyLagMs` after the previous one. That is how lag
 * accumulates when writes come faster than the follower applies them.
 *
 * Events are applied strictly in offset order: `receive` only queues the run of entries that
 * starts exactly at `nextFrom`; anything already received is a duplicate and anything after a
 * missing offset is dropped, to be fetched again from the missing one. Time is passed in (`now`), never read here,
 * so a test decides exactly when each event falls due.
 */
export function createReplica<E>({ applyLagMs, apply, onApplied }: ReplicaOptions<E>) {
  let logId: string | undefined;
  let nextFrom = 0;
  let appliedOffset = -1;
  let lastDueAt = Number.NEGATIVE_INFINITY;
  let failure: Error | undefined;
  // A queue with a moving start index: dequeuing is O(1) even with a long backlog.
  let queue: Received<E>[] = [];
  let queueStart = 0;
  let receivedWaiters: (() => void)[] = [];
  let appliedWaiters: { offset: number; resolve: () => void }[] = [];

  const dueAt = (r: Received<E>) => Math.max(r.receivedAt, lastDueAt) + applyLagMs;

  const replica = {
    /** The identity of the log this replica follows; undefined until the first reply names it. */
    get logId() {
      return logId;
    },
    /** Takes the identity the leader's first reply names; offsets are meaningless without it. */
    adoptLogId(id: string) {
      logId ??= id;
    },
    /** The next offset to ask the leader for. */
    get nextFrom() {
      return nextFrom;
    },
    /** The last offset applied, or -1 before the first. */
    get appliedOffset() {
      return appliedOffset;
    },
    /** How many events have been received but not yet applied. */
    get pending() {
      return queue.length - queueStart;
    },
    /** The oldest received-but-unapplied entry, if any. */
    get oldestPending(): LogEntry<E> | undefined {
      return queue[queueStart]?.entry;
    },
    /** Why applying stopped, if it did. */
    get failure() {
      return failure;
    },

    /** Queues the entries of a fetched batch that continue the log exactly where this replica is. */
    receive(entries: readonly LogEntry<E>[], now: number): ReceiveResult {
      const result: ReceiveResult = { accepted: 0, duplicates: 0 };
      for (const entry of entries) {
        if (entry.offset < nextFrom) {
          result.duplicates++;
          continue;
        }
        if (entry.offset > nextFrom) {
          result.gap = { want: nextFrom, got: entry.offset };
          break;
        }
        queue.push({ entry, receivedAt: now });
        nextFrom++;
        result.accepted++;
      }
      if (result.accepted > 0) {
        const waiters = receivedWaiters;
        receivedWaiters = [];
        for (const wake of waiters) wake();
      }
      return result;
    },

    /** When the next queued event falls due, or undefined if none is queued (or applying has stopped). */
    nextDueAt(): number | undefined {
      const next = queue[queueStart];
      return next && !failure ? dueAt(next) : undefined;
    },

    /** Applies, in offset order, every queued event that is due at `now`. Returns how many it applied. */
    applyDue(now: number): number {
      let applied = 0;
      while (!failure && queueStart < queue.length) {
        const next = queue[queueStart]!;
        const due = dueAt(next);
        if (due > now) break;
        try {
          apply(next.entry);
        } catch (err) {
          failure = err instanceof Error ? err : new Error(String(err));
          break;
        }
        queue[queueStart] = undefined as never; // let the entry be collected
        queueStart++;
        lastDueAt = due;
        appliedOffset = next.entry.offset;
        applied++;
        onApplied?.(next.entry, now);
      }
      if (queueStart > 1024 && queueStart * 2 > queue.length) {
        queue = queue.slice(queueStart);
        queueStart = 0;
      }
      if (applied > 0) releaseReaders();
      return applied;
    },

    /**
     * Starts over at `nextOffset` of log `logId`, forgetting everything queued: the caller has just
     * replaced the state with a snapshot (or a checkpoint) holding exactly the events before
     * `nextOffset`. Readers waiting for an offset the new position covers are released.
     */
    reset(position: { logId: string; nextOffset: number }) {
      logId = position.logId;
      nextFrom = position.nextOffset;
      appliedOffset = position.nextOffset - 1;
      queue = [];
      queueStart = 0;
      lastDueAt = Number.NEGATIVE_INFINITY;
      failure = undefined;
      releaseReaders();
    },

    /** Resolves when something new is received (or `signal` aborts). */
    whenReceived(signal?: AbortSignal): Promise<void> {
      return new Promise((resolve) => {
        if (signal?.aborted) return resolve();
        const wake = () => {
          signal?.removeEventListener("abort", wake); // the loop's signal outlives many waits
          receivedWaiters = receivedWaiters.filter((w) => w !== wake);
          resolve();
        };
        receivedWaiters.push(wake);
        signal?.addEventListener("abort", wake, { once: true });
      });
    },

    /**
     * Resolves true once `offset` has been applied, or false if `timeout` settles first. The
     * caller owns the timeout (a clock sleep), so tests control it like every other wait.
     */
    async waitForApplied(offset: number, timeout: Promise<void>): Promise<boolean> {
      if (appliedOffset >= offset) return true;
      let release!: () => void;
      const applied = new Promise<boolean>((resolve) => {
        release = () => resolve(true);
      });
      const waiter = { offset, resolve: release };
      appliedWaiters.push(waiter);
      const result = await Promise.race([applied, timeout.then(() => false)]);
      appliedWaiters = appliedWaiters.filter((w) => w !== waiter);
      return result;
    },
  };

  /** Wakes readers waiting for offsets that are now applied. */
  function releaseReaders() {
    const ready = appliedWaiters.filter((w) => w.offset <= appliedOffset);
    if (ready.length === 0) return;
    appliedWaiters = appliedWaiters.filter((w) => w.offset > appliedOffset);
    for (const w of ready) w.resolve();
  }

  return replica;
}

export type Replica<E> = ReturnType<typeof createReplica<E>>;
