import { chooseLang, consoleLogger, listen, readUrl, readWholeNumber, runMain } from "@lab/service";
import { createDashboard } from "./dashboard.ts";
import { createRaftDashboard } from "./raft-dashboard.ts";

/** A comma list of URLs in `name`, each checked and named by its place (FOLLOWER_URLS[1]) when it is not one. */
const readUrls = (name: string, listed: string) => (listed ? listed.split(",").map((url, i) => readUrl({ [`${name}[${i}]`]: url.trim() }, `${name}[${i}]`, url)) : []);

// The dashboard's entry point: `pnpm dev` starts it next to the nodes, with their URLs; with
// RAFT_URLS (`pnpm dev:raft --dashboard` sets it), it draws that Raft group instead.
const logLine = consoleLogger("dashboard");
runMain(logLine, async () => {
  const env = process.env;
  const lang = chooseLang(env);
  const raftUrls = readUrls("RAFT_URLS", env.RAFT_URLS?.trim() ?? "");
  let dashboard;
  if (raftUrls.length > 0) {
    logLine(`config: RAFT_URLS=${raftUrls.join(",")}: the Raft group's view`);
    dashboard = createRaftDashboard({ nodeUrls: raftUrls, lang, logLine });
  } else {
    const leaderUrl = readUrl(env, "LEADER_URL", "http://localhost:3000");
    // FOLLOWER_URLS: a comma list; unset means the chapter's one follower, empty means none.
    const followerUrls = readUrls("FOLLOWER_URLS", env.FOLLOWER_URLS === undefined ? "http://localhost:3001" : env.FOLLOWER_URLS.trim());
    dashboard = createDashboard({ leaderUrl, followerUrls, lang, logLine });
  }
  const server = await listen(dashboard.app, { host: undefined, port: readWholeNumber(env, "DASHBOARD_PORT", 3100, { max: 65535 }) });
  logLine(`listening on ${server.url} (the live dashboard: open it in a browser)`);
  return {
    async close() {
      await dashboard.close();
      await server.close();
    },
  };
});
