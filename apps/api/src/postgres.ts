import { createPgLeaderApp, createSchema, describeUrl, openPool, startFailure } from "@lab/pg-store";
import { listen, systemClock, type LogLine } from "@lab/service";
import type { LeaderConfig } from "./config.ts";

/**
 * The leader with STORE=postgres: connect to the primary (PG_URL), create the tables if they are
 * missing, listen. The primary down at start-up stops it with one line naming it.
 */
export async function startPostgresLeader(config: LeaderConfig, url: string, logLine: LogLine) {
  const pool = openPool(url, "primary", logLine);
  try {
    await createSchema(pool);
  } catch (err) {
    await pool.end();
    throw startFailure(err, "primary", url);
  }
  let app: ReturnType<typeof createPgLeaderApp> | undefined;
  const server = await listen((req, res) => app!(req, res), config);
  app = createPgLeaderApp({ pool, url, nodeId: `leader-${server.port}`, httpUrl: server.url, syncTimeoutMs: config.sync.timeoutMs, clock: systemClock, logLine });
  logLine(`config: STORE=postgres PG_URL=${url} SYNC_TIMEOUT_MS=${config.sync.timeoutMs}: orders live in the PostgreSQL primary at ${describeUrl(url)}, one transaction per write`);
  logLine(`listening on ${server.url} (bound to ${server.addresses.join(" and ")})`);
  return {
    async close() {
      await server.close();
      await pool.end();
    },
  };
}
