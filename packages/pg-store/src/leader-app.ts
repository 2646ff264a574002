import type { Order, OrderStatus } from "@lab/orders";
import { jsonErrorHandler, httpError, notFoundRoute, silentLogger, systemClock, type Clock, type LogLine } from "@lab/service";
import express, { type Express } from "express";
import type pg from "pg";
import { describeUrl, unavailable } from "./database.ts";
import { readStandbys } from "./replication-view.ts";
import { BODY_LIMIT_BYTES, readBodyId, readPathId } from "@lab/node";
import { noLabLog } from "./routes.ts";
import { createPgWritePath } from "./write-path.ts";


export interface PgLeaderDeps {
  /** Connections to the primary. */
  pool: pg.Pool;
  /** The primary's URL, for messages. */
  url: string;
  nodeId: string;
  /** The URL clients reach this leader at. */
  httpUrl?: string | undefined;
  /** SYNC_TIMEOUT_MS: how long a commit may wait for a synchronous standby. */
  syncTimeoutMs: number;
  clock?: Clock | undefined;
  logLine?: LogLine | undefined;
}

/**
 * The leader with STORE=postgres: the same order routes, replies and errors as the in-memory
 * leader, its orders in the primary; `/status` and `/health` with PostgreSQL's head (the WAL's
 * pg_current_wal_lsn) next to the lab's; `/replication` with pg_stat_replication in the lab's
 * terms. Every write reply adds `lsn`, the position a reader can ask the follower to wait for.
 */
export function createPgLeaderApp({ pool, url, nodeId, httpUrl, syncTimeoutMs, clock = systemClock, logLine = silentLogger }: PgLeaderDeps): Express {
  const write = createPgWritePath({ pool, url, clock, logLine, syncTimeoutMs });
  const onPrimary = <T>(asked: Promise<T>) => asked.catch((err: unknown) => Promise.reject(unavailable(err, "primary", url)));
  const query = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => onPrimary(pool.query<R>(text, values));
  const standbysOnPrimary = () => onPrimary(readStandbys(pool));
  const head = async () => {
    const { rows } = await query<{ head: string; lsn: string; version: string; sync: string; names: string }>(
      `SELECT (SELECT coalesce(max("offset") + 1, 0) FROM order_events) AS head, pg_current_wal_lsn()::text AS lsn, current_setting('server_version') AS version,
              current_setting('synchronous_commit') AS sync, current_setting('synchronous_standby_names') AS names`,
    );
    const r = rows[0]!;
    return { head: Number(r.head), headLsn: r.lsn, postgres: { at: describeUrl(url), server_version: r.version, pg_current_wal_lsn: r.lsn, synchronous_commit: r.sync, synchronous_standby_names: r.names } };
  };
  const who = { ok: true as const, leader: true as const, nodeId, role: "leader" as const, store: "postgres" as const };

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.post("/orders", express.json({ limit: BODY_LIMIT_BYTES }), async (req, res) => {
    res.status(201).json({ ok: true, leader: true, ...(await write({ type: "create", orderId: readBodyId(req) })) });
  });
  app.post("/orders/:id/confirm", async (req, res) => {
    res.json({ ok: true, leader: true, ...(await write({ type: "confirm", orderId: readPathId(req) })) });
  });
  app.post("/orders/:id/cancel", async (req, res) => {
    res.json({ ok: true, leader: true, ...(await write({ type: "cancel", orderId: readPathId(req) })) });
  });
  app.get("/orders/:id", async (req, res) => {
    const id = readPathId(req);
    // One statement, one snapshot: the order and the last offset it reflects agree.
    const { rows } = await query<{ applied: string | null; status: OrderStatus | null; updated_at: string | null }>(
      `SELECT (SELECT max("offset") FROM order_events) AS applied, o.status, o.updated_at FROM (SELECT $1::text AS id) AS wanted LEFT JOIN orders o ON o.id = wanted.id`,
      [id],
    );
    const row = rows[0]!;
    if (row.status === null) throw httpError(404, "ORDER_NOT_FOUND", `order ${id} not found`);
    const order: Order = { id, status: row.status, updatedAt: Number(row.updated_at) };
    res.json({ ok: true, leader: true, appliedOffset: row.applied === null ? -1 : Number(row.applied), order });
  });
  app.get("/health", async (_req, res) => {
    const { head: next, headLsn } = await head();
    res.json({ ...who, head: next, headLsn });
  });
  app.get("/status", async (_req, res) => {
    const [h, standbys] = await Promise.all([head(), standbysOnPrimary()]);
    res.json({ ...who, url: httpUrl ?? null, head: h.head, headLsn: h.headLsn, followers: standbys.followers.length, postgres: h.postgres });
  });
  app.get("/replication", async (_req, res) => {
    const [h, standbys] = await Promise.all([head(), standbysOnPrimary()]);
    res.json({ ...who, chain: [nodeId], leaderUrl: httpUrl ?? null, head: h.head, headLsn: h.headLsn, followers: standbys.followers, postgres: h.postgres });
  });
  app.get(["/events", "/snapshot", "/watch"], noLabLog);
  app.use(notFoundRoute);
  app.use(jsonErrorHandler(logLine));
  return app;
}
