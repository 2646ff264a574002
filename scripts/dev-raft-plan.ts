import { readWholeNumber } from "@lab/service";

/** One node `pnpm dev:raft` starts. */
export interface RaftDevProcess {
  /** RAFT_ID, and the prefix of its lines. */
  id: string;
  port: number;
  /** The variables it gets on top of the environment. */
  env: Record<string, string>;
}

/**
 * Works out what `pnpm dev:raft` runs: RAFT_NODES nodes (3, or 5; at most 7), n1 on RAFT_PORT
 * (4000) and the others on the ports after it, all with the same RAFT_PEERS so that they form one
 * group. With DATA_DIR, each keeps its Raft state in a directory of its own (DATA_DIR/n1, ...).
 * The election timeouts and heartbeat pass through from the environment (ELECTION_TIMEOUT_MIN_MS,
 * ELECTION_TIMEOUT_MAX_MS, HEARTBEAT_MS). Throws a message naming the variable when something
 * does not fit.
 */
export function planRaftDev(env: Record<string, string | undefined>): RaftDevProcess[] {
  const count = readWholeNumber(env, "RAFT_NODES", 3, { min: 1, max: 7 });
  const firstPort = readWholeNumber(env, "RAFT_PORT", 4000, { min: 1, max: 65535 - count + 1 });
  const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
  const peers = ids.map((id, i) => `${id}=http://127.0.0.1:${firstPort + i}`).join(",");
  const dataDir = env.DATA_DIR?.trim();
  return ids.map((id, i) => ({
    id,
    port: firstPort + i,
    env: { RAFT_ID: id, RAFT_PEERS: peers, PORT: String(firstPort + i), DATA_DIR: dataDir ? `${dataDir}/${id}` : "" },
  }));
}

/** What `pnpm dev:raft` is asked for on its command line: `--dashboard` also starts the live dashboard on the group. */
export function readDevRaftFlags(args: readonly string[]): { dashboard: boolean } {
  for (const arg of args) if (arg !== "--dashboard") throw new Error(`unknown option ${JSON.stringify(arg)}: the one option is --dashboard (also start the live dashboard on the group)`);
  return { dashboard: args.includes("--dashboard") };
}

/**
 * The live dashboard `pnpm dev:raft --dashboard` starts beside the group: on DASHBOARD_PORT
 * (3100, as with `pnpm dev`), watching every node (RAFT_URLS). Throws when that port is a node's.
 */
export function planRaftDashboard(env: Record<string, string | undefined>, nodes: readonly RaftDevProcess[]): { port: number; env: Record<string, string> } {
  const port = readWholeNumber(env, "DASHBOARD_PORT", 3100, { min: 1, max: 65535 });
  if (nodes.some((n) => n.port === port)) throw new Error(`DASHBOARD_PORT=${port} is a node's port (${nodes.map((n) => n.port).join(", ")}): pick another DASHBOARD_PORT or RAFT_PORT`);
  return { port, env: { DASHBOARD_PORT: String(port), RAFT_URLS: nodes.map((n) => `http://127.0.0.1:${n.port}`).join(",") } };
}
