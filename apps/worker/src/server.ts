import { join } from "node:path";
import type { Order, OrderEvent } from "@lab/orders";
import { createLogClient, openFileLog } from "@lab/replication";
import { consoleLogger, listen, runMain, systemClock } from "@lab/service";
import type { Express } from "express";
import { readFollowerConfig } from "./config.ts";
import { createFollower } from "./follower.ts";

// The follower's entry point: read the config, listen, build the follower (named after its port
// unless FOLLOWER_ID says otherwise), start replicating.
const logLine = consoleLogger("follower");
runMain(logLine, async () => {
  const config = readFollowerConfig(process.env);
  const dataDir = config.dataDir ? ` DATA_DIR=${config.dataDir}` : "";
  logLine(
    `config: LEADER_URL=${config.leaderUrl} POLL_INTERVAL_MS=${config.pollIntervalMs} APPLY_LAG_MS=${config.applyLagMs} LONG_POLL_MS=${config.longPollMs} BATCH_WAIT_MS=${config.batchWaitMs}${dataDir}`,
  );
  let app: Express | undefined;
  const server = await listen((req, res) => app!(req, res), config);
  const client = createLogClient<OrderEvent, Order[]>({ leaderUrl: config.leaderUrl });
  const follower = await createFollower({
    client,
    followerId: config.followerId ?? `follower-${server.port}`,
    applyLagMs: config.applyLagMs,
    pollIntervalMs: config.pollIntervalMs,
    longPollMs: config.longPollMs,
    batchWaitMs: config.batchWaitMs,
    retainEvents: config.retainEvents,
    followerTimeoutMs: config.followerTimeoutMs,
    clock: systemClock,
    logLine,
    openLog: config.dataDir ? (options) => openFileLog<OrderEvent>({ file: join(config.dataDir!, "follower-log.jsonl"), ...options, logLine }) : undefined,
    checkpointFile: config.dataDir ? join(config.dataDir, "follower-checkpoint.json") : undefined,
  });
  app = follower.app;
  logLine(`listening on ${server.url} (bound to ${server.addresses.join(" and ")})`);
  follower.start();
  return {
    async close() {
      await follower.stop();
      await server.close();
      await client.close();
      await follower.close();
    },
  };
});
