// A leader's lane: how many events it has written, in large type, and its log as the track the
// lanes of its followers are drawn against. The current leader's lane is the top one; a node
// that leads an older epoch has a lane like it, marked: fenced (it refuses writes and says where
// they go), or one of two leaders (nobody told it: a split brain), with the button that makes
// it follow the current leader.
import { leaderMark, nameOf } from "./cluster.js";
import { el, setAttr, setClass, setText, show } from "./dom.js";
import { makeFollowButton } from "./follow-button.js";
import { makeTrack } from "./track.js";

/** The lane of the node at `index` while it leads; `send` sends a control through the dashboard. */
export function makeLeaderLane(index, send) {
  const name = el("h3", { class: "lane-name" });
  const role = el("p", { class: "role" });
  const number = el("b");
  const words = el("span");
  const detailText = el("span");
  const markBadge = el("span", { class: "badge mark" });
  const detail = el("p", { class: "detail" }, detailText, " ", markBadge);
  const track = makeTrack();
  const markText = el("span");
  const rejoin = makeFollowButton(index, send);
  const note = el("p", { class: "lane-note", role: "status" }, markText, " ", rejoin.node);
  const node = el(
    "article",
    { class: "lane leader-lane", "data-role": "leader" },
    el("div", { class: "gauge" }, name, role, el("div", { class: "figures" }, el("p", { class: "count" }, number, words))),
    el("div", { class: "lane-body" }, track.node, detail),
    note,
  );

  return {
    node,
    track,
    render(t, state, from, cells) {
      const n = state.nodes[index];
      const part = state.leadership.nodes[index];
      const v = n.up ? n.view : null;
      const head = n.view?.head ?? 0;
      const mark = leaderMark(state, index);
      const { leader } = state.leadership;
      const named = nameOf(state, index);

      setClass(node, `lane leader-lane${v ? "" : " outage"}${mark ? ` ${mark}` : ""}`);
      setAttr(node, "data-node", named);
      setAttr(node, "title", n.url);
      setText(name, named);
      setText(role, t.role("leader", part.epoch));
      setText(number, String(head));
      setText(words, ` ${t.written(head)}`);
      setText(detailText, v ? t.leaderDetail(v) : t.leaderDown(n.url));
      // Another leader's offsets that hold something else than the current leader's (as far as
      // the newest events of both views go): where the two histories part.
      const ref = leader !== null && leader !== index ? state.nodes[leader].view : null;
      const theirs = new Map((ref?.events ?? []).map((e) => [e.offset, e]));
      const mine = new Map((v?.events ?? []).map((e) => [e.offset, e]));
      const parted = (o) => ref !== null && mine.has(o) && (o >= ref.head || (theirs.has(o) && !sameEvent(theirs.get(o), mine.get(o))));
      track.draw(from, cells, head, (o) => (!v ? "unknown" : parted(o) ? "diverged" : "logged"), (o, kind) => `#${o}: ${kind === "diverged" ? t.divergedCell : t.legendLogged}`);

      // Why this is not simply the leader: fenced, or one of two (or more) that take writes. The
      // current leader of two only gets the badge (the warning above the lanes names the other);
      // the other one, and a fenced one, say what that means, with the way out.
      const why = v && mark !== "current" ? mark : null;
      show(markBadge, why !== null);
      setAttr(markBadge, "data-state", why);
      setText(markBadge, why === "fenced" ? t.fencedBadge : why ? t.twoLeadersBadge : "");
      const fencedBy = n.view?.status?.fencedBy;
      const said = why === "fenced" ? t.fenced(fencedBy.epoch, part.writesTo === null ? fencedBy.leaderUrl : nameOf(state, part.writesTo)) : why === "split-other" ? t.splitOther(nameOf(state, leader), state.leadership.nodes[leader].epoch) : "";
      show(note, said !== "" || part.rejoin);
      setText(markText, said);
      rejoin.render(t, state);
    },
  };
}

/** Whether two events at the same offset are the same event (not two leaders' writes). */
function sameEvent(a, b) {
  return a.type === b.type && a.orderId === b.orderId && a.at === b.at;
}
