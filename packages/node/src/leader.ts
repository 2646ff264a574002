import { createOrders, type Order, type OrderEvent, type Orders } from "@lab/orders";
import { createLogClient, createMemoryLog, type ReplicationLog } from "@lab/replication";
import type { Clock, LogLine } from "@lab/service";
import type { Express } from "express";
import { FOLLOWING_DEFAULTS } from "./follower-role.ts";
import { createNode } from "./node.ts";
import { DEFAULT_FOLLOWER_TIMEOUT_MS } from "./serve-log.ts";
import { ASYNC, type SyncSettings } from "./sync-policy.ts";

export { ASYNC, type SyncSettings } from "./sync-policy.ts";

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

/**
 * Creates a node that starts as the leader, in memory, and returns its Express app: it takes
 * orders, appends one event per change to its log, and serves that log to followers at
 * `GET /events`. It does not listen. (A server builds its node with `bootNode`, which also
 * reads DATA_DIR back.)
 */
export function createLeaderApp({ log = createMemoryLog(), orders = createOrders(), clock, logLine, nodeId = "leader", url, followerTimeoutMs = DEFAULT_FOLLOWER_TIMEOUT_MS, sync = ASYNC }: LeaderDeps = {}): Express {
  return createNode({
    id: nodeId,
    url,
    log,
    orders,
    role: { lead: true },
    connect: (leaderUrl) => createLogClient<OrderEvent, Order[]>({ leaderUrl }),
    following: FOLLOWING_DEFAULTS,
    sync,
    clock,
    logLine,
    followerTimeoutMs,
  }).app;
}
