// The dashboard page: draws the state the dashboard server pushes over /stream (up to ten times a
// second), and sends the controls back through it. Plain browser JavaScript modules, no build
// step and nothing from a CDN. Everything is built once and updated in place (see dom.js).
import { drawingOrder, nameOf } from "./cluster.js";
import { setAttr, setText, show } from "./dom.js";
import { createLanes } from "./lanes.js";
import { createLogTable, createOrdersTable } from "./tables.js";
import { TEXT } from "./text.js";

let lang = new URLSearchParams(location.search).get("lang");
let state = null;
/** The last control's outcome, kept as data so that it is said again in a language chosen after it. */
let outcome = null;
const $ = (id) => document.getElementById(id);
const t = () => TEXT[lang] ?? TEXT.en;

/**
 * Sends a control through the dashboard server and says how it went; resolves to whether the
 * node did it. `label(t)` says what the control did in the words `t` of the page's language
 * when it is said, so that a language chosen afterwards says it again.
 */
async function send(label, path, body) {
  try {
    const reply = await fetch(path, { method: "POST", headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await reply.json();
    outcome = { label, ok: reply.ok, status: reply.status, code: json.code, error: json.error, replication: json.replication };
  } catch (err) {
    outcome = { label, ok: false, failure: String(err) };
  }
  renderMessage();
  return outcome.ok;
}

function renderMessage() {
  const message = $("message");
  if (!outcome) return;
  const { label, ok, status, code, error, failure, replication } = outcome;
  message.className = ok ? "" : "error";
  const said = ok ? t().sent(label(t())) : t().failed(label(t()), failure ? t().unreachable(failure) : t().refusal(status, code, error));
  setText(message, said + (replication ? ` · ${t().acknowledged(replication)}` : ""));
}

const lanes = createLanes($("lanes"), send);
const orders = createOrdersTable($("orders"), send);
const log = createLogTable($("log"));

function render() {
  if (!state) return;
  const { leader, claiming, nodes: parts } = state.leadership;
  const lead = leader === null ? undefined : state.nodes[leader];
  const r = lead?.up ? lead.view?.replication : undefined;
  setText($("mode"), r ? `${t().mode(r)}${r.writesWaiting ? ` · ${t().waiting(r.writesWaiting)}` : ""}` : "");
  // The form writes to the current leader (the dashboard sends it there): say which node that is.
  setText($("write-to"), lead ? t().writeTo(nameOf(state, leader), parts[leader].epoch) : t().noLeader);
  setAttr($("write-to"), "title", lead?.url);
  show($("two-leaders"), claiming.length > 1);
  show($("legend-diverged"), parts.some((p, i) => p.role === "leader" && i !== leader && state.nodes[i].up));
  setText($("two-leaders"), claiming.length > 1 ? t().twoLeaders(claiming.map((i) => `${nameOf(state, i)} (${t().epoch(parts[i].epoch)})`)) : "");
  lanes.render(t(), state);
  orders.render(t(), state, drawingOrder(state));
  log.render(t(), lang, lead);
}

function applyLang() {
  document.documentElement.lang = lang;
  document.title = t().title;
  for (const node of document.querySelectorAll("[data-text]")) setText(node, t()[node.dataset.text]);
  $("lang-en").setAttribute("aria-pressed", String(lang === "en"));
  $("lang-ja").setAttribute("aria-pressed", String(lang === "ja"));
  render();
  renderMessage();
}

$("create-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = $("order-id").value.trim();
  void send((t) => `${t.create} ${id}`, "/api/orders", { id }).then(() => {
    const match = /^(.*?)(\d+)$/.exec(id);
    if (match) $("order-id").value = `${match[1]}${Number(match[2]) + 1}`;
  });
});
$("lang-en").addEventListener("click", () => ((lang = "en"), applyLang()));
$("lang-ja").addEventListener("click", () => ((lang = "ja"), applyLang()));
addEventListener("resize", render); // as many track cells as fit

const stream = new EventSource("stream");
let updates = 0;
stream.onmessage = (event) => {
  state = JSON.parse(event.data);
  // How many updates the page has drawn: a test waits for it to grow, instead of sleeping.
  document.body.dataset.updates = String(++updates);
  if (updates === 1) {
    lang = TEXT[lang] ? lang : state.lang; // ?lang=ja in the address, or the lab's (LAB_LANG, the system's)
    applyLang();
  } else render();
};
