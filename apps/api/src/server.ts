import { join } from "node:path";
import { applyEvent, createOrders, type OrderEvent } from "@lab/orders";
import { createMemoryLog, openFileLog, type ReplicationLog } from "@lab/replication";
import { consoleLogger, listen, runMain, systemClock } from "@lab/service";
import type { Express } from "express";
import { readLeaderConfig } from "./config.ts";
import { createLeaderApp } from "@lab/node";

// The leader's entry point: read the config, open the log (rebuilding the state from it), listen.
const logLine = consoleLogger("leader");
runMain(logLine, async () => {
  const config = readLeaderConfig(process.env);
  const orders = createOrders();
  let log: ReplicationLog<OrderEvent>;
  if (config.dataDir) {
    const file = join(config.dataDir, "leader-log.jsonl");
    log = await openFileLog<OrderEvent>({ file, retain: config.retainEvents, replay: (entry) => applyEvent(orders, entry), logLine });
    logLine(`config: DATA_DIR=${config.dataDir} RETAIN_EVENTS=${config.retainEvents}; log ${log.logId}, head ${log.head}, ${orders.size} orders`);
  } else {
    log = createMemoryLog<OrderEvent>({ retain: config.retainEvents });
    logLine(`config: RETAIN_EVENTS=${config.retainEvents}, no DATA_DIR: the log lives in memory; new log ${log.logId}`);
  }
  // The app is built once the port is known (PORT=0 picks one): the leader is named after it.
  let app: Express | undefined;
  const server = await listen((req, res) => app!(req, res), config);
  app = createLeaderApp({ log, orders, clock: systemClock, logLine, nodeId: `leader-${server.port}`, url: server.url, followerTimeoutMs: config.followerTimeoutMs, sync: config.sync });
  const { sync } = config;
  if (sync.replicas > 0) logLine(`config: SYNC_REPLICAS=${sync.replicas} SYNC_ACK=${sync.ack} SYNC_TIMEOUT_MS=${sync.timeoutMs} SYNC_ON_TIMEOUT=${sync.onTimeout}: a write is acknowledged once ${sync.replicas} ${sync.replicas === 1 ? "follower has" : "followers have"} ${sync.ack} it`);
  if (sync.minReplicas > 0) logLine(`config: MIN_REPLICAS_TO_WRITE=${sync.minReplicas} MIN_REPLICAS_MAX_LAG_MS=${sync.maxLagMs}: writes are refused while fewer followers are heard from`);
  logLine(`listening on ${server.url} (bound to ${server.addresses.join(" and ")})`);
  return {
    async close() {
      await server.close();
      await log.close();
    },
  };
});
