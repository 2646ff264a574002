import { fileURLToPath } from "node:url";
import concurrently from "concurrently";

/**
 * `pnpm dev`: the leader and the follower side by side in one terminal, each line prefixed with
 * the app it comes from. The follower takes the chapter's variables (APPLY_LAG_MS,
 * POLL_INTERVAL_MS, LEADER_URL) from the environment as usual; since both apps read PORT, their
 * ports are set here from LEADER_PORT (3000) and FOLLOWER_PORT (3001).
 */
const leaderPort = process.env.LEADER_PORT ?? "3000";
const followerPort = process.env.FOLLOWER_PORT ?? "3001";
const appDir = (name: string) => fileURLToPath(new URL(`../apps/${name}`, import.meta.url));

console.log(`Leader on http://localhost:${leaderPort}, follower on http://localhost:${followerPort}. Try, in another terminal:
  curl -X POST http://localhost:${leaderPort}/orders -H "Content-Type: application/json" -d "{\\"id\\":\\"o-1\\"}"
  curl http://localhost:${followerPort}/orders/o-1
  curl http://localhost:${followerPort}/status
Ctrl+C stops both.
`);

const { result } = concurrently(
  [
    { command: "tsx src/server.ts", name: "api", cwd: appDir("api"), prefixColor: "cyan", env: { PORT: leaderPort } },
    {
      command: "tsx src/server.ts",
      name: "worker",
      cwd: appDir("worker"),
      prefixColor: "magenta",
      env: { PORT: followerPort, LEADER_URL: process.env.LEADER_URL ?? `http://localhost:${leaderPort}` },
    },
  ],
  { prefix: "{name}", padPrefix: true, killOthersOn: [] },
);

result.then(
  () => process.exit(0),
  () => process.exit(1),
);
