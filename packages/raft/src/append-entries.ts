import type { RaftLog } from "./log.ts";
import type { AppendEntries } from "./messages.ts";

/** What the follower's log made of one AppendEntries. */
export type AppendResult =
  | {
      success: true;
      /** The last index now known to match the leader's log: prevLogIndex + entries. */
      matchIndex: number;
      /** The first index whose entry changed (truncated or appended), if any did: from there on the log must be saved again. */
      changedFrom: number | undefined;
    }
  | { success: false; conflictIndex: number; conflictTerm: number };

/**
 * The follower's side of AppendEntries (Figure 2, receiver steps 2 to 4), once the request's term
 * has been accepted.
 *
 * The consistency check: the log must hold an entry at prevLogIndex with prevLogTerm. By the Log
 * Matching Property, it then equals the leader's log up to there. If it does not, the reply says
 * where the follower's log stops agreeing, and the leader tries again from further back.
 *
 * Log repair: an entry that conflicts with one of the leader's (same index, other term) and every
 * entry after it are deleted, and the leader's appended. Entries that already match are kept, and
 * so is anything after the request's entries: a late, reordered AppendEntries carrying fewer
 * entries than one already applied must not cut off what the newer one brought.
 *
 * `commitIndex` is passed so that the impossible (truncating a committed entry) is loud.
 */
export function acceptAppendEntries<C>(log: RaftLog<C>, request: AppendEntries<C>, commitIndex: number): AppendResult {
  const { prevLogIndex, prevLogTerm, entries } = request;
  if (prevLogIndex > log.lastLogIndex) return { success: false, conflictIndex: log.lastLogIndex + 1, conflictTerm: 0 };
  const termThere = log.termAt(prevLogIndex)!;
  if (termThere !== prevLogTerm) return { success: false, conflictIndex: log.firstIndexOfTerm(termThere, prevLogIndex), conflictTerm: termThere };

  let changedFrom: number | undefined;
  for (let i = 0; i < entries.length; i++) {
    const index = prevLogIndex + 1 + i;
    const ours = log.termAt(index);
    if (ours === entries[i]!.term) continue; // already there
    if (ours !== undefined) {
      if (index <= commitIndex) throw new Error(`AppendEntries from ${request.leaderId} in term ${request.term} conflicts with committed entry ${index}: two histories were committed`);
      log.truncateFrom(index);
    }
    log.append(...entries.slice(i));
    changedFrom = index;
    break;
  }
  return { success: true, matchIndex: prevLogIndex + entries.length, changedFrom };
}
