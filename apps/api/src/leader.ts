import { createOrders, type OrderEvent } from "@lab/orders";
import { createMemoryLog, type ReplicationLog } from "@lab/replication";
import { jsonErrorHandler, notFoundRoute, silentLogger, systemClock, type Clock, type LogLine } from "@lab/service";
import express, { type Express } from "express";
import { eventsRoute } from "./events-route.ts";
import { ordersRoutes } from "./orders-routes.ts";

/** What the leader is built from. Every field has a default, so `createLeaderApp()` just works. */
export interface LeaderDeps {
  /** The replication log; in memory unless a test or the server passes another. */
  log?: ReplicationLog<OrderEvent>;
  /** Fixes the `at` of each event. */
  clock?: Clock;
  /** Where log lines go (one per appended event, and errors). */
  logLine?: LogLine;
}

/** The largest request body accepted: an order id needs a few dozen bytes. */
export const BODY_LIMIT_BYTES = 1024;

/**
 * Creates the leader's Express app: it takes orders, appends one event per change to its log,
 * and serves that log to followers at `GET /events`. It does not listen; `server.ts` does.
 */
export function createLeaderApp({ log = createMemoryLog(), clock = systemClock, logLine = silentLogger }: LeaderDeps = {}): Express {
  const orders = createOrders();
  const app = express();
  app.disable("x-powered-by");

  app.get("/health", (_req, res) => {
    res.json({ ok: true, leader: true, head: log.head });
  });
  app.use(ordersRoutes({ orders, log, clock, logLine, bodyLimitBytes: BODY_LIMIT_BYTES }));
  app.use(eventsRoute(log));

  app.use(notFoundRoute);
  app.use(jsonErrorHandler(logLine));
  return app;
}
