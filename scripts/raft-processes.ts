import { fileURLToPath } from "node:url";
import { Agent } from "undici";
import { sendJson, type Reply } from "./cluster.ts";
import { planRaftDev } from "./dev-raft-plan.ts";
import { freePortRange, runServer, type RunningProcess } from "./processes.ts";

const raftAppDir = fileURLToPath(new URL("../apps/raft", import.meta.url));

export interface RaftProcessesOptions {
  /** RAFT_NODES; default 3. */
  nodes?: number;
  /** DATA_DIR, as `pnpm dev:raft` takes it: each node keeps its Raft state in DATA_DIR/<id>. Default: in memory. */
  dataDir?: string;
  /** More settings for every node (ELECTION_TIMEOUT_MIN_MS, HEARTBEAT_MS, COMMIT_TIMEOUT_MS, ...). */
  env?: Record<string, string>;
}

/**
 * A Raft group of apps/raft processes on 127.0.0.1, each started as `pnpm dev:raft` starts it
 * (the same plan: n1, n2, ... on consecutive ports, one RAFT_PEERS for all), but on ports found
 * free first: every node must know every member's URL before any of them listens, so port 0
 * cannot be used. Used by the end-to-end test and the benchmark. Nothing here waits on time:
 * `leader()` asks the nodes once, and callers wait on it with `until()`.
 */
export async function startRaftProcesses({ nodes = 3, dataDir, env = {} }: RaftProcessesOptions = {}) {
  const plan = planRaftDev({ RAFT_NODES: String(nodes), RAFT_PORT: String(await freePortRange(nodes)), DATA_DIR: dataDir });
  const running = new Map<string, RunningProcess>();
  const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  const urlOf = (id: string) => `http://127.0.0.1:${plan.find((p) => p.id === id)!.port}`;

  const group = {
    ids: plan.map((p) => p.id),
    urlOf,
    /** The ids of the nodes running now. */
    running: () => group.ids.filter((id) => running.has(id)),
    /** The process of a running node (its lines, its pid). */
    proc(id: string): RunningProcess {
      const proc = running.get(id);
      if (!proc) throw new Error(`${id} is not running`);
      return proc;
    },
    /** DATA_DIR of a node, if the group has one. */
    dataDirOf: (id: string) => plan.find((p) => p.id === id)!.env.DATA_DIR || undefined,
    /** Starts a node (again: on its port, from its DATA_DIR if it has one); resolves once it listens. */
    async start(id: string): Promise<RunningProcess> {
      const proc = runServer(raftAppDir, { ...plan.find((p) => p.id === id)!.env, ...env });
      running.set(id, proc);
      await proc.waitForLine(new RegExp(`^\\[${id}\\] listening on http`), 60_000);
      return proc;
    },
    /** SIGKILL to a node: no chance to clean up, as a crash; resolves once it is gone. */
    async kill(id: string) {
      const proc = group.proc(id);
      running.delete(id);
      await proc.kill();
    },
    /** SIGTERM to a node: it stops cleanly (its storage closed); resolves once it has exited. */
    async stop(id: string) {
      const proc = group.proc(id);
      running.delete(id);
      await proc.stop();
    },
    /** Sends one request through the group's kept-alive connections. */
    send: (method: string, url: string, body?: unknown): Promise<Reply> => sendJson(method, url, body, agent),
    status: async (id: string) => (await group.send("GET", `${urlOf(id)}/status`)).body,
    /**
     * The leader, if exactly one running node says it leads and every running node names it as
     * its leader; undefined otherwise (an election under way, a node not answering). Asks once.
     */
    async leader(): Promise<string | undefined> {
      const statuses = await Promise.all(group.running().map((id) => group.status(id).catch(() => undefined)));
      const leaders = statuses.filter((s) => s?.role === "leader");
      if (leaders.length !== 1 || !statuses.every((s) => s?.leaderId === leaders[0].id)) return undefined;
      return leaders[0].id as string;
    },
    /** Kills every node still running and closes the connections. */
    async close() {
      await Promise.all(group.running().map((id) => group.kill(id)));
      await agent.close();
    },
  };
  try {
    await Promise.all(group.ids.map((id) => group.start(id)));
  } catch (err) {
    await group.close();
    throw err;
  }
  return group;
}

export type RaftProcesses = Awaited<ReturnType<typeof startRaftProcesses>>;
