/**
 * One entry of the Raft log: a client's command, or the no-op a new leader appends at the start
 * of its term (so that it can commit, and so learn the commit point, without waiting for a
 * client: thesis §6.4). `term` is the leader's term when it appended the entry.
 */
export type LogEntry<C> = { term: number; command: C } | { term: number; noop: true };

/**
 * A node's log, indexed from 1 as in the paper: index 0 is the empty log's "entry before the
 * first", with term 0, so that `prevLogIndex = 0, prevLogTerm = 0` matches every log. (The
 * chapter's Go code counts from 0 and uses -1 for that; the arithmetic is the same.)
 *
 * It changes in two ways only: entries appended at the end, and a suffix truncated when it
 * conflicts with the leader's log. Entries are never changed in place, so they may be shared
 * with messages and storage.
 */
export interface RaftLog<C> {
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** The term of the entry at `index`; 0 for index 0; undefined past the end. */
  termAt(index: number): number | undefined;
  /** The entry at `index` (1 to lastLogIndex). */
  entryAt(index: number): LogEntry<C>;
  /** Up to `limit` entries from `index` (inclusive) on. */
  entriesFrom(index: number, limit?: number): LogEntry<C>[];
  append(...entries: LogEntry<C>[]): void;
  /** Drops the entry at `index` and every one after it. */
  truncateFrom(index: number): void;
  /** The first index holding `term`, searching back from `index` (the follower's hint, §5.3). */
  firstIndexOfTerm(term: number, index: number): number;
  /** The last index holding `term`, or 0 if none does (the leader's use of that hint). */
  lastIndexOfTerm(term: number): number;
}

export function createRaftLog<C>(entries: readonly LogEntry<C>[] = []): RaftLog<C> {
  const log: LogEntry<C>[] = [...entries];
  const check = (index: number) => {
    if (!Number.isSafeInteger(index) || index < 1 || index > log.length) throw new RangeError(`log index ${index} is outside 1..${log.length}`);
  };
  return {
    get lastLogIndex() {
      return log.length;
    },
    get lastLogTerm() {
      return log.at(-1)?.term ?? 0;
    },
    termAt: (index) => (index === 0 ? 0 : log[index - 1]?.term),
    entryAt(index) {
      check(index);
      return log[index - 1]!;
    },
    entriesFrom: (index, limit = Number.POSITIVE_INFINITY) => log.slice(index - 1, index - 1 + limit),
    append: (...more) => void log.push(...more),
    truncateFrom(index) {
      check(index);
      log.length = index - 1;
    },
    firstIndexOfTerm(term, index) {
      let first = index;
      while (first > 1 && log[first - 2]!.term === term) first--;
      return first;
    },
    lastIndexOfTerm(term) {
      for (let i = log.length; i >= 1; i--) {
        const t = log[i - 1]!.term;
        if (t === term) return i;
        if (t < term) return 0; // terms only grow along a log
      }
      return 0;
    },
  };
}

/** Where a log ends, as RequestVote and PreVote carry it. */
export interface LogPosition {
  lastLogIndex: number;
  lastLogTerm: number;
}

/**
 * The election restriction (§5.4.1): a voter grants its vote only to a candidate whose log is at
 * least as up-to-date as its own. The later last term wins; with equal last terms, the longer
 * log. Every committed entry is on a majority, and a winner needs a majority's votes, so some
 * voter holds each committed entry and refuses a candidate without it: the winner has them all.
 */
export function isAtLeastAsUpToDate(candidate: LogPosition, voter: LogPosition): boolean {
  if (candidate.lastLogTerm !== voter.lastLogTerm) return candidate.lastLogTerm > voter.lastLogTerm;
  return candidate.lastLogIndex >= voter.lastLogIndex;
}
