// The lanes: the leader's first, then one per follower. Every lane has a track of the same
// newest offsets, column under column, so a follower is drawn against the leader: where its
// filled cells stop, it stops. Each lane is built once and then only updated in place.
import { el, setAttr, setClass, setText, show } from "./dom.js";

/** The narrowest a track's cell may be, in rem: as many cells as fit, at least MIN_CELLS. */
const CELL_REM = 2.1;
const MIN_CELLS = 6;
const MAX_CELLS = 40;

/** A track of `cells` cells; `draw` gives each its offset's kind, or hides a cell past the head. */
function makeTrack() {
  const node = el("div", { class: "track" });
  return {
    node,
    draw(from, count, head, kindOf, titleOf) {
      while (node.children.length < count) node.append(el("span", { class: "cell" }));
      while (node.children.length > count) node.lastElementChild.remove();
      for (let i = 0; i < count; i++) {
        const cell = node.children[i];
        const offset = from + i;
        const kind = offset < head ? kindOf(offset) : "future";
        setClass(cell, `cell ${kind}`);
        setText(cell, offset < head ? String(offset) : "");
        setAttr(cell, "title", offset < head ? titleOf(offset, kind) : null);
      }
    },
  };
}

/** The leader's lane: how many events it has written, and its log as the track every follower is drawn against. */
function makeLeaderLane() {
  const name = el("h3", { class: "lane-name" });
  const number = el("b");
  const words = el("span");
  const detail = el("p", { class: "detail" });
  const track = makeTrack();
  const node = el("article", { class: "lane leader-lane", "data-node": "leader" }, el("div", { class: "gauge" }, name, el("div", { class: "figures" }, el("p", { class: "count" }, number, words))), el("div", { class: "lane-body" }, track.node, detail));
  return {
    node,
    track,
    render(t, leader, from, cells) {
      const v = leader.up ? leader.view : null;
      const head = leader.view?.head ?? 0;
      setClass(node, `lane leader-lane${v ? "" : " outage"}`);
      setText(name, t.leader);
      setText(number, String(head));
      setText(words, ` ${t.written(head)}`);
      setText(detail, v ? t.leaderDetail(v) : t.leaderDown(leader.url));
      setAttr(node, "title", leader.url);
      track.draw(from, cells, head, () => (v ? "logged" : "unknown"), (o) => `#${o}: ${t.legendLogged}`);
    },
  };
}

/** Why a follower's lane shows an outage, most serious first; null while it replicates. */
function outageOf(f, s, row) {
  if (!f.up) return "down";
  if (s?.link === "dropped" || s?.link === "held") return s.link;
  if (s?.leaderReachable === false) return "unreachable";
  if (row?.state === "disconnected") return "disconnected";
  return null;
}

