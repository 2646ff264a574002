import { fileURLToPath } from "node:url";
import concurrently from "concurrently";
import { majority } from "@lab/raft";
import { planRaftDashboard, planRaftDev, readDevRaftFlags } from "./dev-raft-plan.ts";

/**
 * `pnpm dev:raft`: a Raft group of the lab's nodes side by side in one terminal, each line
 * prefixed with the node's id: three nodes on ports 4000-4002 (RAFT_NODES=5 for five). Killing
 * one leaves the others running, so that a learner can kill the leader and watch the election;
 * Ctrl+C stops them all. `pnpm dev:raft --dashboard` also starts the live dashboard on the group
 * (a teacher's demo: terms, roles and logs on one page, with Disconnect and Reconnect per node).
 */
let nodes;
let dashboard;
try {
  nodes = planRaftDev(process.env);
  dashboard = readDevRaftFlags(process.argv.slice(2)).dashboard ? planRaftDashboard(process.env, nodes) : undefined;
} catch (err) {
  console.error(`pnpm dev:raft: ${(err as Error).message}`);
  process.exit(1);
}
const appDir = (name: string) => fileURLToPath(new URL(`../apps/${name}`, import.meta.url));
const [first] = nodes;
const needed = majority(nodes.length);
console.log(`A Raft group of ${nodes.length}: ${nodes.map((n) => `${n.id} on http://127.0.0.1:${n.port}`).join(", ")}.
Writes need a majority (${needed} of ${nodes.length}) up. Try, in another terminal:
  curl http://127.0.0.1:${first!.port}/status                  (who leads? see leaderUrl)
  curl -X POST <leaderUrl>/orders -H "Content-Type: application/json" -d "{\\"id\\":\\"o-1\\"}"
  curl <leaderUrl>/orders/o-1                                (linearizable: on the leader)
  curl "http://127.0.0.1:${nodes.at(-1)!.port}/orders/o-1?consistency=local"   (any node, possibly stale)
Kill the leader (kill -9 <pid>, the pid is on its "listening on" line) and watch the others elect a new one.
${dashboard ? `Watch it live: http://localhost:${dashboard.port} (the dashboard: each node's term, role and log; Disconnect the leader there)` : "pnpm dev:raft --dashboard also starts the live dashboard on the group (npm: npm run dev:raft -- --dashboard)."}
Ctrl+C stops them all.
`);

const colors = ["cyan", "green", "yellow", "magenta", "blue", "red", "gray"];
const { result } = concurrently(
  [
    ...nodes.map((n, i) => ({ command: "tsx src/server.ts", name: n.id, cwd: appDir("raft"), prefixColor: colors[i % colors.length]!, env: n.env })),
    ...(dashboard ? [{ command: "tsx src/server.ts", name: "dashboard", cwd: appDir("dashboard"), prefixColor: "white", env: dashboard.env }] : []),
  ],
  { prefix: "{name}", padPrefix: true, killOthersOn: [] },
);
result.then(
  () => process.exit(0),
  () => process.exit(1),
);
