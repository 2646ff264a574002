import type { IncomingMessage, RequestListener } from "node:http";
import { join } from "node:path";
import { listen, type Clock, type Listening, type ManualClock } from "@lab/service";
import type { Express } from "express";
import { Agent, request } from "undici";
import { readRaftConfig } from "./config.ts";
import { buildRaftNode, type RaftNode } from "./raft-node.ts";

/** A reply as a test reads it: the status and the parsed JSON body (tests read it freely; the shapes are asserted). */
export interface Reply {
  status: number;
  body: any;
}

/** Where each node's election timeout falls in the range: n1 first, so that the first election is n1's. */
const TIMEOUT_DRAWS = [0, 0.5, 0.9, 0.3, 0.7];

export interface GroupOptions {
  /** How many members; default 3. Their ids are n1, n2, ... */
  nodes?: number;
  /**
   * A manual clock: time passes only in `advance`, 5 ms at a time, with the network quiet after
   * each step, so that a story happens the same way every time (the tests, and `pnpm lab`'s
   * verdict tests). The system clock: time passes as it does (`pnpm lab`).
   */
  clock: ManualClock | Clock;
  /** DATA_DIR of the group: each node keeps its Raft state in DATA_DIR/<id>. Default: in memory. */
  dataDir?: string | undefined;
  commitTimeoutMs?: number | undefined;
  /** More settings for every node, as its environment would give them (PRE_VOTE, ELECTION_TIMEOUT_MIN_MS, ...). */
  env?: Record<string, string>;
  /** Called with each log line of each node, as it is logged. */
  onLine?: ((id: string, line: string) => void) | undefined;
  /** Called with each HTTP request a node takes, before it is handled: to count what crosses the wire. */
  onRequest?: ((id: string, req: IncomingMessage) => void) | undefined;
}

/**
 * A Raft group of the app's nodes in this process, each on its own 127.0.0.1 port (port 0: the
 * OS picks), talking real HTTP. On a manual clock, time passes only in `advance`; between steps,
 * `quiet()` waits (in turns of the event loop, not in time) until no message is on the wire, so a
 * story's steps happen in the order it says. On the system clock, `advance` lets real time pass.
 * Each node's election timeout is drawn at a fixed place in its range (n1 first), so that who
 * stands first is known.
 */
export async function startGroup({ nodes = 3, clock, dataDir, commitTimeoutMs, env: more = {}, onLine, onRequest }: GroupOptions) {
  const ids = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const lines: string[] = [];
  const slots = new Map<string, { app?: Express; server?: Listening; node?: RaftNode; port: number }>();
  const route = (id: string): RequestListener => (req, res) => {
    onRequest?.(id, req);
    slots.get(id)!.app!(req, res);
  };
  for (const id of ids) {
    const server = await listen(route(id), { host: "127.0.0.1", port: 0 });
    slots.set(id, { server, port: server.port });
  }
  const peers = ids.map((id) => `${id}=http://127.0.0.1:${slots.get(id)!.port}`).join(",");
  const urlOf = (id: string) => `http://127.0.0.1:${slots.get(id)!.port}`;
  const env = (id: string) => ({ RAFT_ID: id, RAFT_PEERS: peers, ...(dataDir ? { DATA_DIR: join(dataDir, id) } : {}), ...(commitTimeoutMs ? { COMMIT_TIMEOUT_MS: String(commitTimeoutMs) } : {}), ...more });
  const manual = "advance" in clock ? clock : undefined;

  const boot = (id: string) => {
    const draw = TIMEOUT_DRAWS[ids.indexOf(id)]!;
    const logLine = (line: string) => {
      lines.push(`[${id}] ${line}`);
      onLine?.(id, line);
    };
    const node = buildRaftNode(readRaftConfig(env(id)), { clock, random: () => draw, logLine });
    const slot = slots.get(id)!;
    slot.node = node;
    slot.app = node.app;
    node.start();
    return node;
  };
  ids.forEach(boot);

  let agent = new Agent();
  const running = () => ids.filter((id) => slots.get(id)!.server);
  const node = (id: string) => slots.get(id)!.node!;
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  /** Waits until no message is on the wire and nothing is left to send (turns of the event loop; no time passes). */
  async function quiet() {
    for (let calm = 0; calm < 3; ) {
      await turn();
      const busy = running().filter((id) => node(id).pending() > 0);
      if (busy.length === 0) calm++;
      else {
        calm = 0;
        await Promise.all(busy.map((id) => node(id).whenIdle()));
      }
    }
  }

  const group = {
    ids,
    lines,
    urlOf,
    node,
    running,
    quiet,
    /** Moves a manual clock `ms` forward, 5 ms at a time, with the network quiet after each step; on the system clock, waits `ms`. */
    async advance(ms: number) {
      if (!manual) return clock.sleep(ms);
      for (let passed = 0; passed < ms; passed += 5) {
        manual.advance(Math.min(5, ms - passed));
        await quiet();
      }
    },
    /** The leader, if exactly one of `among` (default: the running nodes) leads and all of them follow it. */
    leader(among: readonly string[] = running()): string | undefined {
      const leaders = among.filter((id) => node(id).raft.status().role === "leader");
      return leaders.length === 1 && among.every((id) => node(id).raft.status().leaderId === leaders[0]) ? leaders[0] : undefined;
    },
    /** Advances until exactly one of `among` (default: the running nodes) leads and all of them follow it; returns it. */
    async elect(withinMs = 3_000, among?: readonly string[]) {
      for (let passed = 0; passed <= withinMs; passed += 5) {
        const leader = group.leader(among);
        if (leader) return leader;
        await group.advance(5);
      }
      throw new Error(`no single leader known to all of ${(among ?? running()).join(", ")} within ${withinMs} ms:\n${lines.slice(-20).join("\n")}`);
    },
    /** Sends a request with a JSON body (or none) and returns the status and the parsed JSON reply. */
    async send(method: string, url: string, body?: unknown, headers: Record<string, string> = body === undefined ? {} : { "content-type": "application/json" }): Promise<Reply> {
      const res = await request(url, { method: method as "GET", headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body), dispatcher: agent });
      const text = await res.body.text();
      return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
    },
    status: async (id: string) => (await group.send("GET", `${urlOf(id)}/status`)).body,
    /** `POST /admin/disconnect`: cuts a node off from the others (clients still reach it). */
    disconnect: (id: string) => group.send("POST", `${urlOf(id)}/admin/disconnect`),
    /** `POST /admin/reconnect`: joins it again. */
    reconnect: (id: string) => group.send("POST", `${urlOf(id)}/admin/reconnect`),
    /** Stops a node as a process stops: its port closes, its timers and connections go. */
    async stop(id: string) {
      const slot = slots.get(id)!;
      await slot.server!.close();
      slot.server = undefined;
      await slot.node!.close();
      await agent.destroy();
      agent = new Agent();
    },
    /** Starts a stopped node again on its port, from its DATA_DIR if it has one. */
    async restart(id: string) {
      const slot = slots.get(id)!;
      slot.server = await listen(route(id), { host: "127.0.0.1", port: slot.port });
      return boot(id);
    },
    async close() {
      for (const id of running()) await group.stop(id);
      await agent.destroy();
    },
  };
  return group;
}

export type Group = Awaited<ReturnType<typeof startGroup>>;
