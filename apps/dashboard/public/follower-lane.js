// A follower's lane: how far behind its leader it is, in big type, and its track under the
// leader's, column under column: where its filled cells stop, it stops. Its state on both sides of
// its link, an outage when there is one, and its controls: lag, link, restart, and the failover
// ones (promote it; make it follow the current leader when it follows another).
import { nameOf } from "./cluster.js";
import { el, setAttr, setClass, setText, show } from "./dom.js";
import { makeFollowButton } from "./follow-button.js";
import { makeTrack } from "./track.js";

/** Why a follower's lane shows an outage, most serious first; null while it replicates. */
function outageOf(f, s, row) {
  if (!f.up) return "down";
  if (s?.link === "dropped" || s?.link === "held") return s.link;
  if (s?.leaderReachable === false) return "unreachable";
  if (row?.state === "disconnected") return "disconnected";
  return null;
}

/** The lane of the node at `index` while it follows; `send` sends a control through the dashboard. */
export function makeFollowerLane(index, send) {
  const name = el("h3", { class: "lane-name" });
  const role = el("p", { class: "role" });
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

  let current = { name: "", applyLagMs: 0 };
  /** What a control of this lane did, in the words of the page's language when it is said. */
  const label = (key) => {
    const who = current.name;
    return (t) => `${who}: ${t[key]}`;
  };
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
        void send(label("setLag"), `/api/nodes/${index}/apply-lag`, { applyLagMs: Number(typed) }).then((ok) => {
          if (ok && input.value === typed) delete input.dataset.edited;
        });
      },
    },
  );
  const lagLabel = el("label", {}, el("span", { class: "lag-label" }), " ", input);
  const setButton = el("button", { type: "submit", class: "set-lag" });
  lagForm.append(lagLabel, setButton);
  const position = el("p", { class: "detail position" });
  const hold = el("button", { type: "button", onclick: () => send(label("hold"), `/api/nodes/${index}/pause`, { mode: "hold" }) });
  const drop = el("button", { type: "button", onclick: () => send(label("drop"), `/api/nodes/${index}/pause`, { mode: "drop" }) });
  const resume = el("button", { type: "button", onclick: () => send(label("resume"), `/api/nodes/${index}/resume`) });
  const restart = el("button", { type: "button", onclick: () => send(label("restart"), `/api/nodes/${index}/restart`) });
  const controls = el("div", { class: "lane-controls" }, lagForm, hold, drop, resume, restart);
  // Failover: it becomes the leader of a new epoch; or it follows the current leader (it follows another, an old one).
  const promote = el("button", { type: "button", class: "promote", onclick: () => send(label("promote"), `/api/nodes/${index}/promote`) });
  const rejoin = makeFollowButton(index, send);

  const node = el(
    "article",
    { class: "lane", "data-role": "follower" },
    el("div", { class: "gauge" }, name, role, el("div", { class: "figures" }, lag, lagMs)),
    el("div", { class: "lane-body" }, el("div", { class: "lane-status" }, seenLabel, seen, via, el("span", { class: "role-controls" }, promote, rejoin.node)), track.node, position),
    outage,
    controls,
  );

  return {
    node,
    track,
    render(t, state, from, cells) {
      const f = state.nodes[index];
      const part = state.leadership.nodes[index];
      // Drawn against the leader it says its writes go to (the current one, or an old one it still follows).
      const leader = part.against === null ? { up: false, view: null } : state.nodes[part.against];
      const s = f.view?.status;
      const row = leader.up ? (leader.view?.followers ?? []).find((r) => r.id === s?.followerId) : undefined;
      const head = leader.view?.head ?? s?.head ?? 0; // a leader never seen (the dashboard opened after it went): its head as the follower last saw it
      current = { name: nameOf(state, index), applyLagMs: s?.applyLagMs ?? 0 };
      const link = s?.link ?? "open";
      const events = s ? Math.max(0, head - (s.appliedOffset ?? -1) - 1) : null;
      const ms = events ? (row?.lag?.ms ?? s?.lag?.ms ?? null) : null;
      const why = outageOf(f, s, row);

      setClass(node, `lane follower${events ? " lagging" : ""}${why ? ` outage ${why}` : ""}`);
      setAttr(node, "data-node", current.name);
      setAttr(node, "title", f.url);
      setText(name, current.name);
      setText(role, t.role("follower", part.epoch));
      setClass(lag, `lag ${events === null ? "unknown" : events ? "behind" : "zero"}`);
      setText(lagNumber, events ? String(events) : "");
      setText(lagWords, events === null ? "?" : events === 0 ? t.upToDate : ` ${t.behind(events)}`);
      setText(lagMs, ms === null ? "" : t.behindMs(ms));

      const seenState = row?.state ?? "unknown";
      show(seenLabel, leader.up); // a leader that does not answer sees nothing we can show
      show(seen, leader.up);
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
      setText(promote, t.promote);
      setAttr(promote, "title", "POST /admin/promote");
      rejoin.render(t, state);
    },
  };
}
