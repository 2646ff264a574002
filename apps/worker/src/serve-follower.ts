import { bootNode, nodeFiles, type LabNode } from "@lab/node";
import { isLoopbackHost, listen, systemClock, type LogLine } from "@lab/service";
import type { FollowerConfig } from "./config.ts";

/**
 * Listens and builds a follower node from its settings (named after its port unless FOLLOWER_ID
 * says otherwise; read back from DATA_DIR, if it has one); `start()` sets it replicating: it
 * follows LEADER_URL, unless DATA_DIR says it was promoted since. POST /admin/restart builds it
 * again, as a new process would. The server entry runs one; the benchmark runs several in one process.
 */
export async function serveFollower(config: FollowerConfig, logLine: LogLine) {
  let node: LabNode | undefined;
  const server = await listen((req, res) => node!.app(req, res), config);

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
      adminAllowed: isLoopbackHost(config.host),
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
  return {
    url: server.url,
    addresses: server.addresses,
    /** The node as it stands: a restart builds another. */
    node: () => node!,
    start: () => node!.start(),
    async close() {
      await node!.stop();
      await server.close();
      await node!.close();
    },
  };
}
