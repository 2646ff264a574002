import { DEFAULT_FOLLOWER_TIMEOUT_MS, serveLog } from "./serve-log.ts";
import { createChangeFeed, followersSignature, watchRoute } from "./watch.ts";
import { createOrders, type OrderEvent, type Orders } from "@lab/orders";
import { createMemoryLog, type ReplicationLog } from "@lab/replication";
import { jsonErrorHandler, notFoundRoute, silentLogger, systemClock, type Clock, type LogLine } from "@lab/service";
import express, { type Express } from "express";
import { ordersRoutes } from "./orders-routes.ts";
import { ASYNC, createSyncPolicy, type SyncSettings } from "./sync-policy.ts";

export { ASYNC, type SyncSettings } from "./sync-policy.ts";
import { createWritePath, type WritePath } from "./write-path.ts";

/** What the leader is built from. Every field has a default, so `createLeaderApp()` just works. */
export interface LeaderDeps {
  /** The replication log; in memory unless a test or the server passes another. */
  log?: ReplicationLog<OrderEvent>;
  /** The state the log has built so far (a log read back from disk comes with one); empty by default. */
  orders?: Orders;
  /** Fixes the `at` of each event. */
  clock?: Clock;
  /** Where log lines go (one per appended event, and errors). */
  logLine?: LogLine;
  /** Its name in replies and chains; `leader-<port>` from server.ts, "leader" by default. */
  nodeId?: string;
  /** The URL clients reach it at, passed down chains of followers so that each can say where writes go. */
  url?: string;
  /** FOLLOWER_TIMEOUT_MS: a follower not heard from for this long (and with no fetch held) is disconnected. */
  followerTimeoutMs?: number;
  /** What a write waits for (SYNC_REPLICAS, SYNC_ACK, ...); asynchronous by default, as in the chapter. */
  sync?: SyncSettings;
}


/** The largest request body accepted: an order id needs a few dozen bytes. */
export const BODY_LIMIT_BYTES = 1024;

/**
 * Creates the leader's Express app: it takes orders, appends one event per change to its log,
 * and serves that log to followers at `GET /events`. It does not listen; `server.ts` does.
 */
export function createLeaderApp({
  log = createMemoryLog(),
  orders = createOrders(),
  clock = systemClock,
  logLine = silentLogger,
  nodeId = "leader",
  url,
  followerTimeoutMs = DEFAULT_FOLLOWER_TIMEOUT_MS,
  sync: settings = ASYNC,
}: LeaderDeps = {}): Express {
  let writePath: WritePath | undefined;
  const served = serveLog({
    log,
    clock,
    followerTimeoutMs,
    node: { id: nodeId, role: () => "leader", chain: () => [nodeId], notReady: () => undefined, stalenessMs: () => 0, leaderUrl: () => url },
    snapshot: () => ({ offset: writePath!.appliedUpTo, state: [...orders.values()] }),
  });
  const sync = createSyncPolicy({ settings, acknowledgements: served.acknowledgements, downstream: served.downstream, clock, logLine, head: () => log.head });
  writePath = createWritePath({ orders, log, clock, logLine, sync });
  // What a dashboard watches: a new version with every event, and whenever a follower visibly moves.
  const feed = createChangeFeed(clock, () => followersSignature(served.downstream.list()));
  log.subscribe(() => feed.bump());
  served.downstream.subscribe(() => feed.changed());
  served.acknowledgements.subscribe(() => feed.bump()); // a write begins or ends waiting for followers
  const view = (ids: string[]) => {
    const newest = log.readFrom(Math.max(log.start, log.head - 12), 12);
    return {
      leader: true,
      role: "leader",
      nodeId,
      url,
      logId: log.logId,
      start: log.start,
      head: log.head,
      events: newest.ok ? newest.entries : [],
      followers: served.downstream.list(),
      replication: { ...sync.describe(), writesWaiting: served.acknowledgements.waiting },
      orders: Object.fromEntries(ids.map((id) => [id, orders.get(id) ?? null])),
    };
  };

  const app = express();
  app.disable("x-powered-by");
  // Express hashes every reply body (SHA-1) into an ETag so that a GET can be answered "304 Not
  // Modified". A write's reply and a batch of the log are never asked for again that way, and the
  // hash cost the leader about 8 µs a write (a few % of its throughput, by `node --cpu-prof`).
  app.set("etag", false);

  // The routes a leader serves most come first: each request is matched against them in turn.
  app.use(ordersRoutes({ orders, writePath, bodyLimitBytes: BODY_LIMIT_BYTES }));
  app.use(served.router);
  app.use(watchRoute(feed, view));
  app.get("/health", (_req, res) => {
    res.json({ ok: true, leader: true, nodeId, logId: log.logId, start: log.start, head: log.head, followersWaiting: served.waiting, ...(sync.reports ? { replication: sync.describe() } : {}) });
  });

  app.use(notFoundRoute);
  app.use(jsonErrorHandler(logLine));
  return app;
}
