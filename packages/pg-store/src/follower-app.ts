import { httpError, jsonErrorHandler, notFoundRoute, readQueryNumber, silentLogger, systemClock, type Clock, type LogLine } from "@lab/service";
import express, { type Express, type Response } from "express";
import type pg from "pg";
import { unavailable } from "./database.ts";
import { hasApplied, readMinPosition, type MinPosition } from "./min-position.ts";
import { DEFAULT_READ_WAIT_MS, MAX_READ_WAIT_MS, readPathId } from "@lab/node";
import { noLabLog } from "./routes.ts";
import { readStandbyOrder, readStandbyPosition, readStandbyStatus, type StandbyPosition } from "./standby.ts";

/**
 * How often a read holding for `minOffset` asks the standby where it is. PostgreSQL 15 has no
 * function that waits for a replay position, so the follower asks; each question is one cheap
 * statement, and only while a reader waits.
 */
const ASK_EVERY_MS = 10;

export interface PgFollowerDeps {
  /** Connections to the standby. */
  pool: pg.Pool;
  url: string;
  followerId: string;
  /** Where writes go: the leader's HTTP URL (LEADER_URL). */
  leaderUrl: string;
  clock?: Clock | undefined;
  logLine?: LogLine | undefined;
}

/**
 * The follower with STORE=postgres: it reads the standby, which is what the lab's follower is
 * (PostgreSQL's own walreceiver receives, its startup process applies after
 * recovery_min_apply_delay), so a read right after a write is stale just as in the chapter.
 * `?minOffset=` takes the write reply's offset or its LSN and holds the read until the standby
 * has replayed it (bounded by `timeoutMs`, else 504 NOT_YET_APPLIED). Writes are refused with
 * the leader's URL.
 */
export function createPgFollowerApp({ pool, url, followerId, leaderUrl, clock = systemClock, logLine = silentLogger }: PgFollowerDeps): Express {
  const onStandby = <T>(work: Promise<T>) => work.catch((err: unknown) => Promise.reject(unavailable(err, "standby", url)));
  const who = { follower: true as const, nodeId: followerId, role: "follower" as const, store: "postgres" as const };
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.get("/orders/:id", async (req, res) => {
    const id = readPathId(req);
    const min = readMinPosition(req.query);
    const timeoutMs = readQueryNumber(req.query, "timeoutMs", { fallback: DEFAULT_READ_WAIT_MS, max: MAX_READ_WAIT_MS });
    if (req.query.maxStalenessMs !== undefined) {
      throw httpError(501, "NOT_IMPLEMENTED", "maxStalenessMs is not offered with STORE=postgres (the standby cannot prove how stale it is the way the lab's follower does); ask for minOffset with the write's lsn instead", { parameter: "maxStalenessMs" });
    }
    if (min !== undefined) await waitOrRefuse(res, min, timeoutMs);
    const read = await onStandby(readStandbyOrder(pool, id));
    const position = positionOf(read);
    if (!read.order) throw httpError(404, "ORDER_NOT_FOUND", "not found (maybe not replicated yet)", { ...who, ...position, head: null });
    res.json({ ok: true, ...who, ...position, applyLagMs: read.applyLagMs, order: read.order });
  });

  /** Holds until the standby has applied `min`, asking it every ASK_EVERY_MS; a 504 with its position if it has not within `timeoutMs`. */
  async function waitOrRefuse(res: Response, min: MinPosition, timeoutMs: number) {
    const gaveUp = new AbortController();
    const onClose = () => gaveUp.abort(); // the reader went away: stop asking for it
    res.once("close", onClose);
    const deadline = clock.now() + timeoutMs;
    try {
      for (;;) {
        const at = await onStandby(readStandbyPosition(pool));
        if (hasApplied(at, min)) return;
        const left = deadline - clock.now();
        if (left <= 0 || gaveUp.signal.aborted) {
          throw httpError(504, "NOT_YET_APPLIED", `the standby has applied up to offset ${at.appliedOffset ?? "none"} (lsn ${at.appliedLsn ?? "none"}), not yet ${min.text}, after waiting ${timeoutMs} ms; read from the leader at ${leaderUrl}`, {
            ...who,
            minOffset: min.text,
            waitedMs: timeoutMs,
            leader: leaderUrl,
            ...positionOf(at),
          });
        }
        await clock.sleep(Math.min(ASK_EVERY_MS, left), gaveUp.signal);
      }
    } finally {
      res.off("close", onClose);
    }
  }

  app.get("/health", async (_req, res) => {
    await onStandby(pool.query("SELECT 1"));
    res.json({ ok: true, ...who, epoch: 0 });
  });
  app.get("/status", async (_req, res) => {
    const status = await onStandby(readStandbyStatus(pool));
    res.json({ ok: true, ...who, followerId, leaderUrl, writesTo: leaderUrl, ...status });
  });
  app.get(["/events", "/snapshot", "/replication", "/watch"], noLabLog);
  // A follower never takes writes: say where they go instead.
  app.all("/{*path}", (req, _res, next) => {
    if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return next();
    throw httpError(403, "READONLY", `this follower is read-only (it reads a PostgreSQL standby, which is read-only too); send ${req.method} ${req.path} to the leader at ${leaderUrl}`, { follower: true, leader: leaderUrl });
  });
  app.use(notFoundRoute);
  app.use(jsonErrorHandler(logLine));
  return app;
}

/** The lab's position fields for a reply: nextFrom and appliedOffset, with the standby's appliedLsn beside them. */
function positionOf(at: StandbyPosition) {
  return { nextFrom: at.appliedOffset === null ? 0 : at.appliedOffset + 1, appliedOffset: at.appliedOffset, appliedLsn: at.appliedLsn };
}
