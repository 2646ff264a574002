// The dashboard page: draws the state the dashboard server pushes over /stream (up to ten times a
// second), and sends the controls back through it. Plain browser JavaScript modules, no build
// step and nothing from a CDN. Everything is built once and updated in place (see dom.js).
import { drawingOrder, nameOf } from "./cluster.js";
import { setAttr, setText, show } from "./dom.js";
import { createLanes } from "./lanes.js";
import { startPage } from "./page.js";
import { createLogTable, createOrdersTable } from "./tables.js";
import { TEXT } from "./text.js";

const $ = (id) => document.getElementById(id);

function render(t, state, lang) {
  const { leader, claiming, nodes: parts } = state.leadership;
  const lead = leader === null ? undefined : state.nodes[leader];
  const r = lead?.up ? lead.view?.replication : undefined;
  setText($("mode"), r ? `${t.mode(r)}${r.writesWaiting ? ` · ${t.waiting(r.writesWaiting)}` : ""}` : "");
  // The form writes to the current leader (the dashboard sends it there): say which node that is.
  setText($("write-to"), lead ? t.writeTo(nameOf(state, leader), parts[leader].epoch) : t.noLeader);
  setAttr($("write-to"), "title", lead?.url);
  show($("two-leaders"), claiming.length > 1);
  show($("legend-diverged"), parts.some((p, i) => p.role === "leader" && i !== leader && state.nodes[i].up));
  setText($("two-leaders"), claiming.length > 1 ? t.twoLeaders(claiming.map((i) => `${nameOf(state, i)} (${t.epoch(parts[i].epoch)})`)) : "");
  const order = drawingOrder(state);
  lanes.render(t, state, order);
  orders.render(t, state, order);
  log.render(t, lang, lead);
}

const { send } = startPage({ texts: TEXT, render, detail: (t, reply) => (reply.replication ? t.acknowledged(reply.replication) : "") });
const lanes = createLanes($("lanes"), send);
const orders = createOrdersTable($("orders"), send);
const log = createLogTable($("log"));
