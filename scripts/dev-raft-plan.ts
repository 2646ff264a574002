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
