import { join } from "node:path";
import type { Order, OrderEvent } from "@lab/orders";
import { createLogClient, openFileLog } from "@lab/replication";
import { consoleLogger, listen, runMain, systemClock } from "@lab/service";
import type { Express } from "express";
import { readFollowerConfig } from "./config.ts";
import { createFollower, type Follower } from "@lab/node";

// The follower's entry point: read the config, listen, build the follower (named after its port
// unless FOLLOWER_ID says otherwise), start replicating. POST /admin/restart builds it again, as
// a new process would: from DATA_DIR if it has one, empty otherwise.
const logLine = consoleLogger("follower");
runMain(logLine, async () => {
  const config = readFollowerConfig(process.env);
  const dataDir = config.dataDir ? ` DATA_DIR=${config.dataDir}` : "";
  logLine(
    `config: LEADER_URL=${config.leaderUrl} POLL_INTERVAL_MS=${config.pollIntervalMs} APPLY_LAG_MS=${config.applyLagMs} LONG_POLL_MS=${config.longPollMs} BATCH_WAIT_MS=${config.batchWaitMs}${dataDir}`,
  );
  let app: Express | undefined;
  const server = await listen((req, res) => app!(req, res), config);
  const loopback = config.host === undefined || ["127.0.0.1", "::1", "localhost"].includes(config.host);

  const boot = async () => {
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
      adminAllowed: loopback,
      restart,
      openLog: config.dataDir ? (options) => openFileLog<OrderEvent>({ file: join(config.dataDir!, "follower-log.jsonl"), ...options, logLine }) : undefined,
      checkpointFile: config.dataDir ? join(config.dataDir, "follower-checkpoint.json") : undefined,
    });
    return { client, follower };
  };
  const shutDown = async ({ client, follower }: { client: { close(): Promise<void> }; follower: Follower }) => {
    await follower.stop();
    await client.close();
    await follower.close();
  };
  let running = await boot();
  async function restart() {
    logLine("restarting (POST /admin/restart)");
    await shutDown(running);
    running = await boot();
    app = running.follower.app;
    running.follower.start();
  }

  app = running.follower.app;
  logLine(`listening on ${server.url} (bound to ${server.addresses.join(" and ")})`);
  running.follower.start();
  return {
    async close() {
      await running.follower.stop();
      await server.close();
      await running.client.close();
      await running.follower.close();
    },
  };
});
