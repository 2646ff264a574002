import { createPgFollowerApp, createPgLeaderApp, createSchema, openPool } from "@lab/pg-store";
import { listen, silentLogger, type LogLine } from "@lab/service";
import type pg from "pg";
import type { Pair } from "./pair.ts";

/** The lab's leader and follower with STORE=postgres, in this process, on ports the OS picks. */
export interface LabApps {
  leaderUrl: string;
  followerUrl: string;
  /** Connections to the primary and to the standby, for the SQL a tour or a test runs beside the apps. */
  primary: pg.Pool;
  standby: pg.Pool;
  close(): Promise<void>;
}

/**
 * Starts what `STORE=postgres` starts in apps/api and apps/worker, on `pair`: the leader on the
 * primary (its tables created), the follower on the standby. In-process, so that a tour or a test
 * does not wait for two more Node processes to start; the routes are the apps' own.
 */
export async function startLabApps(pair: Pair, { syncTimeoutMs = 10_000, logLine = silentLogger }: { syncTimeoutMs?: number; logLine?: LogLine } = {}): Promise<LabApps> {
  const primary = openPool(pair.primary.url, "primary", logLine);
  const standby = openPool(pair.standby.url, "standby", logLine);
  await createSchema(primary);
  const leader = await listen((req, res) => leaderApp(req, res), { host: "127.0.0.1", port: 0 });
  const leaderUrl = leader.url;
  const leaderApp = createPgLeaderApp({ pool: primary, url: pair.primary.url, nodeId: `leader-${leader.port}`, httpUrl: leaderUrl, syncTimeoutMs, logLine });
  const follower = await listen((req, res) => followerApp(req, res), { host: "127.0.0.1", port: 0 });
  const followerApp = createPgFollowerApp({ pool: standby, url: pair.standby.url, followerId: `follower-${follower.port}`, leaderUrl, logLine });
  let closed: Promise<void> | undefined;
  return {
    leaderUrl,
    followerUrl: follower.url,
    primary,
    standby,
    /** Stops both apps and ends their connections; a second call waits for the first. */
    close() {
      closed ??= (async () => {
        await Promise.all([leader.close(), follower.close()]);
        await Promise.all([primary.end(), standby.end()]);
      })();
      return closed;
    },
  };
}
