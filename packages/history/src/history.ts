/**
 * One operation a client made, as recorded while a scenario ran: who made it, which node served
 * it, when it started and ended (by one clock for the whole history), and what came back.
 *
 * Writes: `offset` is the log offset the leader gave the write's event, and `value` the state of
 * the key after it (an order's status). `ok: false` is a write that was refused or whose outcome
 * is not known (it timed out): nobody was promised anything about it.
 *
 * Reads: `value` is the state the node returned (null: not found), and `offset` the last offset
 * the node's state reflected (`appliedOffset` in every read reply of the lab; -1 for none). A
 * read with `ok: false` got no answer (refused, timed out) and shows nothing.
 */
export interface Operation {
  client: string;
  node: string;
  /** The node's role when it served the operation; reads from a leader must never be stale. */
  role?: "leader" | "follower";
  kind: "write" | "read";
  key: string;
  start: number;
  end: number;
  ok: boolean;
  value?: string | null;
  offset?: number;
  /**
   * The identity of the log `offset` belongs to. Offsets of two histories (a leader restarted
   * without its log starts a new one) say nothing about each other: a write of one log is never
   * visible at an offset of another. Unset: every operation is of one log.
   */
  logId?: string;
  /**
   * Writes: the epoch (the numbered leadership) of the leader that acknowledged it. After a
   * failover the new leader's log goes on at the same offsets as the old one's, so an offset alone
   * no longer names one write: offset 3 of epoch 0 (the old leader's, never shipped) and offset 3
   * of epoch 1 (the new leader's) are two writes. Unset: every write is of one leadership.
   */
  epoch?: number;
  /**
   * Reads: the epoch history of the log the node's state came from, when it served the read: at
   * which offset each leadership began (an empty list: all of it is epoch 0). A write of epoch
   * `e` at offset `o` is in that state only if this history says offset `o` is epoch `e`.
   * Unset: every offset is of the writes' epoch.
   */
  epochs?: readonly { epoch: number; start: number }[];
  /** A read made once everything had settled (every node caught up): it must show every acknowledged write. */
  final?: boolean;
  /**
   * A read that asked for bounded staleness (`?maxStalenessMs=`): it promised only the writes
   * acknowledged more than this many ms before it started.
   */
  maxStalenessMs?: number;
}

/** The kinds of anomaly the checker names. */
export type AnomalyKind = "stale-read" | "read-your-writes" | "monotonic-reads" | "lost-write";

/** One anomaly, with the smallest set of operations that shows it (in time order) and a sentence. */
export interface Anomaly {
  kind: AnomalyKind;
  message: string;
  operations: Operation[];
}

/** What the checker found in a history, by kind. */
export interface Verdict {
  staleReads: Anomaly[];
  readYourWrites: Anomaly[];
  monotonicReads: Anomaly[];
  lostWrites: Anomaly[];
}
