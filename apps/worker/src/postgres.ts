import { createPgFollowerApp, describeUrl, openPool, readStandbyStatus, setApplyLag, startFailure } from "@lab/pg-store";
import { listen, systemClock, type LogLine } from "@lab/service";
import type { FollowerConfig } from "./config.ts";

/**
 * The follower with STORE=postgres: it reads the standby at PG_URL, which replicates by itself.
 * APPLY_LAG_MS, when set, becomes the standby's recovery_min_apply_delay, so the chapter's
 * `set APPLY_LAG_MS=3000` works as written; unset, the standby keeps its own.
 */
export async function startPostgresFollower(config: FollowerConfig, pg: { url: string; applyLagMs: number | undefined }, logLine: LogLine) {
  const pool = openPool(pg.url, "standby", logLine);
  let applyLagMs: number;
  try {
    if (pg.applyLagMs !== undefined) await setApplyLag(pool, pg.applyLagMs);
    applyLagMs = pg.applyLagMs ?? (await readStandbyStatus(pool)).applyLagMs;
  } catch (err) {
    await pool.end();
    throw startFailure(err, "standby", pg.url);
  }
  let app: ReturnType<typeof createPgFollowerApp> | undefined;
  const server = await listen((req, res) => app!(req, res), config);
  const followerId = config.followerId ?? `follower-${server.port}`;
  app = createPgFollowerApp({ pool, url: pg.url, followerId, leaderUrl: config.leaderUrl, clock: systemClock, logLine });
  const how = pg.applyLagMs === undefined ? "the standby's own setting" : "set from APPLY_LAG_MS with ALTER SYSTEM and pg_reload_conf()";
  logLine(`config: STORE=postgres PG_URL=${pg.url} LEADER_URL=${config.leaderUrl}: reads the PostgreSQL standby at ${describeUrl(pg.url)}; recovery_min_apply_delay=${applyLagMs}ms, ${how}`);
  logLine(`listening on ${server.url} (bound to ${server.addresses.join(" and ")})`);
  return {
    async close() {
      await server.close();
      await pool.end();
    },
  };
}
