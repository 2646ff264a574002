import type { WatchedNode } from "./leadership.ts";

/** A leader the dashboard saw: the term it led, its id, and how long the group had none before it. */
export interface SeenLeader {
  term: number;
  id: string;
  /** From when the leader before it stopped counting (cut off, not answering, stepped down) until this one was seen; null when unknown (the first one seen, or one that took over with no gap seen). */
  withoutLeaderMs: number | null;
}

/**
 * Where writes go in a Raft group, read from what every node last said (`GET /watch`, its
 * /status): the node that answers, leads, and is not cut off (`/admin/disconnect`), in the
 * newest such term. Null during an election, or while no node that leads can reach the others.
 * A leader cut off still says it leads until checkQuorum makes it step down (within an election
 * timeout): it cannot commit anything, so writes do not go to it.
 */
export function readRaftLeader(nodes: readonly WatchedNode[]): number | null {
  let leader: number | null = null;
  nodes.forEach((n, i) => {
    if (!n.up || n.view?.role !== "leader" || n.view.disconnected) return;
    if (leader === null || n.view.currentTerm > nodes[leader]!.view!.currentTerm) leader = i;
  });
  return leader;
}

/** How many leaders the page lists, newest first. */
const LEADERS_KEPT = 6;

/**
 * The leaders a dashboard has seen, newest first, and how long the group was without one before
 * each (an election takes a few hundred ms): `note` is called with every new state of the nodes.
 */
export function createLeaderHistory(now: () => number = Date.now) {
  let seen: SeenLeader[] = [];
  let lostAt: number | null = null;
  return {
    note(nodes: readonly WatchedNode[]) {
      const i = readRaftLeader(nodes);
      if (i === null) {
        if (seen.length > 0 && lostAt === null) lostAt = now();
        return;
      }
      const { id, currentTerm: term } = nodes[i]!.view!;
      const last = seen[0];
      if (!last || last.id !== id || last.term !== term) {
        seen = [{ term, id, withoutLeaderMs: lostAt === null ? null : now() - lostAt }, ...seen].slice(0, LEADERS_KEPT);
      }
      lostAt = null;
    },
    get seen(): readonly SeenLeader[] {
      return seen;
    },
  };
}
