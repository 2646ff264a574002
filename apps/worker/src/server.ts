import { bootNode, nodeFiles, type LabNode } from "@lab/node";
import { consoleLogger, isLoopbackHost, listen, runMain, systemClock } from "@lab/service";
import { readFollowerConfig } from "./config.ts";
import { startPostgresFollower } from "./postgres.ts";

// The follower's entry point: read the config, listen, build the node (named after its port
// unless FOLLOWER_ID says otherwise; read back from DATA_DIR, if it has one), start replicating.
// It starts following LEADER_URL, unless DATA_DIR says it was promoted since. POST
// /admin/restart builds it again, as a new process would.
let node: LabNode | undefined;
const logLine = consoleLogger(() => node?.role ?? "follower");
runMain(logLine, async () => {
  const config = readFollowerConfig(process.env);
  if (config.postgres) return startPostgresFollower(config, config.postgres, logLine); // STORE=postgres: docs/postgres.md
  const dataDir = config.dataDir ? ` DATA_DIR=${config.dataDir}` : "";
  logLine(
    `config: LEADER_URL=${config.leaderUrl} POLL_INTERVAL_MS=${config.pollIntervalMs} APPLY_LAG_MS=${config.applyLagMs} LONG_POLL_MS=${config.longPollMs} BATCH_WAIT_MS=${config.batchWaitMs}${config.stream ? " STREAM=1" : ""}${dataDir}`,
  );
  const server = await listen((req, res) => node!.app(req, res), config);
  const loopback = isLoopbackHost(config.host);

  const boot = () =>
    bootNode({
      id: config.followerId ?? `follower-${server.port}`,
      url: server.url,
      startAs: "follower",
      upstreamUrl: config.leaderUrl,
      files: config.dataDir ? nodeFiles(config.dataDir, "follower") : undefined,
      following: { applyLagMs: config.applyLagMs, pollIntervalMs: config.pollIntervalMs, longPollMs: config.longPollMs, batchWaitMs: config.batchWaitMs, stream: config.stream },
      retainEvents: config.retainEvents,
      followerTimeoutMs: config.followerTimeoutMs,
      clock: systemClock,
      logLine,
      adminAllowed: loopback,
      restart,
    });
  async function restart() {
    logLine("restarting (POST /admin/restart)");
    await node!.stop();
    await node!.close();
    node = await boot();
    node.start();
  }

  node = await boot();
  logLine(`listening on ${server.url} (bound to ${server.addresses.join(" and ")})`);
  node.start();
  return {
    async close() {
      await node!.stop();
      await server.close();
      await node!.close();
    },
  };
});
