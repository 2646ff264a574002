import { DEFAULT_FOLLOWER_TIMEOUT_MS, MAX_APPLY_LAG_MS } from "@lab/node";
import { checkNodeId, DEFAULT_RETAIN_EVENTS, MAX_EVENTS_WAIT_MS } from "@lab/replication";
import { readPgUrl } from "@lab/pg-store";
import { ConfigError, readChoice, readHost, readPort, readUrl, readWholeNumber } from "@lab/service";

/** The follower's settings, read once from the environment at start-up (names as in the chapter). */
export interface FollowerConfig {
  /** PORT, default 3001. */
  port: number;
  /** HOST; unset means loopback only (127.0.0.1 and ::1). */
  host: string | undefined;
  /** LEADER_URL, default http://localhost:3000. */
  leaderUrl: string;
  /** POLL_INTERVAL_MS, default 300: the pause between two fetches that found nothing new (with LONG_POLL_MS=0), and the base of the backoff. */
  pollIntervalMs: number;
  /**
   * LONG_POLL_MS, default 500 (Kafka's replica.fetch.wait.max.ms): how long the upstream may hold
   * a fetch until a new event exists, and so how often at least a caught-up follower hears from
   * it (its heartbeat); 0 polls every POLL_INTERVAL_MS, as in the chapter.
   */
  longPollMs: number;
  /** BATCH_WAIT_MS, default 50: with long-polling, the pause after a fetch that brought more than one event, so that under a stream of writes each fetch brings a batch. */
  batchWaitMs: number;
  /**
   * STREAM=1 (default 0): keep one stream open to the upstream instead of a fetch per batch, as a
   * PostgreSQL standby keeps its connection to the primary (docs/many-followers.md). Needs LONG_POLL_MS > 0, its heartbeat.
   */
  stream: boolean;
  /** APPLY_LAG_MS, default 1500: how long each event waits before it is applied. */
  applyLagMs: number;
  /** DATA_DIR: where to keep its log and checkpoint state and position; unset keeps everything in memory, as in the chapter. */
  dataDir: string | undefined;
  /** FOLLOWER_ID: its name; unset, server.ts names it after its port (`follower-3001`). */
  followerId: string | undefined;
  /** RETAIN_EVENTS: how many received events it keeps for followers of its own. */
  retainEvents: number;
  /** FOLLOWER_TIMEOUT_MS: a follower of this one not heard from for this long is disconnected. */
  followerTimeoutMs: number;
  /**
   * STORE=postgres: it reads this PostgreSQL standby (PG_URL) instead of replicating itself;
   * `applyLagMs` set when APPLY_LAG_MS was given, to become the standby's recovery_min_apply_delay.
   */
  postgres: { url: string; applyLagMs: number | undefined } | undefined;
}

const MINUTE = 60_000;

/** Reads and checks the follower's settings; throws a ConfigError naming the variable that is wrong. */
export function readFollowerConfig(env: Record<string, string | undefined>): FollowerConfig {
  const config = {
    port: readPort(env, 3001),
    host: readHost(env),
    leaderUrl: readUrl(env, "LEADER_URL", "http://localhost:3000"),
    pollIntervalMs: readWholeNumber(env, "POLL_INTERVAL_MS", 300, { min: 1, max: 10 * MINUTE }),
    longPollMs: readWholeNumber(env, "LONG_POLL_MS", 500, { max: MAX_EVENTS_WAIT_MS }),
    batchWaitMs: readWholeNumber(env, "BATCH_WAIT_MS", 50, { max: MAX_EVENTS_WAIT_MS }),
    stream: readChoice(env, "STREAM", ["0", "1"], "0") === "1",
    applyLagMs: readWholeNumber(env, "APPLY_LAG_MS", 1500, { max: MAX_APPLY_LAG_MS }),
    dataDir: env.DATA_DIR?.trim() || undefined,
    followerId: readFollowerId(env),
    retainEvents: readWholeNumber(env, "RETAIN_EVENTS", DEFAULT_RETAIN_EVENTS, { min: 1, max: 100_000_000 }),
    followerTimeoutMs: readWholeNumber(env, "FOLLOWER_TIMEOUT_MS", DEFAULT_FOLLOWER_TIMEOUT_MS, { min: 1, max: 10 * MINUTE }),
    postgres: undefined as FollowerConfig["postgres"],
  };
  if (config.stream && config.longPollMs === 0) throw new ConfigError("STREAM=1 needs long-polling: LONG_POLL_MS is how often a stream with nothing new sends a heartbeat; set it above 0 or unset STREAM");
  if (readChoice(env, "STORE", ["memory", "postgres"], "memory") === "postgres") {
    if (config.dataDir) throw new ConfigError("DATA_DIR is where the in-memory follower keeps its log; with STORE=postgres it reads a PostgreSQL standby: unset DATA_DIR");
    config.postgres = { url: readPgUrl(env, "standby"), applyLagMs: env.APPLY_LAG_MS?.trim() ? config.applyLagMs : undefined };
  }
  return config;
}

function readFollowerId(env: Record<string, string | undefined>): string | undefined {
  const raw = env.FOLLOWER_ID;
  if (raw === undefined) return undefined;
  const check = checkNodeId(raw.trim());
  if (!check.ok) throw new ConfigError(`FOLLOWER_ID: ${check.message.replace(/^a node id/, "it")} (got ${JSON.stringify(raw)})`);
  return check.id;
}
