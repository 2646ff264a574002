import { ASYNC, bootNode, createFollower, FOLLOWING_DEFAULTS, nodeFiles, type Follower, type LabNode, type SyncSettings } from "@lab/node";
import type { Order, OrderEvent } from "@lab/orders";
import { createLogClient } from "@lab/replication";
import { Agent, request, type Dispatcher } from "undici";
import { listen, silentLogger, systemClock, type Clock, type Listening, type LogLine } from "@lab/service";
import type { Express } from "express";

/** A reply as the harness hands it to a test: the status and the parsed JSON body. */
export interface Reply {
  status: number;
  // Tests read replies freely (`reply.body.order.status`); the shapes are asserted, not assumed.
  body: any;
}

/** How one follower of the cluster is set up. Unset fields take the cluster's. */
export interface FollowerOptions {
  /** FOLLOWER_ID; default `follower-1`, `follower-2`, ... in order (`follower` for the one follower of a cluster that does not list them). */
  id?: string;
  applyLagMs?: number;
  pollIntervalMs?: number;
  longPollMs?: number;
  batchWaitMs?: number;
  /** STREAM=1: one stream open to its upstream instead of a fetch per batch. */
  stream?: boolean;
  /** RETAIN_EVENTS of this follower (what it keeps for followers of its own). */
  retainEvents?: number;
  /** Replicate from another follower (its index in `followers`) instead of the leader: cascading replication. */
  upstream?: number;
  /** DATA_DIR of this follower: its log and checkpoint. Default: in memory. */
  dataDir?: string;
}

export interface ClusterOptions {
  /** APPLY_LAG_MS of the followers; default 0. */
  applyLagMs?: number;
  /** POLL_INTERVAL_MS of the followers; default 300, as in the chapter. */
  pollIntervalMs?: number;
  /** LONG_POLL_MS of the followers; default 0 (plain polling), so a driven test's `poll()` never waits. */
  longPollMs?: number;
  /** BATCH_WAIT_MS of the followers; default 0 (fetch again at once). */
  batchWaitMs?: number;
  /** STREAM=1 for every follower (with long-polling, its heartbeat); default off. */
  stream?: boolean;
  /** The clock every node uses; pass a manual clock to decide when lag elapses. Default: the real one. */
  clock?: Clock;
  /** Start the followers' loops (default true). With `false` the test drives them: `poll()`, `applyDue()`. */
  run?: boolean;
  /** Where every node's log lines go, prefixed `[leader]` / `[follower-1]`; default nowhere. */
  logLine?: LogLine;
  /** RETAIN_EVENTS of the leader. */
  retainEvents?: number;
  /** DATA_DIR of the leader: its log on disk. Default: in memory, as in the chapter. */
  leaderDataDir?: string;
  /** DATA_DIR of the (first) follower. Default: in memory. */
  followerDataDir?: string;
  /** FOLLOWER_TIMEOUT_MS of every node. */
  followerTimeoutMs?: number;
  /** What the leader's writes wait for (SYNC_REPLICAS, SYNC_ACK, ...); asynchronous by default. */
  sync?: Partial<SyncSettings>;
  /** The followers, in order; default one, with the options above. */
  followers?: FollowerOptions[];
}

/**
 * Starts a leader and its followers in this process, each on its own loopback port (chosen by
 * the OS), every follower reading its upstream's log over real HTTP: the leader's, or another
 * follower's (cascading). Tests use it to tell the lab's stories step by step (write, stale
 * read, catch up; restart, resync; two followers, one far behind); the exercises use it to run
 * the lab with several settings in one go.
 */
