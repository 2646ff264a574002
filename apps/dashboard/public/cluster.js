// What the page reads from the dashboard's state about the cluster as a whole: each node's name,
// and the order its lanes and columns go in. Who leads is decided by the dashboard server
// (src/leadership.ts) from what the nodes say; the page only draws it.

/** A node's name: its id as it says it, or its URL until it has answered. */
export function nameOf(state, i) {
  const v = state.nodes[i]?.view;
  return v?.nodeId ?? v?.status?.followerId ?? state.nodes[i]?.url ?? "?";
}

/**
 * The nodes in the order the page draws them: the current leader first, then every other node
 * that leads (a leader of an older epoch, fenced or not), then the followers, each group in the
 * dashboard's order. A node that changes role moves, so the top lane is always the leader's.
 */
export function drawingOrder(state) {
  const { leader, nodes: parts } = state.leadership;
  const rest = parts.map((_, i) => i).filter((i) => i !== leader);
  return [...(leader === null ? [] : [leader]), ...rest.filter((i) => parts[i].role === "leader"), ...rest.filter((i) => parts[i].role === "follower")];
}

/** Which leadership mark a node gets: the current leader, another that takes writes too (two leaders!), or one fenced; null for the rest. */
export function leaderMark(state, i) {
  const { leader, claiming, nodes: parts } = state.leadership;
  if (parts[i].role !== "leader") return null;
  if (state.nodes[i].view?.status?.fencedBy) return "fenced";
  if (claiming.length > 1 && claiming.includes(i)) return i === leader ? "split-current" : "split-other";
  return i === leader ? "current" : null;
}
