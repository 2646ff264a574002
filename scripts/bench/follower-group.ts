import { consoleLogger, runMain } from "@lab/service";
import { readFollowerConfig } from "../../apps/worker/src/config.ts";
import { serveFollower } from "../../apps/worker/src/serve-follower.ts";

/**
 * FOLLOWERS followers of LEADER_URL in one process, each as `apps/worker` builds it (its own
 * port, node, log, state and connection to the leader), with the worker's settings from the
 * environment. The leader serves them exactly as it serves follower processes; `pnpm bench` runs
 * them so to tell what eight followers cost the leader from what eight processes cost this
 * two-core machine (see "How each is measured" in docs/benchmarks.md). Prints one line,
 * `[followers] listening on <url> <url> ...`.
 */
const count = Number(process.env.FOLLOWERS ?? 1);
const logLine = consoleLogger("follower");
runMain(logLine, async () => {
  const config = readFollowerConfig({ ...process.env, PORT: "0" });
  const followers: Awaited<ReturnType<typeof serveFollower>>[] = [];
  for (let i = 0; i < count; i++) followers.push(await serveFollower(config, logLine));
  for (const follower of followers) follower.start();
  console.log(`[followers] listening on ${followers.map((f) => f.url).join(" ")}`);
  return { close: async () => void (await Promise.all(followers.map((f) => f.close()))) };
});
