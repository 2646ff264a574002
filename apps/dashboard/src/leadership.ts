import { sameNode } from "@lab/service";

/** One node as the dashboard last saw it: its URL (as LEADER_URL or FOLLOWER_URLS names it), whether it answers, and its last `GET /watch` view. */
export interface WatchedNode {
  url: string;
  up: boolean;
  view: Record<string, any> | null;
}

/** A node's part in the cluster, as the page draws it; every other node is named by its index in the dashboard's list. */
export interface NodePart {
  role: "leader" | "follower";
  /** The epoch it leads or follows; null before it has answered. */
  epoch: number | null;
  /** Where it says writes go: itself for a leader, the newer leader for a fenced one, the leader above it for a follower; null while unknown, or when that is no node watched here. */
  writesTo: number | null;
  /** The leader whose log its lane is drawn against: itself for a leader; for a follower, the leader it says writes go to, else the current leader. */
  against: number | null;
  /** Whether "Follow the leader" makes sense: it answers, and leads while another node is the leader, or follows a chain that ends elsewhere. */
  rejoin: boolean;
}

export interface Leadership {
  /** Where writes go: the highest-epoch leader that is not fenced (on a tie, the one that answers, then the first listed). Null when no node leads. */
  leader: number | null;
  /** The nodes that answer as leaders and are not fenced, the current leader first: two or more is a split brain. */
  claiming: number[];
  nodes: NodePart[];
}

/**
 * Reads who leads from what every node last said of itself: any node can change role (`POST
 * /admin/promote`, `POST /admin/follow`), so the dashboard never assumes that the node at
 * LEADER_URL leads. Until a node has answered it counts as what it was started as (the first
 * node a leader, the others followers). A node that does not answer keeps the part it had: a
 * leader taken off the network is still the leader until another is promoted.
 */
export function readLeadership(nodes: WatchedNode[]): Leadership {
  const roleOf = (n: WatchedNode, i: number): NodePart["role"] => (n.view?.role === "leader" || n.view?.role === "follower" ? n.view.role : i === 0 ? "leader" : "follower");
  const epochOf = (n: WatchedNode): number | null => (typeof n.view?.epoch === "number" ? n.view.epoch : null);
  const fenced = (n: WatchedNode) => Boolean(n.view?.status?.fencedBy);
  const indexOf = (url: unknown): number | null => {
    if (typeof url !== "string") return null;
    const i = nodes.findIndex((n) => sameNode(n.url, url) || (typeof n.view?.url === "string" && sameNode(n.view.url, url)));
    return i < 0 ? null : i;
  };

  const candidates = nodes
    .map((n, i) => ({ n, i }))
    .filter(({ n, i }) => roleOf(n, i) === "leader" && !fenced(n))
    .sort((a, b) => (epochOf(b.n) ?? -1) - (epochOf(a.n) ?? -1) || Number(b.n.up) - Number(a.n.up) || a.i - b.i);
  const leader = candidates[0]?.i ?? null;
  const claiming = candidates.filter(({ n }) => n.up && n.view !== null).map(({ i }) => i);

  const parts = nodes.map((n, i) => {
    const role = roleOf(n, i);
    const writesTo = role === "leader" ? (fenced(n) ? indexOf(n.view?.status?.fencedBy?.leaderUrl) : i) : indexOf(n.view?.status?.writesTo ?? n.view?.status?.leaderUrl);
    return { role, epoch: epochOf(n), writesTo };
  });
  return {
    leader,
    claiming,
    nodes: parts.map((p, i): NodePart => {
      const above = p.writesTo === null ? undefined : parts[p.writesTo];
      const against = p.role === "leader" ? i : above?.role === "leader" ? p.writesTo : leader;
      const rejoin = leader !== null && i !== leader && nodes[i]!.up && (p.role === "leader" || p.writesTo !== leader);
      return { ...p, against, rejoin };
    }),
  };
}

