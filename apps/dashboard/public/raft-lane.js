// A Raft node's lane: its term and role in large type, its log as a track (the same indexes in
// every lane, column under column), its vote, commitIndex and lastApplied; on a follower's lane,
// the leader's matchIndex and nextIndex for it, under its own log; whether it answers and whether
// it is cut off, with the buttons that cut it off and join it again. Built once, then only
// updated in place.
import { el, setAttr, setClass, setText, show } from "./dom.js";
import { makeTrack } from "./track.js";

/** What each kind of cell means: the legend's words. */
const LEGEND = { applied: "legendApplied", logged: "legendLogged", missing: "legendMissing" };

/** The lane of the node at `index`; `send` sends a control through the dashboard. */
export function makeRaftLane(index, send) {
  const name = el("h3", { class: "lane-name" });
  const role = el("p", { class: "role-word" });
  const termNumber = el("b");
  const termWord = el("span");
  const track = makeTrack();
  const detail = el("p", { class: "detail" });
  const linkBadge = el("span", { class: "badge link" });
  const note = el("p", { class: "lane-note" });
  const progress = el("span", { class: "progress" });
  let label = "";
  const disconnect = el("button", { type: "button", title: "POST /admin/disconnect", onclick: () => void send((t) => `${label}: ${t.disconnect}`, `/api/nodes/${index}/disconnect`) });
  const reconnect = el("button", { type: "button", title: "POST /admin/reconnect", onclick: () => void send((t) => `${label}: ${t.reconnect}`, `/api/nodes/${index}/reconnect`) });
  const node = el(
    "article",
    { class: "lane raft-lane" },
    el("div", { class: "gauge" }, name, role, el("p", { class: "term" }, termWord, termNumber), el("p", { class: "lane-status" }, linkBadge)),
    el("div", { class: "lane-body" }, track.node, detail, el("div", { class: "lane-foot" }, progress, el("span", { class: "raft-controls" }, disconnect, reconnect))),
    note,
  );

  return {
    node,
    track,
    /** `from`, `cells`: the indexes every lane shows; `last`: the longest log's last index. */
    render(t, state, from, cells, last) {
      const n = state.nodes[index];
      const v = n.view;
      const leader = state.leader === null ? null : state.nodes[state.leader].view;
      label = v?.id ?? n.url;
      const cut = Boolean(v?.disconnected);
      const oldLeader = v?.role === "leader" && n.up && !cut && leader !== null && state.leader !== index;

      setClass(node, `lane raft-lane${v ? ` role-${v.role}` : ""}${state.leader === index ? " leader-lane" : ""}${!n.up ? " outage" : cut ? " cut-off" : ""}`);
      setAttr(node, "data-node", label);
      setAttr(node, "data-role", v?.role ?? "unknown");
      setAttr(node, "data-term", v?.currentTerm);
      setAttr(node, "data-up", String(n.up));
      setAttr(node, "title", n.url);
      setText(name, label);
      setText(role, v ? t.roles[v.role] ?? v.role : "?");
      setText(termNumber, v ? String(v.currentTerm) : "?");
      setText(termWord, t.term);

      track.draw(from, cells, last + 1, (i) => (!v ? "unknown" : i <= v.lastApplied ? "applied" : i <= v.logLength ? "logged" : "missing"), (i, kind) => `${t.index} ${i}: ${t[LEGEND[kind]] ?? "?"}`);
      setText(detail, v ? [t.votedFor(v.votedFor), v.role === "leader" ? null : t.follows(v.leaderId), t.log(v.logLength), `commitIndex ${v.commitIndex}`, `lastApplied ${v.lastApplied}`].filter(Boolean).join(" · ") : n.url);
      // Whether it answers the dashboard and, if it does, whether it is cut off from the others (it says so itself).
      const link = !n.up ? "down" : cut ? "disconnected" : "up";
      setAttr(linkBadge, "data-state", link);
      setText(linkBadge, t[link]);

      const said = !n.up ? t.downNote : cut ? (v.role === "leader" ? t.cutLeaderNote : t.cutNote) : oldLeader ? t.oldLeaderNote(leader.currentTerm) : "";
      show(note, said !== "");
      setText(note, said);

      // What the leader knows of this node: how far its log is known to match the leader's (matchIndex), and the next entry it sends it (nextIndex).
      const seen = leader?.peers?.find((p) => p.id === v?.id);
      show(progress, seen !== undefined);
      setText(progress, seen ? t.progress(seen) : "");
      setAttr(progress, "title", seen ? `${leader.id}: GET /status → peers` : null);

      disconnect.disabled = !n.up || cut;
      reconnect.disabled = !n.up || !cut;
      setAttr(disconnect, "aria-pressed", String(cut));
      setText(disconnect, t.disconnect);
      setText(reconnect, t.reconnect);
    },
  };
}
