import type { LogEntry } from "./log.ts";

/**
 * The wire contract between a leader and its followers: `GET /events?from=N&logId=L&limit=M&waitMs=W`.
 *
 * `from` is the first offset wanted (inclusive); `nextFrom` is the offset to ask for next;
 * `head` is the leader's next offset, so `head - nextFrom` is how many events the follower has
 * yet to fetch. Offsets are consecutive: `events[i].offset === from + i`. `logId` names the
 * history the offsets belong to; a follower sends the one it follows and is refused (409
 * LOG_ID_MISMATCH) if the leader's log is another. With `waitMs`, a follower that is caught up
 * (`from === head`) is answered as soon as a new event exists, or with no events after W ms:
 * long-polling, so an event reaches the follower in one round trip instead of up to one poll
 * interval later.
 */
export interface EventsReply<E> {
  ok: true;
  leader: true;
  logId: string;
  /** The first offset the leader still holds. */
  start: number;
  from: number;
  nextFrom: number;
  head: number;
  events: LogEntry<E>[];
}

/**
 * Why the leader will not continue a follower's log from where it asks (HTTP 409): another
 * history (LOG_ID_MISMATCH: the leader restarted without its log) or an offset it does not hold
 * (OFFSET_OUT_OF_RANGE: discarded by retention, or beyond the head). Either way the follower
 * must resync from a snapshot; the reply says what the leader has now.
 */
export interface ResyncNeededReply {
  ok: false;
  code: "LOG_ID_MISMATCH" | "OFFSET_OUT_OF_RANGE";
  error: string;
  logId: string;
  start: number;
  head: number;
}

/** The codes after which a follower resyncs from a snapshot. */
export const RESYNC_CODES: ReadonlySet<string> = new Set(["LOG_ID_MISMATCH", "OFFSET_OUT_OF_RANGE"]);

/**
 * `GET /snapshot`: the leader's whole state, exactly as it stands after the events before
 * `offset` and none after, and the log it belongs to. A follower that loads it continues with
 * `GET /events?from=<offset>&logId=<logId>`.
 */
export interface SnapshotReply<S> {
  ok: true;
  leader: true;
  logId: string;
  offset: number;
  state: S;
}

/** How many events one `/events` reply holds when the follower does not say. */
export const DEFAULT_EVENTS_LIMIT = 1000;
/** The most one `/events` reply will hold, whatever the follower asks for. */
export const MAX_EVENTS_LIMIT = 10_000;
/** The longest a follower may ask `/events` to wait for a new event (`waitMs`). */
export const MAX_EVENTS_WAIT_MS = 30_000;

/**
 * Every write reply carries the offset of the event it appended as `event.offset`: the token a
 * client hands to a follower (`?minOffset=`) to read its own write.
 */
export interface WriteReply {
  ok: true;
  event: { offset: number };
}
