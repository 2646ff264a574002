// The orders as each node sees them, and the leader's log. Rows are keyed (an order by its id,
// an event by its offset) and kept in a stable order: a row, and the buttons in it, stay where
// they are while the page updates.
import { leaderMark, nameOf } from "./cluster.js";
import { el, placeChildren, setAttr, setClass, setText } from "./dom.js";

/**
 * The orders table in `table`: one row per order, in the order the leader's log first had them,
 * and a column per node in the lanes' order, the current leader's first. Every other node is
 * judged against the current leader: a follower that differs is behind it (stale); another
 * leader that differs has a history of its own (two leaders, or an old leader not yet rejoined).
 */
export function createOrdersTable(table, send) {
  const head = el("tr");
  const body = el("tbody");
  const empty = el("tr", {}, el("td", { class: "empty" }));
  table.append(el("thead", {}, head), body);
  const rows = new Map();

  /** One order's row, made once: its id, its status on each node, and its buttons. */
  const makeRow = (id) => {
    const action = (key, path) => el("button", { type: "button", "data-action": key, onclick: () => send((t) => `${id}: ${t[key]}`, `/api/orders/${encodeURIComponent(id)}/${path}`) });
    const confirm = action("confirm", "confirm");
    const cancel = action("cancel", "cancel");
    const node = el("tr", { "data-order": id }, el("th", {}, id));
    const actions = el("td", { class: "actions" }, confirm, " ", cancel);
    node.append(actions);
    return { node, cells: [], actions, confirm, cancel };
  };
  /** A column's heading: the node's name, and under it its part when it leads. */
  const heading = (i, label, mark) => {
    const th = head.children[i] ?? el("th", {}, el("span"), el("small", { class: "mark" }));
    setText(th.firstChild, label);
    setText(th.lastChild, mark ?? "");
    return th;
  };

  return {
    render(t, state, order) {
      const { leader } = state.leadership;
      const names = order.map((i) => nameOf(state, i));
      const marks = { current: t.leader, "split-current": t.leader, "split-other": t.alsoLeads, fenced: t.fencedBadge };
      placeChildren(head, [heading(0, t.order), ...order.map((n, i) => heading(i + 1, names[i], marks[leaderMark(state, n)])), heading(order.length + 1, "")]);
      if (state.shownIds.length === 0) {
        setText(empty.firstChild, t.noOrders);
        setAttr(empty.firstChild, "colspan", order.length + 2);
        placeChildren(body, [empty]);
        return;
      }
      const ids = state.shownIds;
      const lead = leader === null ? null : state.nodes[leader];
      for (const id of rows.keys()) if (!ids.includes(id)) rows.delete(id);
      placeChildren(
        body,
        ids.map((id) => {
          const row = rows.get(id) ?? makeRow(id);
          rows.set(id, row);
          // A node not asked about this order yet (it just came in) shows "…", and nobody is judged against it.
          const asked = (node) => node?.view?.orders !== undefined && id in node.view.orders;
          const onLeader = lead?.view?.orders?.[id]?.status ?? null;
          while (row.cells.length < order.length) {
            const cell = el("td", { "data-order": id });
            row.cells.push(cell);
            row.node.insertBefore(cell, row.actions);
          }
          while (row.cells.length > order.length) row.cells.pop().remove();
          order.forEach((n, i) => {
            const cell = row.cells[i];
            const node = state.nodes[n];
            const status = node.view?.orders?.[id]?.status ?? null;
            const known = n !== leader && asked(lead) && asked(node);
            const differs = known && status !== onLeader; // a follower can only differ from the leader by being behind it
            const kind = n === leader ? (status === null ? "absent" : "") : !known ? "absent" : differs ? (state.leadership.nodes[n].role === "leader" ? "diverged" : "stale") : status === null ? "absent" : "fresh";
            setAttr(cell, "data-node", names[i]);
            setClass(cell, kind);
            setAttr(cell, "title", kind === "stale" ? t.stale : kind === "diverged" ? t.diverged : null);
            setText(cell, !asked(node) ? "…" : (status ?? t.missing));
          });
          setText(row.confirm, t.confirm);
          setText(row.cancel, t.cancel);
          return row.node;
        }),
      );
    },
  };
}

/** The current leader's newest events, newest first: offset, type, order and time. */
export function createLogTable(table) {
  const head = el("tr", {}, el("th"), el("th"), el("th"), el("th"));
  const body = el("tbody");
  const empty = el("tr", {}, el("td", { colspan: "4", class: "empty" }));
  table.append(el("thead", {}, head), body);
  const rows = new Map();

  return {
    render(t, lang, leader = { view: null }) {
      [t.offset, t.type, t.order, t.time].forEach((label, i) => setText(head.children[i], label));
      const events = [...(leader.view?.events ?? [])].reverse();
      if (events.length === 0) {
        setText(empty.firstChild, t.noEvents);
        placeChildren(body, [empty]);
        return;
      }
      // Keyed by node, log and offset: a leader restarted without its log writes other events at
      // the same offsets, and so does a second leader of the same log (a split brain).
      const key = (e) => `${leader.view.nodeId}:${leader.view.logId}:${e.offset}`;
      const shown = new Set(events.map(key));
      for (const k of rows.keys()) if (!shown.has(k)) rows.delete(k);
      placeChildren(
        body,
        events.map((e) => {
          const time = `${new Date(e.at).toLocaleTimeString(lang, { hour12: false })}.${String(e.at % 1000).padStart(3, "0")}`;
          const row = rows.get(key(e)) ?? el("tr", { "data-offset": e.offset }, el("td", {}, `#${e.offset}`), el("td", {}, e.type), el("td", {}, e.orderId), el("td"));
          rows.set(key(e), row);
          setText(row.lastChild, time);
          return row;
        }),
      );
    },
  };
}
