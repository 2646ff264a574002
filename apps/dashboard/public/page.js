// What both pages of the dashboard (the chapter's, index.html, and the Raft group's, raft.html)
// do alike: their language (?lang=ja in the address, the 日本語 button, or the lab's), the
// create-order form and the status line under it that says how a control went, and the stream
// of states the dashboard server pushes (/stream).
import { el, setText } from "./dom.js";

/** The language buttons, in `nav#langs`. */
function makeLangButtons(nav) {
  nav.append(el("button", { type: "button", id: "lang-en" }, "English"), el("button", { type: "button", id: "lang-ja" }, "日本語"));
}

/** The write form, in `section#write`: it writes to the current leader, which `#write-to` names. */
function makeWriteForm(section, t) {
  section.append(
    el("h2", { id: "write-heading" }, el("span", { "data-text": "write" }, t.write), el("span", { id: "write-to" })),
    el(
      "form",
      { id: "create-form" },
      el("label", { for: "order-id", "data-text": "orderId" }, t.orderId),
      el("input", { id: "order-id", name: "id", value: "o-1", autocomplete: "off", pattern: "[A-Za-z0-9][A-Za-z0-9._:\\-]{0,63}", required: "" }),
      el("button", { type: "submit", "data-text": "create" }, t.create),
    ),
    el("p", { id: "message", role: "status", "aria-live": "polite" }),
  );
}

/**
 * Starts a page. `texts` are its words by language; `render(t, state, lang)` draws a state (again
 * on a new language, and on resize: as many track cells as fit); `detail(t, reply)` says what a
 * node's reply to a control brought besides its outcome, or "". Returns `send`, for its controls.
 */
export function startPage({ texts, render, detail }) {
  let lang = new URLSearchParams(location.search).get("lang");
  let state = null;
  /** The last control's outcome, kept as data so that it is said again in a language chosen after it. */
  let outcome = null;
  const $ = (id) => document.getElementById(id);
  const t = () => texts[lang] ?? texts.en;
  const draw = () => state && render(t(), state, lang);
  makeLangButtons($("langs"));
  makeWriteForm($("write"), t());

  /**
   * Sends a control through the dashboard server and says how it went; resolves to whether the
   * node did it. `label(t)` says what the control did in the words `t` of the page's language
   * when it is said, so that a language chosen afterwards says it again.
   */
  async function send(label, path, body) {
    try {
      const reply = await fetch(path, { method: "POST", headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = await reply.json();
      outcome = { label, ok: reply.ok, status: reply.status, code: json.code, error: json.error, reply: json };
    } catch (err) {
      outcome = { label, ok: false, failure: String(err) };
    }
    renderMessage();
    return outcome.ok;
  }

  function renderMessage() {
    const message = $("message");
    if (!outcome) return;
    const { label, ok, status, code, error, failure, reply } = outcome;
    message.className = ok ? "" : "error";
    const said = ok ? t().sent(label(t())) : t().failed(label(t()), failure ? t().unreachable(failure) : t().refusal(status, code, error));
    const more = reply ? detail(t(), reply) : "";
    setText(message, said + (more ? ` · ${more}` : ""));
  }

  function applyLang() {
    document.documentElement.lang = lang;
    document.title = t().title;
    for (const node of document.querySelectorAll("[data-text]")) setText(node, t()[node.dataset.text]);
    $("lang-en").setAttribute("aria-pressed", String(lang === "en"));
    $("lang-ja").setAttribute("aria-pressed", String(lang === "ja"));
    draw();
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
  addEventListener("resize", draw);

  const stream = new EventSource("stream");
  let updates = 0;
  stream.onmessage = (event) => {
    state = JSON.parse(event.data);
    // How many updates the page has drawn: a test waits for it to grow, instead of sleeping.
    document.body.dataset.updates = String(++updates);
    if (updates === 1) {
      lang = texts[lang] ? lang : state.lang; // ?lang=ja in the address, or the lab's (LAB_LANG, the system's)
      applyLang();
    } else draw();
  };

  return { send };
}
