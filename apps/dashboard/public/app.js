// The dashboard page: draws the state the dashboard server pushes over /stream, and sends the
// controls back through it. Plain browser JavaScript, no build step and nothing from a CDN.
"use strict";

const TEXT = {
  en: {
    title: "Replication lab: live",
    write: "Write to the leader",
    orderId: "Order id",
    create: "Create order",
    followers: "Followers: how far behind the leader",
    legendApplied: "applied",
    legendReceived: "received, not applied yet",
    legendMissing: "not received",
    orders: "Orders as each node sees them",
    log: "The leader's log (newest first)",
    order: "order",
    offset: "offset",
    type: "type",
    time: "time",
    leader: "leader",
    actions: "",
    confirm: "Confirm",
    cancel: "Cancel",
    missing: "not found",
    stale: "stale",
    head: (head, logId) => `head ${head} · log ${logId}`,
    leaderDown: "the leader does not answer",
    behind: (events, ms) => (events === 0 ? "up to date" : `${events} ${events === 1 ? "event" : "events"} behind${ms === null ? "" : ` · ${(ms / 1000).toFixed(1)} s`}`),
    detail: (s) => `applied ${s.appliedOffset ?? "none"} · received ${s.nextFrom - 1 < 0 ? "none" : s.nextFrom - 1} · APPLY_LAG_MS ${s.applyLagMs}`,
    via: (id) => `via ${id}`,
    states: { streaming: "streaming", "catching up": "catching up", resyncing: "resyncing", disconnected: "disconnected", down: "does not answer", held: "link held", dropped: "link dropped" },
    setLag: "Set lag",
    hold: "Hold link",
    drop: "Drop link",
    resume: "Resume",
    restart: "Restart",
    lagLabel: "APPLY_LAG_MS",
    noOrders: "No orders yet: create one above.",
    sent: (what) => `${what}: done`,
    failed: (what, error) => `${what}: ${error}`,
    mode: (r) => (r.mode === "sync" ? `synchronous: a write waits until ${r.required} ${r.required === 1 ? "follower has" : "followers have"} ${r.ack} it` : r.degraded ? "asynchronous for now: the synchronous followers fell behind" : "asynchronous: a write is acknowledged before any follower has it"),
    waiting: (n) => `${n} ${n === 1 ? "write" : "writes"} waiting for followers`,
    acknowledged: (r) => `acknowledged ${r.mode === "sync" ? "synchronously" : "asynchronously"} after ${r.waitedMs} ms; followers that had it: ${r.followers.length ? r.followers.join(", ") : "none"}`,
  },
  ja: {
    title: "レプリケーション実験室: ライブ",
    write: "リーダーに書き込む",
    orderId: "注文ID",
    create: "注文を作る",
    followers: "フォロワー: リーダーからどれだけ遅れているか",
    legendApplied: "反映済み",
    legendReceived: "受信済み・未反映",
    legendMissing: "未受信",
    orders: "各ノードから見た注文",
    log: "リーダーのログ（新しい順）",
    order: "注文",
    offset: "オフセット",
    type: "種類",
    time: "時刻",
    leader: "リーダー",
    actions: "",
    confirm: "確定",
    cancel: "取消",
    missing: "なし",
    stale: "古い",
    head: (head, logId) => `head ${head} · ログ ${logId}`,
    leaderDown: "リーダーが応答しません",
    behind: (events, ms) => (events === 0 ? "追いついている" : `${events} イベント遅れ${ms === null ? "" : ` · ${(ms / 1000).toFixed(1)} 秒`}`),
    detail: (s) => `反映 ${s.appliedOffset ?? "なし"} · 受信 ${s.nextFrom - 1 < 0 ? "なし" : s.nextFrom - 1} · APPLY_LAG_MS ${s.applyLagMs}`,
    via: (id) => `${id} 経由`,
    states: { streaming: "ストリーミング中", "catching up": "追いつき中", resyncing: "再同期中", disconnected: "切断", down: "応答なし", held: "リンク保留中", dropped: "リンク遮断中" },
    setLag: "遅延を設定",
    hold: "リンクを保留",
    drop: "リンクを遮断",
    resume: "再開",
    restart: "再起動",
    lagLabel: "APPLY_LAG_MS",
    noOrders: "まだ注文はありません。上で作ってみましょう。",
    sent: (what) => `${what}: 完了`,
    failed: (what, error) => `${what}: ${error}`,
    mode: (r) => (r.mode === "sync" ? `同期: 書き込みは ${r.required} 台のフォロワーが${r.ack === "applied" ? "反映" : "受信"}するまで待つ` : r.degraded ? "いまは非同期: 同期のフォロワーが遅れたため" : "非同期: フォロワーに届く前に書き込みを確認する"),
    waiting: (n) => `フォロワーを待っている書き込み ${n} 件`,
    acknowledged: (r) => `${r.mode === "sync" ? "同期" : "非同期"}で確認（${r.waitedMs} ミリ秒待機）。持っていたフォロワー: ${r.followers.length ? r.followers.join(", ") : "なし"}`,
  },
};

