import { randomBytes } from "node:crypto";
import { latestEpoch, truncateHistory, type EpochHistory, type EpochStart } from "./epochs.ts";

/** An event as it sits in the log: the event itself plus the offset the log gave it. */
export type LogEntry<E> = { offset: number } & E;

/** The answer to a read: the entries, or why there are none to give. */
export type LogRead<E> =
  | { ok: true; entries: LogEntry<E>[]; nextFrom: number }
  | { ok: false; code: "OFFSET_OUT_OF_RANGE"; start: number; head: number };

/**
 * The leader's replication log: an append-only sequence of events numbered by consecutive
 * offsets. It knows nothing about what the events mean. Every feature that concerns the log
 * itself (identity, retention, durability, waiting for appends) lives behind this interface.
 */
export interface ReplicationLog<E> {
  /**
   * This log's identity. A leader that starts without its old log starts a new history with a
   * new id, so a follower can tell "offset 5 of the log I was following" from "offset 5 of some
   * other log" (Valkey's replication ID, PostgreSQL's timeline, Kafka's leader epoch).
   */
  readonly logId: string;
  /** The first offset still held: older entries were discarded by retention (or came before a reset). */
  readonly start: number;
  /** One past the last entry that may be read (and, with persistence, is on disk). An empty log has head 0. */
  readonly head: number;
  /** Appends one event and returns it with its offset. It becomes readable once durable. */
  append(event: E): LogEntry<E>;
  /** Resolves once the entry at `offset` is durable (at once for a log that lives in memory only). */
  whenDurable(offset: number): Promise<void>;
  /**
   * Reads up to `limit` entries starting at `offset` (inclusive). `offset === head` is a normal
   * "nothing new yet"; an offset outside `[start, head]` is refused rather than answered with a
   * silent empty list, because a follower asking for it has lost its place. Costs O(entries
   * returned), never a scan of the whole log.
   */
  readFrom(offset: number, limit: number): LogRead<E>;
  /**
   * Calls `listener` with the new head each time entries become readable; returns a function
   * that unsubscribes. Long-polling followers wait on this instead of asking again and again.
   */
  subscribe(listener: (head: number) => void): () => void;
  /**
   * Applies retention now. It is applied as entries are appended too; a follower calls this
   * after applying, when `keepFrom` has moved and more may go.
   */
  trim(): void;
  /** Which leadership wrote which offsets (see epochs.ts); empty for a log that never recorded one. */
  readonly epochs: EpochHistory;
  /**
   * Begins leadership `epoch` (greater than every epoch before it) at offset `start` (by default
   * the next entry appended), led by `leader` at `url`. Kept with the log (on disk, for a log on
   * disk) before it resolves.
   */
  beginEpoch(epoch: number, details?: { start?: number; leader?: string | undefined; url?: string | undefined }): Promise<void>;
  /**
   * Drops every entry from `offset` on and returns them: the suffix a replaced leader wrote that
   * its successor never had. The epoch history loses every epoch that began at or after it.
   * Subscribers are told of the new head.
   */
  truncate(offset: number): Promise<LogEntry<E>[]>;
  /**
   * Discards every entry and starts another history: identity `logId`, empty, its next offset
   * `start`, with the epoch history `epochs` (a snapshot's). A follower does this when it resyncs
   * from a snapshot taken at `start`, so that the log it serves its own followers is always the
   * one its state was built from. Subscribers are told.
   */
  reset(position: { logId: string; start: number; epochs?: EpochHistory }): Promise<void>;
  /** Releases what the log holds open (a file); the log must not be used afterwards. */
  close(): Promise<void>;
}

/** An epoch history's record, without the fields left unset. */
export function epochRecord(epoch: number, start: number, { leader, url }: { leader?: string | undefined; url?: string | undefined }): EpochStart {
  return { epoch, start, ...(leader === undefined ? {} : { leader }), ...(url === undefined ? {} : { url }) };
}

/** The listeners of a log's `subscribe`, for the logs to share. */
export function createHeadListeners() {
  let listeners: ((head: number) => void)[] = [];
  return {
    subscribe(listener: (head: number) => void) {
      listeners = [...listeners, listener];
      return () => {
        listeners = listeners.filter((l) => l !== listener);
      };
    },
    notify(head: number) {
      for (const listener of listeners) listener(head);
    },
  };
}

/** How many entries a log keeps for followers to read when nobody says. */
export const DEFAULT_RETAIN_EVENTS = 100_000;

