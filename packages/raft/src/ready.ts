import type { LogEntry } from "./log.ts";
import type { Envelope } from "./messages.ts";
import type { Changes } from "./storage.ts";

/**
 * A committed entry, handed to the state machine in index order, exactly once per run of the
 * node: after a restart, from index 1 again, since the state machine lives in memory.
 */
export type CommittedEntry<C> = LogEntry<C> & { index: number };

/** The outcome of a `readIndex`: serve the read once `index` is applied, or ask the leader. */
export type ReadState = { id: number; ok: true; index: number } | { id: number; ok: false; leaderId: string | null };

/**
 * Everything a node's inputs produced since the last `takeReady`, for the caller to carry out
 * in this order: save the changes (they must be durable first), send the messages, apply the
 * committed entries, answer the reads.
 */
export interface Ready<C> extends Changes<C> {
  messages: Envelope<C>[];
  committed: CommittedEntry<C>[];
  reads: ReadState[];
}

/** What `propose` answers: the index and term the command was given, or who leads instead (null: none known). */
export type Proposal = { ok: true; index: number; term: number } | { ok: false; leaderId: string | null };