let lang = new URLSearchParams(location.search).get("lang");
let state = null;
const $ = (id) => document.getElementById(id);

/** An element with attributes, text or children. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const t = () => TEXT[lang] ?? TEXT.en;

function applyLang() {
  document.documentElement.lang = lang;
  document.title = t().title;
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = t()[node.dataset.text];
  $("lang-en").setAttribute("aria-pressed", String(lang === "en"));
  $("lang-ja").setAttribute("aria-pressed", String(lang === "ja"));
  render();
}

/** Sends a control through the dashboard server and says how it went. */
async function send(what, path, body) {
  const message = $("message");
  try {
    const reply = await fetch(path, { method: "POST", headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await reply.json();
    message.className = reply.ok ? "" : "error";
    const how = json.replication ? ` · ${t().acknowledged(json.replication)}` : "";
    message.textContent = (reply.ok ? t().sent(what) : t().failed(what, `${reply.status} ${json.code}: ${json.error}`)) + how;
  } catch (err) {
    message.className = "error";
    message.textContent = t().failed(what, String(err));
  }
}

function renderLeader(leader) {
  const r = leader.view?.replication;
  const mode = r ? ` · ${t().mode(r)}${r.writesWaiting ? ` · ${t().waiting(r.writesWaiting)}` : ""}` : "";
  $("leader-summary").textContent = leader.up && leader.view ? `${t().leader} ${leader.url} · ${t().head(leader.view.head, leader.view.logId)}${mode}` : `${t().leader} ${leader.url}: ${t().leaderDown}`;
}

/** One lane per follower: a track of the newest offsets (applied, received, missing), its lag and its state. */
function renderLanes(leader, followers) {
  const head = leader.view?.head ?? 0;
  const rows = leader.view?.followers ?? [];
  const lanes = $("lanes");
  lanes.replaceChildren();
  followers.forEach((f, i) => {
    const s = f.view?.status;
    const row = rows.find((r) => r.id === s?.followerId);
    const linkState = s?.link ?? "open";
    const stateKey = !f.up ? "down" : linkState !== "open" ? linkState : (row?.state ?? "streaming");
    const events = s ? Math.max(0, head - (s.appliedOffset ?? -1) - 1) : null;
    const lagMs = row?.lag?.ms ?? s?.lag?.ms ?? null;
    const width = Math.max(12, Math.min(40, (events ?? 0) + 4));
    const from = Math.max(0, head - width);
    const track = el("div", { class: "track", "aria-label": `${s?.followerId ?? f.url}: ${events === null ? "" : t().behind(events, lagMs)}` });
    if (from > 0) track.append(el("span", { class: "more" }, `… ${from}`));
    for (let o = from; o < head; o++) {
      const kind = s && o <= (s.appliedOffset ?? -1) ? "applied" : s && o < s.nextFrom ? "received" : "missing";
      track.append(el("span", { class: `cell ${kind}`, title: `${o}: ${t()[`legend${kind[0].toUpperCase()}${kind.slice(1)}`]}` }, String(o % 100)));
    }
    const lagInput = el("input", { type: "number", min: "0", max: "600000", step: "100", value: String(s?.applyLagMs ?? 0), "aria-label": `${t().lagLabel} ${s?.followerId ?? ""}` });
    const name = s?.followerId ?? f.url;
    lanes.append(
      el(
        "div",
        { class: `lane${!f.up ? " down" : events ? " lagging" : ""}`, "data-follower": name },
        el(
          "div",
          { class: "lane-head" },
          el("span", { class: "lane-name" }, name),
          el("span", { class: `lag ${events ? "behind" : "zero"}` }, events === null ? "?" : t().behind(events, lagMs)),
          el("span", { class: `badge ${stateKey.replace(" ", "-")}`, "data-state": stateKey }, t().states[stateKey] ?? stateKey),
          row?.via ? el("span", { class: "detail" }, t().via(row.via)) : null,
          s ? el("span", { class: "detail" }, t().detail(s)) : el("span", { class: "detail" }, f.url),
        ),
        track,
        el(
          "div",
          { class: "lane-controls" },
          el("label", {}, `${t().lagLabel} `, lagInput),
          el("button", { type: "button", onclick: () => send(`${name}: ${t().setLag}`, `/api/followers/${i}/apply-lag`, { applyLagMs: Number(lagInput.value) }) }, t().setLag),
          el("button", { type: "button", onclick: () => send(`${name}: ${t().hold}`, `/api/followers/${i}/pause`, { mode: "hold" }) }, t().hold),
          el("button", { type: "button", onclick: () => send(`${name}: ${t().drop}`, `/api/followers/${i}/pause`, { mode: "drop" }) }, t().drop),
          el("button", { type: "button", onclick: () => send(`${name}: ${t().resume}`, `/api/followers/${i}/resume`) }, t().resume),
          el("button", { type: "button", onclick: () => send(`${name}: ${t().restart}`, `/api/followers/${i}/restart`) }, t().restart),
        ),
      ),
    );
  });
}

/** The newest orders, as the leader and each follower see them; a follower behind the leader is marked stale. */
function renderOrders(leader, followers, ids) {
  const table = $("orders");
  table.replaceChildren();
  if (ids.length === 0) {
    table.append(el("tr", {}, el("td", {}, t().noOrders)));
    return;
  }
  const names = followers.map((f) => f.view?.status?.followerId ?? f.url);
  table.append(el("thead", {}, el("tr", {}, el("th", {}, t().order), el("th", {}, t().leader), ...names.map((n) => el("th", {}, n)), el("th", {}, t().actions))));
  const body = el("tbody");
  for (const id of ids) {
    const onLeader = leader.view?.orders?.[id]?.status ?? null;
    const cells = followers.map((f) => {
      const status = f.view?.orders?.[id]?.status ?? null;
      const stale = status !== onLeader; // a follower can only differ from the leader by being behind it
      return el("td", { class: stale ? "stale" : status === null ? "absent" : "fresh", "data-order": id, "data-node": f.view?.status?.followerId ?? f.url, title: stale ? t().stale : "" }, status ?? t().missing);
    });
    body.append(
      el(
        "tr",
        {},
        el("th", {}, id),
        el("td", { "data-order": id, "data-node": "leader" }, onLeader ?? t().missing),
        ...cells,
        el(
          "td",
          { class: "actions" },
          el("button", { type: "button", onclick: () => send(`${id}: ${t().confirm}`, `/api/orders/${encodeURIComponent(id)}/confirm`) }, t().confirm),
          " ",
          el("button", { type: "button", onclick: () => send(`${id}: ${t().cancel}`, `/api/orders/${encodeURIComponent(id)}/cancel`) }, t().cancel),
        ),
      ),
    );
  }
  table.append(body);
}

function renderLog(leader) {
  const table = $("log");
  table.replaceChildren(el("thead", {}, el("tr", {}, el("th", {}, t().offset), el("th", {}, t().type), el("th", {}, t().order), el("th", {}, t().time))));
  const body = el("tbody");
  for (const e of [...(leader.view?.events ?? [])].reverse()) {
    body.append(el("tr", {}, el("td", {}, String(e.offset)), el("td", {}, e.type), el("td", {}, e.orderId), el("td", {}, new Date(e.at).toLocaleTimeString(lang, { hour12: false }) + `.${String(e.at % 1000).padStart(3, "0")}`)));
  }
  table.append(body);
}

function render() {
  if (!state) return;
  const [leader, ...followers] = state.nodes;
  renderLeader(leader);
  renderLanes(leader, followers);
  renderOrders(leader, followers, state.shownIds);
  renderLog(leader);
}

$("create-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = $("order-id").value.trim();
  void send(`${t().create} ${id}`, "/api/orders", { id }).then(() => {
    const match = /^(.*?)(\d+)$/.exec(id);
    if (match) $("order-id").value = `${match[1]}${Number(match[2]) + 1}`;
  });
});
$("lang-en").addEventListener("click", () => ((lang = "en"), applyLang()));
$("lang-ja").addEventListener("click", () => ((lang = "ja"), applyLang()));

const stream = new EventSource("stream");
let first = true;
stream.onmessage = (event) => {
  state = JSON.parse(event.data);
  if (first) {
    first = false;
    lang = TEXT[lang] ? lang : state.lang; // ?lang=ja in the address, or the lab's (LAB_LANG, the system's)
    applyLang();
  } else render();
};
