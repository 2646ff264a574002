import { latestEpoch, type EpochHistory } from "./epochs.ts";
import type { LogEntry, ReplicationLog } from "./log.ts";

/** What `receive` did with a batch from the upstream. */
export interface ReceiveResult {
  /** Entries appended to the follower's log. */
  accepted: number;
  /** Entries dropped because they were already received (offset below nextFrom). */
  duplicates: number;
  /** Set when the batch skipped offsets: the first offset missing, and the one that came instead. */
  gap?: { want: number; got: number };
}

export interface ReplicaOptions<E> {
  /**
   * The follower's own log: what it has received, at the upstream's offsets. It is what the
   * follower applies from, and what it serves to followers of its own.
   */
  log: ReplicationLog<E>;
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
 * A follower's replication position: what it has received from its upstream's log and what it
 * has applied. The two are kept apart, like PostgreSQL's receive and replay positions (or MySQL's
 * IO and SQL threads): the follower keeps fetching, and so keeps seeing the upstream's head,
 * while it applies events one by one, each `applyLagMs` after the previous one. That is how lag
 * accumulates when writes come faster than the follower applies them.
 *
 * Received events go into the follower's log, at the upstream's offsets, and are applied from
 * there once the log holds them (on disk, for a log on disk). Events are applied strictly in
 * offset order: `receive` only appends the run of entries that starts exactly at `nextFrom`;
 * anything already received is a duplicate and anything after a missing offset is dropped, to be
 * fetched again from the missing one. Time is passed in (`now`), never read here, so a test
 * decides exactly when each event falls due.
 */
