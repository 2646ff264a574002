import { fileURLToPath } from "node:url";
import concurrently from "concurrently";
import { planDev } from "./dev-plan.ts";

/**
 * `pnpm dev`: the leader and its followers side by side in one terminal, each line prefixed with
 * the app it comes from. The followers take the chapter's variables (APPLY_LAG_MS,
 * POLL_INTERVAL_MS, LEADER_URL) from the environment as usual; FOLLOWERS=3 runs three of them,
 * and APPLY_LAG_MS=0,3000 gives each its own lag (see dev-plan.ts).
 */
let processes;
try {
  processes = planDev(process.env);
} catch (err) {
  console.error(`pnpm dev: ${(err as Error).message}`);
  process.exit(1);
}
const appDir = (name: string) => fileURLToPath(new URL(`../apps/${name}`, import.meta.url));
const leader = processes[0]!;
const dashboard = processes.at(-1)!;
const followers = processes.slice(1, -1);
const watchIt = `Watch it live: http://localhost:${dashboard.port} (the dashboard)`;

if (followers.length === 1) {
  const [follower] = followers;
  console.log(`Leader on http://localhost:${leader.port}, follower on http://localhost:${follower!.port}. Try, in another terminal:
  curl -X POST http://localhost:${leader.port}/orders -H "Content-Type: application/json" -d "{\\"id\\":\\"o-1\\"}"
  curl http://localhost:${follower!.port}/orders/o-1
  curl http://localhost:${follower!.port}/status
${watchIt}
Ctrl+C stops them all.
`);
} else if (followers.length === 0) {
  console.log(`Leader alone on http://localhost:${leader.port} (FOLLOWERS=0). ${watchIt}\nCtrl+C stops it.\n`);
} else {
  const lagOf = (p: (typeof followers)[number]) => (p.env.APPLY_LAG_MS === undefined ? "" : ` (APPLY_LAG_MS=${p.env.APPLY_LAG_MS})`);
  console.log(`Leader on http://localhost:${leader.port}; ${followers.length} followers: ${followers.map((p) => `http://localhost:${p.port}${lagOf(p)}`).join(", ")}. Try, in another terminal:
  curl -X POST http://localhost:${leader.port}/orders -H "Content-Type: application/json" -d "{\\"id\\":\\"o-1\\"}"
  curl http://localhost:${leader.port}/replication
${followers.map((p) => `  curl http://localhost:${p.port}/orders/o-1`).join("\n")}
${watchIt}
Ctrl+C stops them all.
`);
}

const colors = ["magenta", "green", "yellow", "blue", "red", "gray"];
const { result } = concurrently(
  processes.map((p, i) => ({
    command: "tsx src/server.ts",
    name: p.name,
    cwd: appDir(p.app),
    prefixColor: p.app === "api" ? "cyan" : p.app === "dashboard" ? "white" : colors[(i - 1) % colors.length]!,
    env: p.env,
  })),
  { prefix: "{name}", padPrefix: true, killOthersOn: [] },
);

result.then(
  () => process.exit(0),
  () => process.exit(1),
);
