/** How many votes or copies make a majority of a group of `size` members (the leader counts). */
export function majority(size: number): number {
  return Math.floor(size / 2) + 1;
}

/**
 * The leader's commit rule (§5.3 and §5.4.2): the highest index stored on a majority (the leader
 * counts, with its whole log), but only if that entry is of the leader's current term. An older
 * term's entry on a majority can still be overwritten (Figure 8: a leader of a later term that
 * never had it may be elected), so it is committed only indirectly, when an entry of the current
 * term after it reaches a majority. Returns the new commitIndex; it never goes back.
 *
 * `matchIndexes` are the followers' matchIndex values; `termAt` is the leader's log.
 */
export function advanceCommitIndex({
  commitIndex,
  currentTerm,
  lastLogIndex,
  matchIndexes,
  termAt,
}: {
  commitIndex: number;
  currentTerm: number;
  lastLogIndex: number;
  matchIndexes: readonly number[];
  termAt: (index: number) => number | undefined;
}): number {
  const stored = [lastLogIndex, ...matchIndexes].sort((a, b) => b - a);
  const onMajority = stored[majority(stored.length) - 1]!;
  if (onMajority > commitIndex && termAt(onMajority) === currentTerm) return onMajority;
  return commitIndex;
}
