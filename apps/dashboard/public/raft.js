// The Raft page: draws the group the dashboard server pushes over /stream (a lane per member, in
// the order RAFT_URLS lists them, so that a button never moves under the pointer), and sends the
// controls back through it: a write to the leader, and each node's Disconnect and Reconnect.
import { el, placeChildren, setAttr, setText } from "./dom.js";
import { startPage } from "./page.js";
import { makeRaftLane } from "./raft-lane.js";
import { RAFT_TEXT } from "./raft-text.js";
import { cellsThatFit } from "./track.js";

/** The most cells a track shows (cells are sized in the lanes' em, which grows as members are fewer). */
const MAX_CELLS = 30;

const $ = (id) => document.getElementById(id);
const lanes = [];

function render(t, state, lang) {
  const { nodes, leader, majority } = state;
  setText($("mode"), t.mode(nodes.length, majority, nodes.find((n) => n.up && n.view)?.view));
  while (lanes.length < nodes.length) lanes.push(makeRaftLane(lanes.length, send));
  placeChildren($("lanes"), lanes.map((lane) => lane.node));
  setAttr($("lanes"), "data-count", nodes.length); // the fewer the lanes, the larger their type (raft.css)
  const cells = cellsThatFit(lanes[0].track, { sizedBy: $("lanes"), max: MAX_CELLS });
  $("lanes").style.setProperty("--cells", String(cells));
  // The newest indexes of the longest log, so that a node behind shows what it lacks.
  const last = Math.max(0, ...nodes.map((n) => n.view?.logLength ?? 0));
  const from = Math.max(1, last - cells + 1);
  for (const lane of lanes) lane.render(t, state, from, cells, last);
  setText($("explain"), t.explain(majority, nodes.length));
  const steps = t.steps(majority, nodes.length);
  placeChildren($("try"), steps.map((_, i) => $("try").children[i] ?? el("li")));
  steps.forEach((step, i) => setText($("try").children[i], step));

  const lead = leader === null ? null : nodes[leader].view;
  setText($("write-to"), lead ? t.writeTo(lead.id, lead.currentTerm) : t.noLeader);
  setAttr($("write-to"), "title", leader === null ? null : nodes[leader].url);
  renderLeaders(t, state.leaders, lang);
}

/** The leaders seen, newest first; the list is made again only when what it says changes. */
function renderLeaders(t, leaders, lang) {
  const list = $("leaders");
  const said = JSON.stringify([lang, leaders]);
  if (list.dataset.said === said) return;
  list.dataset.said = said;
  const items = leaders.map((l) => el("li", { "data-term": l.term, "data-node": l.id }, el("b", {}, t.leaderSeen(l)), l.withoutLeaderMs === null ? null : " ", l.withoutLeaderMs === null ? null : el("span", {}, t.withoutLeader(l.withoutLeaderMs))));
  list.replaceChildren(...(items.length ? items : [el("li", { class: "none" }, t.noLeaders)]));
}

const { send } = startPage({ texts: RAFT_TEXT, render, detail: (t, reply) => (reply.committed ? t.committed(reply.committed) : "") });