/** A follower's lane: how far behind the leader it is, in big type, its track, its state on both sides of its link, and its controls. */
function makeFollowerLane(index, send) {
  const name = el("h3", { class: "lane-name" });
  const lag = el("p", { class: "lag" });
  const lagNumber = el("b");
  const lagWords = el("span");
  lag.append(lagNumber, lagWords);
  const lagMs = el("p", { class: "lag-ms" });
  const seenLabel = el("span", { class: "seen-label" });
  const seen = el("span", { class: "badge seen" });
  const via = el("span", { class: "via" });
  const track = makeTrack();
  // The outage, when there is one: what is cut (the link, held or dropped; the upstream, out of
  // reach; the follower itself, not answering), what that does, and the follower's own words.
  const outageBadge = el("span", { class: "badge cut" });
  const outageText = el("span");
  const saysLabel = el("span", { class: "says-label" });
  const says = el("span", { class: "says" });
  const problem = el("span", { class: "problem" }, saysLabel, " ", says);
  const outage = el("p", { class: "outage-note", role: "status" }, outageBadge, " ", outageText, problem);

  let t;
  let current = { name: "", applyLagMs: 0 };
  const label = (key) => () => `${current.name}: ${t[key]}`;
  const input = el("input", { type: "number", min: "0", max: "600000", step: "100", inputmode: "numeric", required: "" });
  // A value being typed is the teacher's until it is set (Enter or the button) or undone (Escape).
  input.addEventListener("input", () => (input.dataset.edited = "true"));
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    delete input.dataset.edited;
    input.value = String(current.applyLagMs);
  });
  const lagForm = el(
    "form",
    {
      class: "lag-form",
      onsubmit: (event) => {
        event.preventDefault();
        const typed = input.value;
        void send(label("setLag"), `/api/followers/${index}/apply-lag`, { applyLagMs: Number(typed) }).then((ok) => {
          if (ok && input.value === typed) delete input.dataset.edited;
        });
      },
    },
  );
  const lagLabel = el("label", {}, el("span", { class: "lag-label" }), " ", input);
  const setButton = el("button", { type: "submit", class: "set-lag" });
  lagForm.append(lagLabel, setButton);
  const position = el("p", { class: "detail position" });
  const hold = el("button", { type: "button", onclick: () => send(label("hold"), `/api/followers/${index}/pause`, { mode: "hold" }) });
  const drop = el("button", { type: "button", onclick: () => send(label("drop"), `/api/followers/${index}/pause`, { mode: "drop" }) });
  const resume = el("button", { type: "button", onclick: () => send(label("resume"), `/api/followers/${index}/resume`) });
  const restart = el("button", { type: "button", onclick: () => send(label("restart"), `/api/followers/${index}/restart`) });
  const controls = el("div", { class: "lane-controls" }, lagForm, hold, drop, resume, restart);

  const node = el(
    "article",
    { class: "lane" },
    el("div", { class: "gauge" }, name, el("div", { class: "figures" }, lag, lagMs)),
    el("div", { class: "lane-body" }, el("div", { class: "lane-status" }, seenLabel, seen, via), track.node, position),
    outage,
    controls,
  );

  return {
    node,
    render(text, f, leader, from, cells) {
      t = text;
      const s = f.view?.status;
      const row = (leader.view?.followers ?? []).find((r) => r.id === s?.followerId);
      const head = leader.view?.head ?? 0;
      current = { name: s?.followerId ?? f.url, applyLagMs: s?.applyLagMs ?? 0 };
      const link = s?.link ?? "open";
      const events = s ? Math.max(0, head - (s.appliedOffset ?? -1) - 1) : null;
      const ms = events ? (row?.lag?.ms ?? s?.lag?.ms ?? null) : null;
      const why = outageOf(f, s, row);

      setClass(node, `lane follower${events ? " lagging" : ""}${why ? ` outage ${why}` : ""}`);
      setAttr(node, "data-follower", current.name);
      setAttr(node, "title", f.url);
      setText(name, current.name);
      setClass(lag, `lag ${events === null ? "unknown" : events ? "behind" : "zero"}`);
      setText(lagNumber, events ? String(events) : "");
      setText(lagWords, events === null ? "?" : events === 0 ? t.upToDate : ` ${t.behind(events)}`);
      setText(lagMs, ms === null ? "" : t.behindMs(ms));

      const seenState = row?.state ?? "unknown";
      setText(seenLabel, t.seen);
      setAttr(seen, "data-state", seenState);
      setText(seen, t.states[seenState] ?? seenState);
      setText(via, row?.via ? t.via(row.via) : "");

      track.draw(from, cells, head, (o) => (!s ? "unknown" : o <= (s.appliedOffset ?? -1) ? "applied" : o < s.nextFrom ? "received" : "missing"), (o, kind) => `#${o}: ${t[`legend${kind[0].toUpperCase()}${kind.slice(1)}`] ?? ""}`);
      setText(position, s ? `${t.applied(s.appliedOffset)} · ${t.received(s.nextFrom - 1)}` : f.url);

      show(outage, why !== null);
      show(outageBadge, why !== null && why !== "disconnected"); // that one is the leader's badge above
      setAttr(outageBadge, "data-state", why);
      setText(outageBadge, why ? t.states[why] : "");
      setText(outageText, why ? t.outage[why] : "");
      const problemText = f.up ? (s?.upstreamProblem ?? "") : "";
      show(problem, problemText !== "");
      setText(saysLabel, t.says);
      setText(says, problemText);

      if (!input.dataset.edited && document.activeElement !== input) input.value = String(current.applyLagMs);
      setAttr(input, "aria-label", `${t.lagLabel} ${current.name}`);
      setText(lagLabel.firstChild, t.lagLabel);
      setText(setButton, t.setLag);
      setText(hold, t.hold);
      setText(drop, t.drop);
      setText(resume, t.resume);
      setText(restart, t.restart);
      setAttr(hold, "aria-pressed", String(link === "held"));
      setAttr(drop, "aria-pressed", String(link === "dropped"));
      setAttr(resume, "disabled", link === "open");
    },
  };
}

/** Builds the lanes in `container` once, and returns what draws them on every update. */
export function createLanes(container, send) {
  const leaderLane = makeLeaderLane();
  container.append(leaderLane.node);
  const followerLanes = [];

  /** How many cells fit in a track now (the same for every lane, so their columns line up). */
  const cellsThatFit = () => {
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
    const width = leaderLane.track.node.clientWidth;
    return Math.max(MIN_CELLS, Math.min(MAX_CELLS, Math.floor(width / (CELL_REM * rem))));
  };

  return {
    render(t, leader, followers) {
      while (followerLanes.length < followers.length) {
        const lane = makeFollowerLane(followerLanes.length, send);
        followerLanes.push(lane);
        container.append(lane.node);
      }
      const cells = cellsThatFit();
      container.style.setProperty("--cells", String(cells));
      const head = leader.view?.head ?? 0;
      const from = Math.max(leader.view?.start ?? 0, head - cells);
      leaderLane.render(t, leader, from, cells);
      followers.forEach((f, i) => followerLanes[i].render(t, f, leader, from, cells));
    },
  };
}
