import { createMemoryLog } from "@lab/replication";
import { consoleLogger, listen, runMain, systemClock } from "@lab/service";
import { readLeaderConfig } from "./config.ts";
import { createLeaderApp } from "./leader.ts";

// The leader's entry point: read the config, build the app, listen. `npm run dev` runs this.
const logLine = consoleLogger("leader");
runMain(logLine, async () => {
  const config = readLeaderConfig(process.env);
  const app = createLeaderApp({ log: createMemoryLog(), clock: systemClock, logLine });
  const server = await listen(app, config);
  logLine(`listening on ${server.url} (bound to ${server.addresses.join(" and ")})`);
  return server;
});
