import { fileURLToPath } from "node:url";
import { httpError, jsonErrorHandler, notFoundRoute, systemClock, type Clock, type LogLine } from "@lab/service";
import express, { type Express, type Response } from "express";
import { Agent } from "undici";
import { forward, ownPageOnly, readNodeIndex } from "./controls.ts";
import type { WatchedNode } from "./leadership.ts";
import { createPageStream } from "./page-stream.ts";
import { watchNodes, type WatchOptions } from "./watcher.ts";

export interface PageServerOptions {
  /** The page `/` serves, a file in `public/`. */
  page: string;
  /** The nodes watched, in the order the page's controls name them (`/api/nodes/:i/...`). Updated by `watch`'s onView. */
  nodes: WatchedNode[];
  /** What the pages draw, now. */
  state(): unknown;
  /** How to watch the nodes (`GET /watch`): the orders to ask them about, whether the cluster is busy, what to do with a node's view. The pages get the state after each held view, or each round of views. */
  watch: Pick<WatchOptions<WatchedNode>, "ids" | "busy" | "onView">;
  /** The page's controls, under `/api` (refused when a page from another site sends them). */
  routes(app: Express, server: PageServer): void;
  logLine: LogLine;
  /** The watchers' time: their rounds while busy, their pause after a failure. */
  clock?: Clock;
}

/** What a dashboard's controls and watchers use of the page server. */
export interface PageServer {
  /** Every node is asked again at once (a control was used: a held watch is let go, a busy cluster's next round starts now). */
  wake(): void;
  /** Sends a POST to a node and answers with what it said; 502 when it does not answer. */
  forward(res: Response, url: string, body?: unknown): Promise<void>;
  /** The URL of the node a route's `:i` names; 404 NO_SUCH_NODE for anything else. */
  nodeUrl(param: string | string[] | undefined): string;
}

/**
 * What both views of the dashboard (the chapter's cluster, a Raft group) are made of: the page
 * and its scripts (files in `public/`, nothing from a CDN), the stream that pushes the state to
 * every open page, the watchers of every node, which run only while a page is open, and the
 * controls, which answer only the dashboard's own page, then a JSON 404 and JSON errors.
 */
export function createPageServer({ page, nodes, state, watch, routes, logLine, clock = systemClock }: PageServerOptions) {
  const dispatcher = new Agent({ connections: 8, keepAliveTimeout: 30_000 });
  let watching: ReturnType<typeof watchNodes> | undefined;
  const stopWatching = () => {
    watching?.stop();
    watching = undefined;
  };
  const stream = createPageStream({ state, onFirst: () => void (watching = watchNodes({ nodes, dispatcher, clock, ...watch, onChange: () => stream.changed() })), onLast: stopWatching });
  const server: PageServer = {
    wake: () => watching?.wake(),
    forward: (res, url, body) => forward(res, dispatcher, url, body),
    nodeUrl: (param) => nodes[readNodeIndex(param, nodes.length)]!.url,
  };

  const app: Express = express();
  app.disable("x-powered-by");
  // Both views' files share public/: another view's page would open on a stream it cannot draw.
  app.use((req, _res, next) => next(req.path.endsWith(".html") && req.path !== `/${page}` ? httpError(404, "NO_SUCH_ROUTE", `no page ${req.path} here: this dashboard draws ${page}, at /`) : undefined));
  app.use(express.static(fileURLToPath(new URL("../public", import.meta.url)), { index: page }));
  app.get("/stream", stream.route);
  app.use("/api", ownPageOnly);
  routes(app, server);
  app.use(notFoundRoute);
  app.use(jsonErrorHandler(logLine));

  return {
    app,
    /** Stops watching and ends every page's stream. */
    async close() {
      stopWatching();
      stream.close();
      await dispatcher.close();
    },
  };
}
