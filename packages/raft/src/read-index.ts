import { majority } from "./commit.ts";

/** A linearizable read waiting on the leader for its leadership to be confirmed. */
export interface PendingRead {
  /** The caller's id for it, handed back in the ReadState. */
  id: number;
  /** The round of AppendEntries begun for it: a majority must answer this round or a later one. */
  round: number;
}

/**
 * The read index (thesis §6.4): a leader may answer a read from its state machine without
 * writing to the log, once (1) it has committed an entry of its own term, so that its
 * commitIndex is at least that of every leader before it, and (2) a majority has answered a
 * round of AppendEntries sent after the read arrived, so that no newer leader existed then
 * (a newer one would have been elected by a majority that now refuses this leader's term). The
 * read is then served at the commitIndex of that moment, once it is applied.
 *
 * Returns the reads that may be served now; the others wait for more replies.
 */
export function confirmReads(pending: readonly PendingRead[], { groupSize, peerRounds, committedInTerm }: { groupSize: number; peerRounds: readonly number[]; committedInTerm: boolean }) {
  if (!committedInTerm) return { confirmed: [], waiting: pending };
  const answered = (read: PendingRead) => 1 + peerRounds.filter((r) => r >= read.round).length >= majority(groupSize);
  return { confirmed: pending.filter(answered), waiting: pending.filter((r) => !answered(r)) };
}