export function createReplica<E>({ log, applyLagMs: initialLagMs, apply, onApplied }: ReplicaOptions<E>) {
  let applyLagMs = initialLagMs;
  let logId: string | undefined;
  let nextFrom = log.head;
  let appliedNext = log.head; // every offset below it is applied
  let lastDueAt = Number.NEGATIVE_INFINITY;
  let failure: Error | undefined;
  /** Set while `reset` replaces the log: the log may already be the new history while the position is still the old one's. */
  let resetting = false;
  // When each run of received offsets arrived: offsets below `upTo` (and at or above the previous mark's) at `at`.
  let arrivals: { upTo: number; at: number }[] = [];
  let appliedWaiters: { offset: number; resolve: () => void }[] = [];

  const receivedAt = (offset: number) => arrivals.find((a) => a.upTo > offset)?.at ?? Number.NEGATIVE_INFINITY;
  const dueAt = (offset: number) => Math.max(receivedAt(offset), lastDueAt) + applyLagMs;

  const replica = {
    /** The identity of the log this replica follows; undefined until it has adopted its upstream's. */
    get logId() {
      return logId;
    },
    /** The next offset to ask the upstream for. */
    get nextFrom() {
      return nextFrom;
    },
    /** Every offset below this one is received and in the log (on disk, for a log on disk). */
    get received() {
      return log.head;
    },
    /** Every offset below this one is applied. */
    get appliedNext() {
      return appliedNext;
    },
    /** The last offset applied, or -1 before the first. */
    get appliedOffset() {
      return appliedNext - 1;
    },
    /** How many events have been received but not yet applied. */
    get pending() {
      return nextFrom - appliedNext;
    },
    /** The oldest received-but-unapplied entry, if any. */
    get oldestPending(): LogEntry<E> | undefined {
      const read = log.readFrom(appliedNext, 1);
      return read.ok ? read.entries[0] : undefined;
    },
    /** Why applying stopped, if it did. */
    get failure() {
      return failure;
    },
    /** How long each event waits before it is applied. */
    get applyLagMs() {
      return applyLagMs;
    },
    /** Changes the lag, for what is waiting too: each event falls due the new lag after it was received (or after the one before it). */
    setApplyLagMs(ms: number) {
      applyLagMs = ms;
      lastDueAt = Number.NEGATIVE_INFINITY; // the schedule so far was made with the old lag
    },

    /** Appends to the log the entries of a fetched batch that continue it exactly where this replica is. */
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
        log.append(entry); // it continues exactly at nextFrom, the log's next offset: the same one
        nextFrom++;
        result.accepted++;
      }
      if (result.accepted > 0) arrivals.push({ upTo: nextFrom, at: now });
      return result;
    },

    /** Resolves once everything received so far is in the log (on disk, for a log on disk). */
    whenDurable(): Promise<void> {
      return nextFrom > log.head ? log.whenDurable(nextFrom - 1) : Promise.resolve();
    },

    /** Resolves when the log's head moves (something new can be applied, or the log was reset), or when `signal` aborts. */
    whenReceived(signal?: AbortSignal): Promise<void> {
      return new Promise((resolve) => {
        if (signal?.aborted) return resolve();
        const wake = () => {
          unsubscribe();
          signal?.removeEventListener("abort", wake); // the loop's signal outlives many waits
          resolve();
        };
        const unsubscribe = log.subscribe(wake);
        signal?.addEventListener("abort", wake, { once: true });
      });
    },

    /** When the next received event falls due, or undefined if none is waiting (or applying has stopped). */
    nextDueAt(): number | undefined {
      return appliedNext < log.head && !failure && !resetting ? dueAt(appliedNext) : undefined;
    },

    /** Applies, in offset order, every received event that is due at `now`. Returns how many it applied. */
    applyDue(now: number): number {
      let applied = 0;
      while (!failure && !resetting && appliedNext < log.head && dueAt(appliedNext) <= now) {
        const read = log.readFrom(appliedNext, 1024);
        if (!read.ok) {
          failure = new Error(`the follower's log no longer holds offset ${appliedNext} (it holds ${read.start} to ${read.head - 1})`);
          break;
        }
        for (const entry of read.entries) {
          const due = dueAt(entry.offset);
          if (due > now) break;
          try {
            apply(entry);
          } catch (err) {
            failure = err instanceof Error ? err : new Error(String(err));
            break;
          }
          lastDueAt = due;
          appliedNext = entry.offset + 1;
          applied++;
          onApplied?.(entry, now);
        }
      }
      if (arrivals.length > 0 && arrivals[0]!.upTo <= appliedNext) arrivals = arrivals.filter((a) => a.upTo > appliedNext);
      if (applied > 0) {
        log.trim(); // what is applied may now go, beyond what retention keeps for followers of this one
        releaseReaders();
      }
      return applied;
    },

    /**
     * Starts over at `nextOffset` of log `logId`, forgetting everything received but not applied.
     * The log becomes an empty history of that identity, and then, in the same step as the
     * position moves, `replaceState` replaces the state with one holding exactly the events before
     * `nextOffset` (a snapshot's): nobody ever sees the new state at the old position or the old
     * state at the new one. Readers waiting for an offset the new position covers are released.
     */
    async reset(position: { logId: string; nextOffset: number; epochs?: EpochHistory }, replaceState: () => void = () => {}) {
      resetting = true;
      try {
        await log.reset({ logId: position.logId, start: position.nextOffset, epochs: position.epochs ?? [] });
        replaceState();
        adopt(position.logId, position.nextOffset);
      } finally {
        resetting = false;
      }
    },

    /** Which leadership wrote which offsets of what this replica received. */
    get epochs(): EpochHistory {
      return log.epochs;
    },

    /** Records the upstream's epochs that begin within what this replica has received and are newer than its own. */
    async mirrorEpochs(history: EpochHistory) {
      for (const e of history) if (e.epoch > latestEpoch(log.epochs) && e.start <= nextFrom) await log.beginEpoch(e.epoch, e);
    },

    /** Every received entry from `offset` on, as the log holds them. */
    receivedFrom(offset: number): LogEntry<E>[] {
      const entries: LogEntry<E>[] = [];
      for (let next = Math.max(offset, log.start); next < log.head; ) {
        const read = log.readFrom(next, 1024);
        if (!read.ok || read.entries.length === 0) break;
        entries.push(...read.entries);
        next = read.nextFrom;
      }
      return entries;
    },

    /**
     * Drops every received entry from `offset` on (the suffix a replaced leader wrote that the
     * new one never had) and returns them. `appliedPast`: some of them were already applied, so
     * the state holds writes that no longer exist anywhere: the caller must replace it.
     */
    async truncate(offset: number): Promise<{ dropped: LogEntry<E>[]; appliedPast: boolean }> {
      const dropped = await log.truncate(offset);
      nextFrom = Math.min(nextFrom, offset);
      arrivals = arrivals.filter((a) => a.upTo <= offset);
      return { dropped, appliedPast: appliedNext > offset };
    },

    /**
     * Resumes at `nextOffset` of log `logId` with the log as it is: a follower restarted from its
     * checkpoint, whose log on disk still holds what it had received after it. Those entries are
     * applied again, each its lag after now.
     */
    resume(position: { logId: string; nextOffset: number }, now: number) {
      if (log.logId !== position.logId || position.nextOffset < log.start || position.nextOffset > log.head) {
        throw new Error(`cannot resume at offset ${position.nextOffset} of log ${position.logId}: the log is ${log.logId}, offsets ${log.start} to ${log.head}`);
      }
      adopt(position.logId, position.nextOffset);
      nextFrom = log.head;
      if (nextFrom > appliedNext) arrivals = [{ upTo: nextFrom, at: now }];
    },

    /**
     * Resolves true once `offset` has been applied, or false if `timeout` settles first. The
     * caller owns the timeout (a clock sleep), so tests control it like every other wait.
     */
    async waitForApplied(offset: number, timeout: Promise<void>): Promise<boolean> {
      if (appliedNext > offset) return true;
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

  function adopt(id: string, next: number) {
    logId = id;
    nextFrom = appliedNext = next;
    arrivals = [];
    lastDueAt = Number.NEGATIVE_INFINITY;
    failure = undefined;
    releaseReaders();
  }

  /** Wakes readers waiting for offsets that are now applied. */
  function releaseReaders() {
    const ready = appliedWaiters.filter((w) => w.offset < appliedNext);
    if (ready.length === 0) return;
    appliedWaiters = appliedWaiters.filter((w) => w.offset >= appliedNext);
    for (const w of ready) w.resolve();
  }

  return replica;
}

export type Replica<E> = ReturnType<typeof createReplica<E>>;
