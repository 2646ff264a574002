import { join } from "node:path";
import type { Order, OrderEvent } from "@lab/orders";
import { createLogClient } from "@lab/replication";
import { consoleLogger, listen, runMain, systemClock } from "@lab/service";
import { readFollowerConfig } from "./config.ts";
import { createFollower } from "./follower.ts";

// The follower's entry point: read the config, build the follower, listen, start replicating.
const logLine = consoleLogger("follower");
runMain(logLine, async () => {
  const config = readFollowerConfig(process.env);
  const dataDir = config.dataDir ? ` DATA_DIR=${config.dataDir}` : "";
  logLine(
    `config: LEADER_URL=${config.leaderUrl} POLL_INTERVAL_MS=${config.pollIntervalMs} APPLY_LAG_MS=${config.applyLagMs} LONG_POLL_MS=${config.longPollMs} BATCH_WAIT_MS=${config.batchWaitMs}${dataDir}`,
  );
  const client = createLogClient<OrderEvent, Order[]>({ leaderUrl: config.leaderUrl });
  const follower = createFollower({
    client,
    applyLagMs: config.applyLagMs,
    pollIntervalMs: config.pollIntervalMs,
    longPollMs: config.longPollMs,
    batchWaitMs: config.batchWaitMs,
    clock: systemClock,
    logLine,
    checkpointFile: config.dataDir ? join(config.dataDir, "follower-checkpoint.json") : undefined,
  });
  const server = await listen(follower.app, config);
  logLine(`listening on ${server.url} (bound to ${server.addresses.join(" and ")})`);
  follower.start();
  return {
    async close() {
      await follower.stop();
      await server.close();
      await client.close();
    },
  };
});
