import { DEFAULT_RETAIN_EVENTS } from "@lab/replication";
import { readPgUrl } from "@lab/pg-store";
import { ConfigError, readChoice, readHost, readPort, readWholeNumber } from "@lab/service";
import { ASYNC, type SyncSettings } from "@lab/node";
import { DEFAULT_FOLLOWER_TIMEOUT_MS } from "@lab/node";

/** The leader's settings, read once from the environment at start-up. */
export interface LeaderConfig {
  /** PORT, default 3000 as in the chapter. */
  port: number;
  /** HOST; unset means loopback only (127.0.0.1 and ::1). */
  host: string | undefined;
  /** RETAIN_EVENTS: how many events the log keeps for followers; one further behind resyncs from a snapshot. */
  retainEvents: number;
  /** DATA_DIR: where the log is kept on disk; unset keeps everything in memory, as in the chapter. */
  dataDir: string | undefined;
  /** FOLLOWER_TIMEOUT_MS: a follower not heard from for this long (with no fetch held) is disconnected in `/replication`. */
  followerTimeoutMs: number;
  /** SYNC_REPLICAS, SYNC_ACK, SYNC_TIMEOUT_MS, SYNC_ON_TIMEOUT, MIN_REPLICAS_TO_WRITE, MIN_REPLICAS_MAX_LAG_MS: what a write waits for. */
  sync: SyncSettings;
  /** STORE=postgres: the orders live in this PostgreSQL primary (PG_URL), not in memory (docs/postgres.md). */
  postgres: { url: string } | undefined;
}

/** Reads and checks the leader's settings; throws a ConfigError naming the variable that is wrong. */
export function readLeaderConfig(env: Record<string, string | undefined>): LeaderConfig {
  const config = {
    port: readPort(env, 3000),
    host: readHost(env),
    retainEvents: readWholeNumber(env, "RETAIN_EVENTS", DEFAULT_RETAIN_EVENTS, { min: 1, max: 100_000_000 }),
    dataDir: env.DATA_DIR?.trim() || undefined,
    followerTimeoutMs: readWholeNumber(env, "FOLLOWER_TIMEOUT_MS", DEFAULT_FOLLOWER_TIMEOUT_MS, { min: 1, max: 600_000 }),
    sync: {
      replicas: readWholeNumber(env, "SYNC_REPLICAS", ASYNC.replicas, { max: 100 }),
      ack: readChoice(env, "SYNC_ACK", ["received", "applied"], ASYNC.ack),
      timeoutMs: readWholeNumber(env, "SYNC_TIMEOUT_MS", ASYNC.timeoutMs, { min: 1, max: 600_000 }),
      onTimeout: readChoice(env, "SYNC_ON_TIMEOUT", ["error", "async"], ASYNC.onTimeout),
      minReplicas: readWholeNumber(env, "MIN_REPLICAS_TO_WRITE", ASYNC.minReplicas, { max: 100 }),
      maxLagMs: readWholeNumber(env, "MIN_REPLICAS_MAX_LAG_MS", ASYNC.maxLagMs, { min: 1, max: 600_000 }),
    },
    postgres: readChoice(env, "STORE", ["memory", "postgres"], "memory") === "postgres" ? { url: readPgUrl(env, "primary") } : undefined,
  };
  if (config.postgres) {
    // PostgreSQL decides these itself: say so rather than ignore them.
    if (config.dataDir) throw new ConfigError("DATA_DIR is where the in-memory leader keeps its log; with STORE=postgres the orders are in PostgreSQL: unset DATA_DIR");
    if (config.sync.replicas > 0 || config.sync.minReplicas > 0) throw new ConfigError("SYNC_REPLICAS and MIN_REPLICAS_TO_WRITE are the in-memory leader's; with STORE=postgres, synchronous replication is the primary's synchronous_standby_names and synchronous_commit (docs/postgres.md): unset them");
  }
  return config;
}
