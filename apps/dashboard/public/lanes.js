// The lanes: one per node, the current leader's first, then any other node that leads (an old
// leader, fenced or not), then the followers. Every lane has a track of the same newest offsets,
// column under column, so a follower is drawn against its leader. A node has two lanes, built
// once: the one it is drawn with while it leads and the one while it follows. When it changes
// role the other takes its place; otherwise each is only updated in place.
import { placeChildren } from "./dom.js";
import { makeFollowerLane } from "./follower-lane.js";
import { makeLeaderLane } from "./leader-lane.js";
import { cellsThatFit } from "./track.js";

/** The most cells a track shows (cells are sized in rem: the root's font size). */
const MAX_CELLS = 40;

/** Builds the lanes in `container` as nodes appear, and returns what draws them on every update. */
export function createLanes(container, send) {
  const lanes = [];

  return {
    /** `order`: the nodes' indexes in drawing order (cluster.js's drawingOrder). */
    render(t, state, order) {
      while (lanes.length < state.nodes.length) lanes.push({ leading: makeLeaderLane(lanes.length, send), following: makeFollowerLane(lanes.length, send) });
      const drawn = order.map((i) => (state.leadership.nodes[i].role === "leader" ? lanes[i].leading : lanes[i].following));
      placeChildren(container, drawn.map((lane) => lane.node));
      const cells = cellsThatFit(drawn[0].track, { sizedBy: document.documentElement, max: MAX_CELLS });
      container.style.setProperty("--cells", String(cells));
      // The newest offsets of the longest log that any lane is drawn against (a leader's, or for a
      // leader never seen, as its followers last saw it), from the current leader's first.
      const top = state.leadership.leader === null ? null : state.nodes[state.leadership.leader].view;
      const head = Math.max(0, ...state.nodes.map((n) => n.view?.head ?? n.view?.status?.head ?? 0));
      const from = Math.max(top?.start ?? 0, head - cells);
      for (const lane of drawn) lane.render(t, state, from, cells);
    },
  };
}
