import type { LogEntry } from "./log.ts";

/**
 * The wire contract between a leader and its followers: `GET /events?from=N&limit=M`.
 *
 * `from` is the first offset wanted (inclusive); `nextFrom` is the offset to ask for next;
 * `head` is the leader's next offset, so `head - nextFrom` is how many events the follower has
 * yet to fetch. Offsets are consecutive: `events[i].offset === from + i`.
 */
export interface EventsReply<E> {
  ok: true;
  leader: true;
  from: number;
  nextFrom: number;
  head: number;
  events: LogEntry<E>[];
}

/** The reply to a `from` outside what the log holds (HTTP 409). */
export interface OffsetOutOfRangeReply {
  ok: false;
  code: "OFFSET_OUT_OF_RANGE";
  error: string;
  start: number;
  head: number;
}

/** How many events one `/events` reply holds when the follower does not say. */
export const DEFAULT_EVENTS_LIMIT = 1000;
/** The most one `/events` reply will hold, whatever the follower asks for. */
export const MAX_EVENTS_LIMIT = 10_000;

/**
 * Every write reply carries the offset of the event it appended as `event.offset`: the token a
 * client hands to a follower (`?minOffset=`) to read its own write.
 */
export interface WriteReply {
  ok: true;
  event: { offset: number };
}
