import type { CascadedRow } from "./downstream.ts";
import type { EpochHistory } from "./epochs.ts";
import type { LogEntry } from "./log.ts";

/**
 * The wire contract between a node that serves its log (the leader, or a follower that others
 * follow: its upstream) and the followers that read it:
 * `GET /events?from=N&logId=L&limit=M&waitMs=W&follower=ID&applied=A`.
 *
 * `from` is the first offset wanted (inclusive); `nextFrom` is the offset to ask for next;
 * `head` is the upstream's next offset, so `head - nextFrom` is how many events the follower has
 * yet to fetch. Offsets are consecutive: `events[i].offset === from + i`. `logId` names the
 * history the offsets belong to; a follower sends the one it follows and is refused (409
 * LOG_ID_MISMATCH) if the upstream's log is another. With `waitMs`, a follower that is caught up
 * (`from === head`) is answered as soon as a new event exists, or with no events after W ms:
 * long-polling, so an event reaches the follower in one round trip instead of up to one poll
 * interval later.
 *
 * A fetch is also the follower's progress report (as a Kafka follower's fetch is): `follower`
 * names it, `from` says it has received every offset below it (on disk, if it keeps a log
 * there), and `applied` that it has applied every offset below A.
 */
export interface EventsReply<E> {
  ok: true;
  /** Set by a leader; a follower serving its log sets `follower: true` instead. */
  leader?: true;
  follower?: true;
  /** The id of the node that answered. */
  nodeId?: string;
  /** The ids from the top of the chain down to the node that answered: `[leader]` from a leader, `[leader, middle]` from a follower of it. */
  chain?: string[];
  /** Where writes go: the leader's URL as the leader gave it (a follower passes on what it was told). */
  leaderUrl?: string;
  logId: string;
  /** The upstream's latest leadership, and its epoch history (see epochs.ts); absent before any was recorded. */
  epoch?: number;
  epochs?: EpochHistory;
  /** The first offset the upstream still holds. */
  start: number;
  from: number;
  nextFrom: number;
  head: number;
  /** How long the upstream held this request (long-polling) before answering. */
  heldMs?: number;
  /**
   * How stale `head` may be: every write the leader acknowledged more than this many ms before
   * the reply was sent is below `head`. 0 from the leader; from a follower, how far behind the
   * leader its received log may be; null when it cannot tell (it has not heard its own upstream).
   */
  stalenessMs?: number | null;
  /**
   * Set while a write (or a WAIT) is waiting for followers to have an event: the follower should
   * report at once (fetch again without a batch pause; ack as soon as it applies, for `applied`).
   */
  ackWanted?: "received" | "applied";
  events: LogEntry<E>[];
}

/**
 * `POST /replication/ack` `{follower, logId, received, applied, downstream?}`: a follower's progress report
 * between fetches (Valkey's REPLCONF ACK, PostgreSQL's standby status update). A follower sends
 * it when it applies events (or the followers below it move) while its fetch is held by a long
 * poll, so its upstream learns within a round trip, not when the poll ends. `received` and `applied` mean what `from` and `applied`
 * mean on a fetch: every offset below them.
 */
export interface AckRequest {
  follower: string;
  logId: string;
  received: number;
  applied: number;
  /** The followers below this one, as on a fetch (see downstream.ts). */
  downstream?: CascadedRow[];
}

/**
 * `POST /replication/stream?from=N&...` (the query of a fetch, plus `batchWaitMs`): a follower
 * with STREAM=1 opens one request that stays open, as a PostgreSQL standby's walreceiver keeps
 * its connection to the walsender. The upstream answers 200 and sends, one JSON line each, a
 * reply of `GET /events`'s shape whenever it has events past the last one sent (a batch: a
 * write after a quiet spell goes at once, and while writes stream in, a line goes at most every
 * `batchWaitMs`), or none after `waitMs` (a heartbeat). The
 * follower sends its progress the other way, one StreamReport line each, in the request's body,
 * after every batch and every heartbeat: an upstream that hears nothing for two heartbeats drops it.
 * A refusal is the same JSON 4xx as a fetch's; a stream the upstream cannot go on with (its log
 * is another now, it changed role, a bad report) ends, with an `{ok: false, status, code, error}`
 * line if it was the follower's fault, and the follower opens another, which is checked again.
 */
export interface StreamReport {
  received: number;
  applied: number;
  /** The followers below this one, as on a fetch (see downstream.ts). */
  downstream?: CascadedRow[];
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
  leader?: true;
  follower?: true;
  logId: string;
  /** The epoch history up to `offset`. */
  epochs?: EpochHistory;
  offset: number;
  state: S;
}

/**
 * `GET /replication`, as much of it as a node about to follow another checks first: that a node
 * of the lab answers there, which role it has, the chain above it (a loop?) and its epoch (older
 * than one already seen?).
 */
export interface NodeReply {
  ok: true;
  nodeId: string;
  role: "leader" | "follower";
  chain: string[];
  epoch: number;
  logId: string;
  head: number;
}

/** How many events one `/events` reply holds when the follower does not say. */
export const DEFAULT_EVENTS_LIMIT = 1000;
/**
 * Why a node will not serve its log to a follower (HTTP 409 or 503, never retried at full speed):
 * - REPLICATION_LOOP: the follower asking is this node, or one of the nodes this node follows.
 * - NOT_READY: this node is a follower that has no log yet (it has not reached its own upstream).
 * - STALE_EPOCH: the follower has seen a newer leadership than this node knows: it was replaced.
 * - DIVERGED: the follower's log has entries this one never had; the reply says where to cut it.
 */
export const REFUSAL_CODES = { loop: "REPLICATION_LOOP", notReady: "NOT_READY", staleEpoch: "STALE_EPOCH", diverged: "DIVERGED" } as const;

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
