import type { OrderEvent } from "@lab/orders";
import { createLogClient } from "@lab/replication";
import { consoleLogger, listen, runMain, systemClock } from "@lab/service";
import { readFollowerConfig } from "./config.ts";
import { createFollower } from "./follower.ts";

// The follower's entry point: read the config, build the follower, listen, start replicating.
const logLine = consoleLogger("follower");
runMain(logLine, async () => {
  const config = readFollowerConfig(process.env);
  logLine(`config: LEADER_URL=${config.leaderUrl} POLL_INTERVAL_MS=${config.pollIntervalMs} APPLY_LAG_MS=${config.applyLagMs}`);
  const client = createLogClient<OrderEvent>({ leaderUrl: config.leaderUrl });
  const follower = createFollower({ client, applyLagMs: config.applyLagMs, pollIntervalMs: config.pollIntervalMs, clock: systemClock, logLine });
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
