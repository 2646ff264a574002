import { bootNode, FOLLOWING_DEFAULTS, nodeFiles, type LabNode } from "@lab/node";
import { consoleLogger, isLoopbackHost, listen, runMain, systemClock } from "@lab/service";
import { readLeaderConfig } from "./config.ts";
import { startPostgresLeader } from "./postgres.ts";

// The leader's entry point: read the config, listen, build the node (its state read back from
// DATA_DIR, if it has one), start it. It starts as the leader, unless DATA_DIR says it was made
// to follow another node since (POST /admin/follow).
let node: LabNode | undefined;
const logLine = consoleLogger(() => node?.role ?? "leader");
runMain(logLine, async () => {
  const config = readLeaderConfig(process.env);
  if (config.postgres) return startPostgresLeader(config, config.postgres.url, logLine); // STORE=postgres: docs/postgres.md
  // The node is built once the port is known (PORT=0 picks one): the leader is named after it.
  const server = await listen((req, res) => node!.app(req, res), config);
  const loopback = isLoopbackHost(config.host);
  node = await bootNode({
    id: `leader-${server.port}`,
    url: server.url,
    startAs: "leader",
    files: config.dataDir ? nodeFiles(config.dataDir, "leader") : undefined,
    following: FOLLOWING_DEFAULTS,
    sync: config.sync,
    retainEvents: config.retainEvents,
    followerTimeoutMs: config.followerTimeoutMs,
    clock: systemClock,
    logLine,
    adminAllowed: loopback,
  });
  const { log } = node;
  if (config.dataDir) logLine(`config: DATA_DIR=${config.dataDir} RETAIN_EVENTS=${config.retainEvents}; log ${log.logId}, head ${log.head}, ${node.orders.size} orders`);
  else logLine(`config: RETAIN_EVENTS=${config.retainEvents}, no DATA_DIR: the log lives in memory; new log ${log.logId}`);
  const { sync } = config;
  if (sync.replicas > 0) logLine(`config: SYNC_REPLICAS=${sync.replicas} SYNC_ACK=${sync.ack} SYNC_TIMEOUT_MS=${sync.timeoutMs} SYNC_ON_TIMEOUT=${sync.onTimeout}: a write is acknowledged once ${sync.replicas} ${sync.replicas === 1 ? "follower has" : "followers have"} ${sync.ack} it`);
  if (sync.minReplicas > 0) logLine(`config: MIN_REPLICAS_TO_WRITE=${sync.minReplicas} MIN_REPLICAS_MAX_LAG_MS=${sync.maxLagMs}: writes are refused while fewer followers are heard from`);
  logLine(`listening on ${server.url} (bound to ${server.addresses.join(" and ")})`);
  node.start();
  const running = node;
  return {
    async close() {
      await running.stop();
      await server.close();
      await running.close();
    },
  };
});