export async function startCluster(options: ClusterOptions = {}) {
  const { clock = systemClock, run = true, logLine = silentLogger } = options;
  // One follower unless told otherwise, named as the chapter's log lines name it.
  const specs = (options.followers ?? [{ id: "follower", dataDir: options.followerDataDir }]).map((spec, i) => ({ ...spec, id: spec.id ?? `follower-${i + 1}` }));
  const leaderLog: LogLine = (line) => logLine(`[leader] ${line}`);

  // The test's own connections: replaced whenever a node goes away, so no request is ever sent
  // on a kept-alive connection that a stopped node has closed.
  let connections = new Agent();
  const dropConnections = async () => {
    await connections.destroy();
    connections = new Agent();
  };
  const send = (method: string, url: string, body?: unknown) => sendJson(method, url, body, connections);

  /** Listens on `port` with an app chosen later (a node is named and wired once every URL is known). */
  const listenLate = async (port: number) => {
    const slot: { app?: Express } = {};
    const server = await listen((req, res) => slot.app!(req, res), { host: "127.0.0.1", port });
    return { server, slot };
  };

  /** Builds the leader the way apps/api's server.ts does: its state comes from its log (read back from disk, or new). */
  const bootLeader = async (url: string) => {
    const node = await bootNode({
      id: "leader",
      url,
      startAs: "leader",
      files: options.leaderDataDir ? nodeFiles(options.leaderDataDir, "leader") : undefined,
      following: { ...FOLLOWING_DEFAULTS, longPollMs: options.longPollMs ?? 0, batchWaitMs: options.batchWaitMs ?? 0 },
      sync: { ...ASYNC, ...options.sync },
      retainEvents: options.retainEvents,
      followerTimeoutMs: options.followerTimeoutMs,
      clock,
      logLine: leaderLog,
    });
    if (run) node.start(); // it runs nothing while it leads, but follows at once if it is made to
    return { log: node.log, app: node.app, node };
  };

  const leaderSlot = await listenLate(0);
  let leaderServer: Listening | undefined = leaderSlot.server;
  const leaderPort = leaderServer.port;
  const leaderUrl = leaderServer.url;
  let leader = await bootLeader(leaderUrl);
  leaderSlot.slot.app = leader.app;

  const followerSlots = await Promise.all(specs.map(() => listenLate(0)));

  /** One follower of the cluster, as a test talks to it. */
  const makeFollower = (spec: (typeof specs)[number], index: number) => {
    const port = followerSlots[index]!.server.port;
    const url = followerSlots[index]!.server.url;
    /** Its LEADER_URL: the leader's, or another follower's; a restart may give it another. */
    let upstreamUrl = spec.upstream === undefined ? leaderUrl : followerSlots[spec.upstream]!.server.url;
    let server: Listening | undefined = followerSlots[index]!.server;
    let running: { node: Follower } | undefined;

    const boot = async () => {
      const client = createLogClient<OrderEvent, Order[]>({ leaderUrl: upstreamUrl });
      const dataDir = spec.dataDir;
      const node = await createFollower({
        restart: restartInPlace,
        client,
        url,
        followerId: spec.id,
        applyLagMs: spec.applyLagMs ?? options.applyLagMs ?? 0,
        pollIntervalMs: spec.pollIntervalMs ?? options.pollIntervalMs ?? 300,
        longPollMs: spec.longPollMs ?? options.longPollMs ?? 0,
        batchWaitMs: spec.batchWaitMs ?? options.batchWaitMs ?? 0,
        stream: spec.stream ?? options.stream ?? false,
        retainEvents: spec.retainEvents,
        followerTimeoutMs: options.followerTimeoutMs,
        clock,
        logLine: (line) => logLine(`[${spec.id}] ${line}`),
        files: dataDir ? nodeFiles(dataDir, "follower") : undefined,
        sync: { ...ASYNC, ...options.sync },
      });
      if (run) node.start();
      return { node };
    };
    const current = () => {
      if (!running) throw new Error(`${spec.id} is stopped`);
      return running.node;
    };
    /** `POST /admin/restart`: a new follower behind the same server, as a restarted process (from its DATA_DIR, or empty). */
    async function restartInPlace() {
      const old = running!;
      await old.node.stop();
      await old.node.close();
      running = await boot();
      followerSlots[index]!.slot.app = running.node.app;
    }

    return {
      id: spec.id,
      url,
      /** Whether it is running (not stopped). */
      get running() {
        return running !== undefined;
      },
      /** The follower as it runs now (a new one after `start()`). */
      get node() {
        return current();
      },
      async boot() {
        running = await boot();
        followerSlots[index]!.slot.app = running.node.app;
      },
      /** `POST /admin/promote`: it becomes the leader of a new epoch. */
      promote: () => send("POST", `${url}/admin/promote`),
      /** `POST /admin/follow`: it follows the node at `upstream` from now on. */
      follow: (upstream: string) => send("POST", `${url}/admin/follow`, { leaderUrl: upstream }),
      /** Reads an order from this follower; `query` such as `{ minOffset: 3 }`. */
      read: (id: string, query: Record<string, number> = {}) => {
        const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
        return send("GET", `${url}/orders/${id}${search.size ? `?${search}` : ""}`);
      },
      status: () => send("GET", `${url}/status`),
      replication: () => send("GET", `${url}/replication`),
      /** In driven mode: one fetch from its upstream, applying whatever is due. */
      poll: () => current().pollOnce(),
      applyDue: () => current().applyDue(),
      /** Stops it as a process stops: loops, server, connections, log. */
      async stop() {
        const stopped = running;
        if (!stopped) return;
        running = undefined;
        await stopped.node.stop();
        await server?.close();
        server = undefined;
        await stopped.node.close();
        await dropConnections();
      },
      /** Starts it again on the same port, as a new process (resuming from its checkpoint and log with a DATA_DIR), with another LEADER_URL if given. */
      async start(restartWith: { leaderUrl?: string } = {}) {
        if (running) return;
        if (restartWith.leaderUrl) upstreamUrl = restartWith.leaderUrl;
        if (!server) {
          const again = await listenLate(port);
          followerSlots[index] = again;
          server = again.server;
        }
        await this.boot();
      },
      /**
       * Resolves once it has applied everything the leader has logged; fails after `withinMs` (a
       * safety net against a hung test, not a way to wait) with where it got stuck.
       */
      async expectCaughtUp(withinMs = 10_000, of: { log: { head: number } } = leader) {
        const want = of.log.head - 1;
        if (want < 0) return;
        const node = current();
        let timer: NodeJS.Timeout | undefined;
        const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)));
        const ok = await node.waitForApplied(want, giveUp);
        clearTimeout(timer);
        if (!ok) throw new Error(`${spec.id} caught up: got appliedOffset ${node.status().appliedOffset}, want ${want}`);
      },
    };
  };

  const followers = specs.map(makeFollower);
  for (const f of followers) await f.boot();
  const first = () => {
    if (!followers[0]) throw new Error("the cluster has no follower");
    return followers[0];
  };

  return {
    clock,
    /** The leader's current log (a new one after a restart without DATA_DIR). */
    get log() {
      return leader.log;
    },
    leader: {
      url: leaderUrl,
      /** Takes the leader off the network (its state and log are kept), as if it were cut off. */
      async stop() {
        await leaderServer?.close();
        leaderServer = undefined;
        await dropConnections();
      },
      /** Puts the same leader back on the same port. */
      async start() {
        if (leaderServer) return;
        const again = await listenLate(leaderPort);
        again.slot.app = leader.app;
        leaderServer = again.server;
      },
      /**
       * Restarts the leader process on the same port: with `leaderDataDir` it reads its log back
       * from disk; without, it starts over with a new, empty log, as a real restart would.
       */
      async restart() {
        await leaderServer?.close();
        leaderServer = undefined;
        await dropConnections();
        await leader.node.stop();
        await leader.node.close();
        leader = await bootLeader(leaderUrl);
        await this.start();
      },
      replication: () => send("GET", `${leaderUrl}/replication`),
      status: () => send("GET", `${leaderUrl}/status`),
      /** The node started as the leader, whatever its role now. */
      get node(): LabNode {
        return leader.node;
      },
      /** `POST /admin/follow`: the leader follows the node at `upstream` from now on (it steps down). */
      follow: (upstream: string) => send("POST", `${leaderUrl}/admin/follow`, { leaderUrl: upstream }),
      /** In driven mode, once it follows: one fetch from its upstream, applying whatever is due. */
      poll: () => leader.node.following!.pollOnce(),
    },
    /** Every follower, in the order of `options.followers`. */
    followers,
    /** The first follower (the chapter's one), with its URL. */
    get follower() {
      return Object.assign(first().node, { url: first().url });
    },
    /** Stops the first follower as a process stops: loops, server, connections. */
    stopFollower: () => first().stop(),
    /** Starts the first follower again (resuming from its checkpoint if it has a DATA_DIR). */
    startFollower: () => first().start(),

    createOrder: (id: string) => send("POST", `${leaderUrl}/orders`, { id }),
    confirm: (id: string) => send("POST", `${leaderUrl}/orders/${id}/confirm`),
    cancel: (id: string) => send("POST", `${leaderUrl}/orders/${id}/cancel`),
    readLeader: (id: string) => send("GET", `${leaderUrl}/orders/${id}`),
    /** Reads an order from the first follower; `query` such as `{ minOffset: 3 }`. */
    readFollower: (id: string, query: Record<string, number> = {}) => first().read(id, query),
    followerStatus: () => first().status(),
    leaderHealth: () => send("GET", `${leaderUrl}/health`),
    leaderSnapshot: () => send("GET", `${leaderUrl}/snapshot`),
    /** `POST /wait` on the leader: until `replicas` followers have `offset`. */
    wait: (body: { offset: number; replicas: number; timeoutMs: number; ack?: string }) => send("POST", `${leaderUrl}/wait`, body),

    /** In driven mode: one fetch by every running node that follows, in order (the first leader, then the followers), each applying whatever is due. */
    async poll() {
      if (leaderServer && leader.node.following) await leader.node.following.pollOnce();
      for (const f of followers) if (f.running && f.node.following) await f.poll();
    },

    /** Writes to any node: `at` is its URL (the leader's by default). */
    createOrderAt: (at: string, id: string) => send("POST", `${at}/orders`, { id }),
    confirmAt: (at: string, id: string) => send("POST", `${at}/orders/${id}/confirm`),
    readAt: (at: string, id: string) => send("GET", `${at}/orders/${id}`),

    /** Resolves once the first follower has applied everything the leader has logged. */
    expectCaughtUp: (withinMs?: number) => first().expectCaughtUp(withinMs),

    /** Stops every follower, the leader's server and its log. */
    async close() {
      for (const f of [...followers].reverse()) await f.stop();
      await leader.node.stop();
      await leaderServer?.close();
      await leader.node.close();
      await connections.close();
    },
  };
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>;
export type ClusterFollower = Cluster["followers"][number];

/** Sends one request and parses the JSON reply (through `dispatcher`'s connections, if given). */
export async function sendJson(method: string, url: string, body?: unknown, dispatcher?: Dispatcher): Promise<Reply> {
  const res = await request(url, {
    method: method as Dispatcher.HttpMethod,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
    ...(dispatcher ? { dispatcher } : {}),
  });
  const text = await res.body.text();
  try {
    return { status: res.statusCode, body: JSON.parse(text) };
  } catch {
    throw new Error(`${method} ${url}: got ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}

/** Sends one request on a fresh connection and parses the JSON reply. */
export const send = (method: string, url: string, body?: unknown): Promise<Reply> => sendJson(method, url, body);
