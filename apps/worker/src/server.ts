import { consoleLogger, runMain } from "@lab/service";
import { readFollowerConfig } from "./config.ts";
import { startPostgresFollower } from "./postgres.ts";
import { serveFollower } from "./serve-follower.ts";

// The follower's entry point: read the config, say it, then listen and replicate (serve-follower.ts).
let follower: Awaited<ReturnType<typeof serveFollower>> | undefined;
const logLine = consoleLogger(() => follower?.node().role ?? "follower");
runMain(logLine, async () => {
  const config = readFollowerConfig(process.env);
  if (config.postgres) return startPostgresFollower(config, config.postgres, logLine); // STORE=postgres: docs/postgres.md
  const dataDir = config.dataDir ? ` DATA_DIR=${config.dataDir}` : "";
  logLine(
    `config: LEADER_URL=${config.leaderUrl} POLL_INTERVAL_MS=${config.pollIntervalMs} APPLY_LAG_MS=${config.applyLagMs} LONG_POLL_MS=${config.longPollMs} BATCH_WAIT_MS=${config.batchWaitMs}${config.stream ? " STREAM=1" : ""}${dataDir}`,
  );
  follower = await serveFollower(config, logLine);
  logLine(`listening on ${follower.url} (bound to ${follower.addresses.join(" and ")})`);
  follower.start();
  return follower;
});
