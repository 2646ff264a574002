/** An event as it sits in the log: the event itself plus the offset the log gave it. */
export type LogEntry<E> = { offset: number } & E;

/** The answer to a read: the entries, or why there are none to give. */
export type LogRead<E> =
  | { ok: true; entries: LogEntry<E>[]; nextFrom: number }
  | { ok: false; code: "OFFSET_OUT_OF_RANGE"; start: number; head: number };

/**
 * The leader's replication log: an append-only sequence of events numbered by consecutive
 * offsets from 0. It knows nothing about what the events mean. Every feature that concerns the
 * log itself (identity, retention, persistence, waiting for appends) lives behind this interface.
 */
export interface ReplicationLog<E> {
  /** The first offset the log still holds (0 while nothing has been discarded). */
  readonly start: number;
  /** The offset the next append will get: one past the last entry. An empty log has head 0. */
  readonly head: number;
  /** Appends one event and returns it with its offset. */
  append(event: E): LogEntry<E>;
  /**
   * Reads up to `limit` entries starting at `offset` (inclusive). `offset === head` is a normal
   * "nothing new yet"; an offset outside `[start, head]` is refused rather than answered with a
   * silent empty list, because a follower asking for it has lost its place. Costs O(entries
   * returned), never a scan of the whole log.
   */
  readFrom(offset: number, limit: number): LogRead<E>;
}

/** An in-memory log, as in the chapter: it lives and dies with the process. */
export function createMemoryLog<E>(): ReplicationLog<E> {
  // Entries sit at index `offset - start`, so a read is one slice.
  const entries: LogEntry<E>[] = [];
  const start = 0;
  return {
    get start() {
      return start;
    },
    get head() {
      return start + entries.length;
    },
    append(event) {
      const entry = { offset: start + entries.length, ...event } as LogEntry<E>;
      entries.push(entry);
      return entry;
    },
    readFrom(offset, limit) {
      const head = start + entries.length;
      if (offset < start || offset > head) return { ok: false, code: "OFFSET_OUT_OF_RANGE", start, head };
      const slice = entries.slice(offset - start, offset - start + limit);
      return { ok: true, entries: slice, nextFrom: offset + slice.length };
    },
  };
}
