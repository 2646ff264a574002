// The orders as each node sees them, and the leader's log. Rows are keyed (an order by its id,
// an event by its offset) and kept in a stable order: a row, and the buttons in it, stay where
// they are while the page updates.
import { el, placeChildren, setAttr, setClass, setText } from "./dom.js";

/** The orders table in `table`: one row per order, in the order the leader's log first had them. */
export function createOrdersTable(table, send) {
  const head = el("tr");
  const body = el("tbody");
  const empty = el("tr", {}, el("td", { class: "empty" }));
  table.append(el("thead", {}, head), body);
  const rows = new Map();
  let t;

  /** One order's row, made once: its id, its status on the leader, on each follower, and its buttons. */
  const makeRow = (id) => {
    const action = (key, path) => el("button", { type: "button", "data-action": key, onclick: () => send(() => `${id}: ${t[key]}`, `/api/orders/${encodeURIComponent(id)}/${path}`) });
    const confirm = action("confirm", "confirm");
    const cancel = action("cancel", "cancel");
    const leaderCell = el("td", { "data-order": id, "data-node": "leader" });
    const node = el("tr", { "data-order": id }, el("th", {}, id), leaderCell);
    const actions = el("td", { class: "actions" }, confirm, " ", cancel);
    node.append(actions);
    return { node, leaderCell, cells: [], actions, confirm, cancel };
  };

  return {
    render(text, leader, followers, ids) {
      t = text;
      const names = followers.map((f) => f.view?.status?.followerId ?? f.url);
      placeChildren(head, [t.order, t.leader, ...names, ""].map((label, i) => {
        const th = head.children[i] ?? el("th");
        setText(th, label);
        return th;
      }));
      if (ids.length === 0) {
        setText(empty.firstChild, t.noOrders);
        setAttr(empty.firstChild, "colspan", names.length + 3);
        placeChildren(body, [empty]);
        return;
      }
      for (const id of rows.keys()) if (!ids.includes(id)) rows.delete(id);
      placeChildren(
        body,
        ids.map((id) => {
          const row = rows.get(id) ?? makeRow(id);
          rows.set(id, row);
          // A node not asked about this order yet (it just came in) shows "…", and nobody is judged against it.
          const asked = (node) => node.view?.orders !== undefined && id in node.view.orders;
          const onLeader = leader.view?.orders?.[id]?.status ?? null;
          setText(row.leaderCell, asked(leader) ? (onLeader ?? t.missing) : "…");
          setClass(row.leaderCell, onLeader === null ? "absent" : "");
          while (row.cells.length < followers.length) {
            const cell = el("td", { "data-order": id });
            row.cells.push(cell);
            row.node.insertBefore(cell, row.actions);
          }
          followers.forEach((f, i) => {
            const cell = row.cells[i];
            const status = f.view?.orders?.[id]?.status ?? null;
            const known = asked(leader) && asked(f);
            const stale = known && status !== onLeader; // a follower can only differ from the leader by being behind it
            setAttr(cell, "data-node", names[i]);
            setClass(cell, !known ? "absent" : stale ? "stale" : status === null ? "absent" : "fresh");
            setAttr(cell, "title", stale ? t.stale : null);
            setText(cell, !asked(f) ? "…" : (status ?? t.missing));
          });
          setText(row.confirm, t.confirm);
          setText(row.cancel, t.cancel);
          return row.node;
        }),
      );
    },
  };
}

/** The leader's newest events, newest first: offset, type, order and time. */
export function createLogTable(table) {
  const head = el("tr", {}, el("th"), el("th"), el("th"), el("th"));
  const body = el("tbody");
  const empty = el("tr", {}, el("td", { colspan: "4", class: "empty" }));
  table.append(el("thead", {}, head), body);
  const rows = new Map();

  return {
    render(t, lang, leader) {
      [t.offset, t.type, t.order, t.time].forEach((label, i) => setText(head.children[i], label));
      const events = [...(leader.view?.events ?? [])].reverse();
      if (events.length === 0) {
        setText(empty.firstChild, t.noEvents);
        placeChildren(body, [empty]);
        return;
      }
      // Keyed by log and offset: a leader restarted without its log writes other events at the same offsets.
      const key = (e) => `${leader.view.logId}:${e.offset}`;
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