export interface MemoryLogOptions {
  /** The identity to use; a new random one by default. */
  logId?: string;
  /** Keep at most this many entries; older ones are dropped (followers behind them need a snapshot). */
  retain?: number;
  /** The first offset (0 unless the log continues an older one whose start was discarded). */
  start?: number;
  /** Its epoch history so far (read back from disk, or a snapshot's). */
  epochs?: EpochHistory;
  /**
   * Retention never discards this offset or any after it. A follower passes the first offset it
   * has not applied yet: it still has to apply those entries, and its snapshot (its applied
   * state) is only useful to its own followers if they can continue from the log after it.
   */
  keepFrom?: () => number;
}

/** A new random log identity: 16 hex digits. */
export function newLogId(): string {
  return randomBytes(8).toString("hex");
}

/**
 * An in-memory log, as in the chapter: it lives and dies with the process. It keeps the last
 * `retain` entries, like Valkey's replication backlog: a follower that falls further behind
 * than that resyncs from a snapshot instead.
 */
export function createMemoryLog<E>({
  logId = newLogId(),
  retain = DEFAULT_RETAIN_EVENTS,
  start: firstOffset = 0,
  epochs: firstEpochs = [],
  keepFrom = () => Number.POSITIVE_INFINITY,
}: MemoryLogOptions = {}): ReplicationLog<E> & { discardBefore(offset: number): void } {
  if (!Number.isSafeInteger(retain) || retain < 1) throw new RangeError(`retain must be a whole number of at least 1, got ${retain}`);
  // The entry at offset o sits at index o - base; indices below `dropped` were let go by
  // retention and are cut off in one slice when they make up half the array, so both appending
  // and dropping cost O(1) amortized and a read is one slice.
  let entries: (LogEntry<E> | undefined)[] = [];
  let base = firstOffset;
  let dropped = 0;
  let identity = logId;
  let history: EpochHistory = firstEpochs;

  const start = () => base + dropped;
  const head = () => base + entries.length;
  const listeners = createHeadListeners();

  /** Lets go of every entry before `offset` (but none from `keepFrom()` on), cutting them off in one slice once they are half the array. */
  const discardBefore = (offset: number) => {
    const upTo = Math.min(offset, head(), keepFrom());
    while (start() < upTo) {
      entries[dropped] = undefined;
      dropped++;
    }
    if (dropped > 0 && dropped * 2 >= entries.length) {
      entries = entries.slice(dropped);
      base += dropped;
      dropped = 0;
    }
  };

  return {
    get logId() {
      return identity;
    },
    get start() {
      return start();
    },
    get head() {
      return head();
    },
    append(event) {
      const entry = { offset: head(), ...event } as LogEntry<E>;
      entries.push(entry);
      discardBefore(head() - retain);
      listeners.notify(head());
      return entry;
    },
    /** Lets go of every entry before `offset` (a log on disk calls it once entries are durable). */
    discardBefore,
    trim: () => discardBefore(head() - retain),
    whenDurable: () => Promise.resolve(),
    readFrom(offset, limit) {
      if (offset < start() || offset > head()) return { ok: false, code: "OFFSET_OUT_OF_RANGE", start: start(), head: head() };
      const slice = entries.slice(offset - base, offset - base + limit) as LogEntry<E>[];
      return { ok: true, entries: slice, nextFrom: offset + slice.length };
    },
    subscribe: listeners.subscribe,
    get epochs() {
      return history;
    },
    async beginEpoch(epoch, details = {}) {
      if (epoch <= latestEpoch(history)) throw new RangeError(`epoch ${epoch} does not follow epoch ${latestEpoch(history)}`);
      history = [...history, epochRecord(epoch, details.start ?? head(), details)];
    },
    async truncate(offset) {
      if (offset >= head()) return [];
      const removed = entries.slice(Math.max(offset, start()) - base) as LogEntry<E>[];
      if (offset < start()) {
        // Below what is kept: nothing before `offset` is left to keep.
        entries = [];
        base = offset;
        dropped = 0;
      } else entries.length = offset - base;
      history = truncateHistory(history, offset);
      listeners.notify(head());
      return removed;
    },
    async reset(position) {
      identity = position.logId;
      entries = [];
      base = position.start;
      dropped = 0;
      history = position.epochs ?? [];
      listeners.notify(head());
    },
    close: () => Promise.resolve(),
  };
}
