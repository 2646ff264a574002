import { chooseLang, consoleLogger, listen, readUrl, readWholeNumber, runMain } from "@lab/service";
import { createDashboard } from "./dashboard.ts";

// The dashboard's entry point: `pnpm dev` starts it next to the nodes, with their URLs.
const logLine = consoleLogger("dashboard");
runMain(logLine, async () => {
  const env = process.env;
  const leaderUrl = readUrl(env, "LEADER_URL", "http://localhost:3000");
  // FOLLOWER_URLS: a comma list; unset means the chapter's one follower, empty means none.
  const listed = env.FOLLOWER_URLS === undefined ? "http://localhost:3001" : env.FOLLOWER_URLS.trim();
  const followerUrls = listed ? listed.split(",").map((url, i) => readUrl({ [`FOLLOWER_URLS[${i}]`]: url.trim() }, `FOLLOWER_URLS[${i}]`, url)) : [];
  const dashboard = createDashboard({ leaderUrl, followerUrls, lang: chooseLang(env), logLine });
  const server = await listen(dashboard.app, { host: undefined, port: readWholeNumber(env, "DASHBOARD_PORT", 3100, { max: 65535 }) });
  logLine(`listening on ${server.url} (the live dashboard: open it in a browser)`);
  return {
    async close() {
      await dashboard.close();
      await server.close();
    },
  };
});
