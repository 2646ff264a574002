import { httpError, readJsonObject, sameNode, silentLogger, systemClock, type Clock, type LogLine } from "@lab/service";
import express, { type Response } from "express";
import { readLeadership, type WatchedNode } from "./leadership.ts";
import { createPageServer } from "./page-server.ts";

export interface DashboardOptions {
  /** LEADER_URL: the node started as the leader; taken for the leader until the nodes say otherwise. */
  leaderUrl: string;
  /** FOLLOWER_URLS: the nodes started as followers. The page's controls name a node by its place in [leaderUrl, ...followerUrls]. */
  followerUrls: string[];
  /** The page's language when the browser does not say: LAB_LANG, or the system's. */
  lang?: "en" | "ja";
  logLine?: LogLine;
  /** The dashboard's time: how long ago the last change was, the watchers' rounds (tests pass a manual clock). */
  clock?: Clock;
}

/** How long the cluster counts as busy after the last change: long enough to see a follower go disconnected. */
const SETTLE_MS = 5000;
/** How many of the newest orders the page shows, as each node sees them. */
const ORDERS_SHOWN = 6;

/**
 * The live dashboard: while a page is open it watches every node (`GET /watch`), merges what they
 * say into one state, and pushes it to every open page over server-sent events (`GET /stream`),
 * once per round of asking every node while things change and not at all while the cluster is idle. The page's controls go
 * through it: writes to the current leader, and the nodes' admin routes (a follower's lag,
 * pause, resume, restart; promote; follow the leader). Any node can change role, so who leads is
 * read from what the nodes say (leadership.ts), never assumed from LEADER_URL. The page and its
 * script are files in `public/`, with nothing from a CDN.
 */
export function createDashboard({ leaderUrl, followerUrls, lang = "en", logLine = silentLogger, clock = systemClock }: DashboardOptions) {
  const nodes: WatchedNode[] = [leaderUrl, ...followerUrls].map((url) => ({ url, up: false, view: null }));
  let lastChangeAt = 0;

  /** Who leads now, read again from what every node last said (a node can change role at any time). */
  const leadership = () => readLeadership(nodes);

  /**
   * The orders the page shows: the newest ORDERS_SHOWN the leader's log has mentioned, in the
   * order it first mentioned them, so that a row stays where it is when its order changes (a new
   * order comes in at the bottom, the oldest leaves at the top). Forgotten when the leader's log
   * is another (a leader restarted without its data). Another node that leads the same log (two
   * leaders, or the new one after a failover) is read too, from its first event: an order only
   * one of them has (a write a failover loses) gets its row.
   */
  let shown: { logId: unknown; seen: Map<number, number>; ids: string[] } = { logId: undefined, seen: new Map(), ids: [] };
  /** Takes in the events of a leader's view (the node at `index`) not seen before. */
  const noteOrders = (index: number, view: Record<string, any>) => {
    if (index === leadership().leader && view.logId !== shown.logId) shown = { logId: view.logId, seen: new Map(), ids: [] };
    if (view.logId !== shown.logId) return; // another history altogether: its orders are not this log's
    for (const e of (view.events ?? []) as { offset: number; orderId: string }[]) {
      if (e.offset <= (shown.seen.get(index) ?? -1)) continue; // an event seen before does not bring its order back
      shown.seen.set(index, e.offset);
      if (!shown.ids.includes(e.orderId)) shown.ids = [...shown.ids, e.orderId].slice(-ORDERS_SHOWN);
    }
  };
  const shownIds = () => shown.ids;
  /** Busy: something changed a moment ago, or a follower that is there is behind (its lag grows by the second), as it says or as its upstream sees it. */
  const busy = () =>
    clock.now() - lastChangeAt < SETTLE_MS ||
    nodes.some((n) => n.up && n.view?.role === "follower" && ((n.view.status?.lag?.events ?? 0) > 0 || n.view.status?.pending > 0)) ||
    nodes.some((n) => n.up && ((n.view?.followers ?? []) as { state: string; lag: { events: number | null } }[]).some((f) => f.state !== "disconnected" && (f.lag.events ?? 0) > 0));

  const state = () => ({ lang, nodes, leadership: leadership(), shownIds: shownIds() });

  /** Where writes go now: the current leader. */
  const leaderUrlNow = () => {
    const { leader } = leadership();
    if (leader === null) throw httpError(503, "NO_LEADER", "no node leads: every node follows another; promote a follower");
    return nodes[leader]!.url;
  };

  return createPageServer({
    page: "index.html",
    clock,
    nodes,
    state,
    watch: {
      ids: shownIds,
      busy,
      // New orders are asked about in the next round (or, from an idle cluster, in the round its change starts at once).
      onView(node, view) {
        // A change: a new version, a node coming back, or one going down (not each failed attempt after).
        if (view === null ? node.up : view.version !== node.view?.version || !node.up) lastChangeAt = clock.now();
        node.up = view !== null;
        node.view = view ?? node.view;
        if (view?.role === "leader") noteOrders(nodes.indexOf(node), view);
      },
    },
    routes(app, { nodeUrl, ...server }) {
      /** Sends a control to a node and answers with what it said; every node is asked again at once. */
      const forward = async (res: Response, url: string, body?: unknown) => {
        await server.forward(res, url, body);
        lastChangeAt = clock.now();
        server.wake();
      };
      app.post("/api/orders", express.json({ limit: 1024 }), (req, res) => forward(res, `${leaderUrlNow()}/orders`, readJsonObject(req, '{"id":"o-1"}')));
      app.post("/api/orders/:id/:action", (req, res) => {
        if (req.params.action !== "confirm" && req.params.action !== "cancel") throw httpError(404, "NO_SUCH_ROUTE", "an order can be confirmed or canceled");
        return forward(res, `${leaderUrlNow()}/orders/${encodeURIComponent(req.params.id)}/${req.params.action}`);
      });
      app.post("/api/nodes/:i/apply-lag", express.json({ limit: 1024 }), (req, res) => forward(res, `${nodeUrl(req.params.i)}/admin/apply-lag`, readJsonObject(req, '{"applyLagMs":3000}')));
      app.post("/api/nodes/:i/pause", express.json({ limit: 1024 }), (req, res) => forward(res, `${nodeUrl(req.params.i)}/admin/pause`, req.body ?? {}));
      app.post("/api/nodes/:i/resume", (req, res) => forward(res, `${nodeUrl(req.params.i)}/admin/resume`));
      app.post("/api/nodes/:i/restart", (req, res) => forward(res, `${nodeUrl(req.params.i)}/admin/restart`));
      app.post("/api/nodes/:i/promote", (req, res) => forward(res, `${nodeUrl(req.params.i)}/admin/promote`));
      // Only to a node the dashboard watches: the page says which leader it means, and the dashboard forwards nowhere else.
      app.post("/api/nodes/:i/follow", express.json({ limit: 1024 }), (req, res) => {
        const wanted = readJsonObject(req, `{"leaderUrl":${JSON.stringify(nodes[0]!.url)}}`).leaderUrl;
        const upstream = nodes.find((n) => typeof wanted === "string" && sameNode(n.url, wanted));
        if (!upstream) throw httpError(400, "NOT_WATCHED", `leaderUrl must be a node this dashboard watches (${nodes.map((n) => n.url).join(", ")}), got ${JSON.stringify(wanted)}`);
        return forward(res, `${nodeUrl(req.params.i)}/admin/follow`, { leaderUrl: upstream.url });
      });
    },
    logLine,
  });
}

