import { isDeepStrictEqual } from "node:util";
import type { LogEntry } from "../log.ts";
import type { CommittedEntry } from "../ready.ts";

/**
 * Raft's safety properties (Figure 3 of the paper), checked as a simulation runs: each check
 * throws, through `fail`, at the first step that breaks one.
 *
 * - Election Safety: at most one leader in a term.
 * - State Machine Safety: no two nodes apply different entries at one index, and each node
 *   applies indexes in order from 1. What was applied first at each index makes up the one
 *   `history` every node's applied sequence must be a prefix of.
 * - Leader Completeness: a new leader's log holds every entry applied anywhere so far.
 */
export function createSafetyChecker<C>(fail: (message: string) => never) {
  const history: CommittedEntry<C>[] = [];
  const leaderOfTerm = new Map<number, string>();
  return {
    history: history as readonly CommittedEntry<C>[],
    /** Whether `id` is already known as the leader of `term`. */
    isLeaderOf: (id: string, term: number) => leaderOfTerm.get(term) === id,
    /** `id`, which had applied `appliedBefore` entries since it started, applies `entry`. */
    applied(id: string, appliedBefore: number, entry: CommittedEntry<C>) {
      if (entry.index !== appliedBefore + 1) fail(`${id} applied index ${entry.index} after ${appliedBefore}`);
      const first = history[entry.index - 1];
      if (first === undefined) history.push(entry);
      else if (!sameEntry(first, entry)) fail(`${id} applied ${JSON.stringify(entry)} at index ${entry.index}, where another node applied ${JSON.stringify(first)}`);
    },
    /** `id` has just become the leader of `term`, with `log` saved. */
    becameLeader(id: string, term: number, log: readonly LogEntry<C>[]) {
      const other = leaderOfTerm.get(term);
      if (other !== undefined && other !== id) fail(`two leaders in term ${term}: ${other} and ${id}`);
      leaderOfTerm.set(term, id);
      history.forEach((entry, i) => {
        if (log[i]?.term !== entry.term) fail(`${id} leads term ${term} without committed entry ${i + 1} (term ${entry.term}) in its log`);
      });
    },
  };
}

/** Whether two entries are the same, cheaply for the usual commands (numbers, strings): a restart applies the whole log again. */
function sameEntry<C>(a: CommittedEntry<C>, b: CommittedEntry<C>): boolean {
  const [x, y] = [(a as { command?: C }).command, (b as { command?: C }).command];
  return a.index === b.index && a.term === b.term && (x === y || isDeepStrictEqual(x, y)) && "noop" in a === "noop" in b;
}
