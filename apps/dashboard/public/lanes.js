// The lanes: one per node, the current leader's first, then any other node that leads (an old
// leader, fenced or not), then the followers. Every lane has a track of the same newest offsets,
// column under column, so a follower is drawn against its leader. A node has two lanes, built
// once: the one it is drawn with while it leads and the one while it follows. When it changes
// role the other takes its place; otherwise each is only updated in place.
import { drawingOrder } from "./cluster.js";
import { placeChildren } from "./dom.js";
import { makeFollowerLane } from "./follower-lane.js";
import { makeLeaderLane } from "./leader-lane.js";

/** The narrowest a track's cell may be, in rem: as many cells as fit, at least MIN_CELLS. */
const CELL_REM = 2.1;
const MIN_CELLS = 6;
const MAX_CELLS = 40;

/** Builds the lanes in `container` as nodes appear, and returns what draws them on every update. */
export function createLanes(container, send) {
  const lanes = [];

  /** How many cells fit in a track now (the same for every lane, so their columns line up). */
  const cellsThatFit = (track) => {
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
    return Math.max(MIN_CELLS, Math.min(MAX_CELLS, Math.floor(track.node.clientWidth / (CELL_REM * rem))));
  };

  return {
    render(t, state) {
      while (lanes.length < state.nodes.length) lanes.push({ leading: makeLeaderLane(lanes.length, send), following: makeFollowerLane(lanes.length, send) });
      const drawn = drawingOrder(state).map((i) => (state.leadership.nodes[i].role === "leader" ? lanes[i].leading : lanes[i].following));
      placeChildren(container, drawn.map((lane) => lane.node));
      const cells = cellsThatFit(drawn[0].track);
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
