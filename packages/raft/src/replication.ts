import type { RaftLog } from "./log.ts";
import type { AppendEntriesReply } from "./messages.ts";

/**
 * What the leader knows of one follower (Figure 2, "volatile state on leaders"), reset at every
 * election it wins.
 */
export interface Progress {
  /** The next index to send it: optimistic, the leader's lastLogIndex + 1 at first, moved back on a failed consistency check. */
  nextIndex: number;
  /** The highest index known to be replicated on it: 0 at first, only ever raised by its successful replies. */
  matchIndex: number;
  /**
   * Entries sent and not yet answered for. One batch at a time: what the leader appends
   * meanwhile goes in the next AppendEntries, all together, once this one is answered.
   */
  inflight: { upTo: number; sentAt: number } | undefined;
  /** The leaderCommit it was last sent: while it is behind commitIndex, the follower has more to apply than it knows. */
  sentCommit: number;
  /** The newest round it answered in this term (see AppendEntries.round). */
  round: number;
  /** When it last answered in this term, for checkQuorum. */
  lastReplyAt: number;
}

export function newProgress(lastLogIndex: number, now: number): Progress {
  return { nextIndex: lastLogIndex + 1, matchIndex: 0, inflight: undefined, sentCommit: 0, round: 0, lastReplyAt: now };
}

/**
 * The entries to send a follower now: from nextIndex, at most `limit`; none while a batch is in
 * flight (the AppendEntries is then a heartbeat). Records the batch as in flight.
 */
export function takeBatch<C>(progress: Progress, log: RaftLog<C>, limit: number, now: number) {
  if (progress.inflight) return [];
  const entries = log.entriesFrom(progress.nextIndex, limit);
  if (entries.length > 0) progress.inflight = { upTo: progress.nextIndex + entries.length - 1, sentAt: now };
  return entries;
}

/** Presumes lost a batch unanswered for `afterMs`, so that the next AppendEntries sends it again. */
export function expireBatch(progress: Progress, now: number, afterMs: number): void {
  if (progress.inflight && now - progress.inflight.sentAt >= afterMs) progress.inflight = undefined;
}

/**
 * Takes in a follower's AppendEntriesReply of the current term. A success raises matchIndex (and
 * nextIndex past it); a failure moves nextIndex back, using the follower's hint to skip a whole
 * conflicting term at once: to just after the leader's own last entry of that term if it has
 * one, else to the follower's first entry of it. Replies may come late or twice, so matchIndex
 * never goes down and nextIndex never below matchIndex + 1. Returns whether matchIndex moved.
 */
export function takeReply<C>(progress: Progress, reply: AppendEntriesReply, log: RaftLog<C>, now: number): boolean {
  progress.lastReplyAt = now;
  progress.round = Math.max(progress.round, reply.round);
  if (reply.success) {
    const moved = reply.matchIndex > progress.matchIndex;
    progress.matchIndex = Math.max(progress.matchIndex, reply.matchIndex);
    progress.nextIndex = Math.max(progress.nextIndex, progress.matchIndex + 1);
    if (progress.inflight && progress.matchIndex >= progress.inflight.upTo) progress.inflight = undefined;
    return moved;
  }
  progress.inflight = undefined; // it failed the same check: send again from further back
  const ours = reply.conflictTerm > 0 ? log.lastIndexOfTerm(reply.conflictTerm) : 0;
  const next = ours > 0 ? ours + 1 : reply.conflictIndex;
  progress.nextIndex = Math.max(progress.matchIndex + 1, Math.min(next, progress.nextIndex));
  return false;
}
