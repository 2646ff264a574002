import type { LogEntry } from "./log.ts";

/** currentTerm and votedFor: the two words of Raft's persistent state besides the log. */
export interface HardState {
  currentTerm: number;
  /** The candidate this node voted for in currentTerm, or null. */
  votedFor: string | null;
}

/** All of a node's persistent state (Figure 2): what it must find again after a crash. */
export interface PersistentState<C> extends HardState {
  log: LogEntry<C>[];
}

/** What changed since the last save: a new HardState, and the log from `entries.from` on. */
export interface Changes<C> {
  hardState?: HardState | undefined;
  /** The log from index `from` on is now `entries`: whatever was stored from there is replaced. */
  entries?: { from: number; entries: LogEntry<C>[] } | undefined;
}

/**
 * Where a node keeps its persistent state. Raft's safety rests on it: a node that forgot its vote
 * could vote twice in a term, and one that forgot entries it acknowledged could let a committed
 * entry vanish. So `save` returns only once the changes are durable, and the caller sends the
 * messages that depend on them (a vote, an AppendEntries reply) only after it.
 */
export interface RaftStorage<C> {
  /** The state as last saved (all zero and empty for a node that never saved anything). */
  load(): PersistentState<C>;
  save(changes: Changes<C>): void;
}

/** Entries are stored from index `from` of a stored log of `length` entries: within it, or right after its end. */
export function checkStoreFrom(from: number, length: number): void {
  if (from < 1 || from > length + 1) throw new RangeError(`cannot store entries from index ${from}: the stored log ends at ${length}`);
}

/** Applies `changes` to a log kept as an array (index i at position i - 1). */
export function applyChanges<C>(log: LogEntry<C>[], changes: Changes<C>): void {
  if (!changes.entries) return;
  const { from, entries } = changes.entries;
  checkStoreFrom(from, log.length);
  log.length = from - 1;
  log.push(...entries);
}

/**
 * Storage in memory, as in the chapter's tests (eliben/raft's MapStorage): it survives the node,
 * not the process. The simulation keeps one per node, so that a crashed node restarts with
 * exactly what it had saved.
 */
export function createMemoryStorage<C>(): RaftStorage<C> & { readonly saves: number } {
  let hardState: HardState = { currentTerm: 0, votedFor: null };
  const log: LogEntry<C>[] = [];
  let saves = 0;
  return {
    load: () => ({ ...hardState, log: [...log] }),
    save(changes) {
      if (changes.hardState) hardState = { ...changes.hardState };
      applyChanges(log, changes);
      saves++;
    },
    get saves() {
      return saves;
    },
  };
}
