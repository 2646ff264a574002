import { join } from "node:path";
import { createLeaderApp } from "@lab/api";
import { applyEvent, createOrders, type Order, type OrderEvent } from "@lab/orders";
import { createLogClient, createMemoryLog, openFileLog, type LogClient, type ReplicationLog } from "@lab/replication";
import { Agent, request, type Dispatcher } from "undici";
import { listen, silentLogger, systemClock, type Clock, type Listening, type LogLine } from "@lab/service";
import { createFollower, type Follower } from "@lab/worker";

/** A reply as the harness hands it to a test: the status and the parsed JSON body. */
export interface Reply {
  status: number;
  // Tests read replies freely (`reply.body.order.status`); the shapes are asserted, not assumed.
  body: any;
}

export interface ClusterOptions {
  /** APPLY_LAG_MS of the follower; default 0. */
  applyLagMs?: number;
  /** POLL_INTERVAL_MS of the follower; default 300, as in the chapter. */
  pollIntervalMs?: number;
  /** LONG_POLL_MS of the follower; default 0 (plain polling), so a driven test's `poll()` never waits. */
  longPollMs?: number;
  /** BATCH_WAIT_MS of the follower; default 0 (fetch again at once). */
  batchWaitMs?: number;
  /** The clock both nodes use; pass a manual clock to decide when lag elapses. Default: the real one. */
  clock?: Clock;
  /** Start the follower's loops (default true). With `false` the test drives it: `poll()`, `applyDue()`. */
  run?: boolean;
  /** Where both nodes' log lines go, prefixed `[leader]` / `[follower]`; default nowhere. */
  logLine?: LogLine;
  /** RETAIN_EVENTS of the leader. */
  retainEvents?: number;
  /** DATA_DIR of the leader: its log on disk. Default: in memory, as in the chapter. */
  leaderDataDir?: string;
  /** DATA_DIR of the follower: its checkpoint. Default: in memory. */
  followerDataDir?: string;
}

/**
 * Starts a leader and a follower in this process, each on its own loopback port (chosen by the
 * OS), the follower reading the leader's log over real HTTP. Tests use it to tell the lab's
 * stories step by step (write, stale read, catch up; restart, resync); the exercises use it to
 * run the lab with several settings in one go.
 */
export async function startCluster(options: ClusterOptions = {}) {
  const { applyLagMs = 0, pollIntervalMs = 300, longPollMs = 0, batchWaitMs = 0, clock = systemClock, run = true, logLine = silentLogger } = options;
  const leaderLog: LogLine = (line) => logLine(`[leader] ${line}`);
  const followerLog: LogLine = (line) => logLine(`[follower] ${line}`);

  /** Builds a leader the way server.ts does: its state comes from its log (read back from disk, or new). */
  const bootLeader = async () => {
    const orders = createOrders();
    const log: ReplicationLog<OrderEvent> = options.leaderDataDir
      ? await openFileLog<OrderEvent>({ file: join(options.leaderDataDir, "leader-log.jsonl"), retain: options.retainEvents, replay: (e) => applyEvent(orders, e), logLine: leaderLog })
      : createMemoryLog<OrderEvent>({ retain: options.retainEvents });
    return { log, app: createLeaderApp({ log, orders, clock, logLine: leaderLog }) };
  };

  // The test's own connections to the leader: replaced whenever the leader goes away, so no
  // request is ever sent on a kept-alive connection that a stopped leader has closed.
  let toLeader = new Agent();
  const dropConnections = async () => {
    await toLeader.destroy();
    toLeader = new Agent();
  };

  let leader = await bootLeader();
  let leaderServer: Listening | undefined = await listen(leader.app, { host: "127.0.0.1", port: 0 });
  const leaderPort = leaderServer.port;
  const leaderUrl = leaderServer.url;

  const bootFollower = async () => {
    const client: LogClient<OrderEvent, Order[]> = createLogClient<OrderEvent, Order[]>({ leaderUrl });
    const checkpointFile = options.followerDataDir ? join(options.followerDataDir, "follower-checkpoint.json") : undefined;
    const node: Follower = createFollower({ client, applyLagMs, pollIntervalMs, longPollMs, batchWaitMs, clock, logLine: followerLog, checkpointFile });
    const server = await listen(node.app, { host: "127.0.0.1", port: 0 });
    if (run) node.start();
    return { node, server, client };
  };
  let follower: Awaited<ReturnType<typeof bootFollower>> | undefined = await bootFollower();
  const current = () => {
    if (!follower) throw new Error("the follower is stopped");
    return follower;
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
        leaderServer ??= await listen(leader.app, { host: "127.0.0.1", port: leaderPort });
      },
      /**
       * Restarts the leader process on the same port: with `leaderDataDir` it reads its log back
       * from disk; without, it starts over with a new, empty log, as a real restart would.
       */
      async restart() {
        await leaderServer?.close();
        await dropConnections();
        await leader.log.close();
        leader = await bootLeader();
        leaderServer = await listen(leader.app, { host: "127.0.0.1", port: leaderPort });
      },
    },
    /** The follower (a new one after `restartFollower`), with its URL. */
    get follower() {
      const { node, server } = current();
      return Object.assign(node, { url: server.url });
    },
    /** Stops the follower as a process stops: loops, server, connections. */
    async stopFollower() {
      const { node, server, client } = current();
      follower = undefined;
      await node.stop();
      await server.close();
      await client.close();
    },
    /** Starts a new follower process (resuming from its checkpoint if it has a DATA_DIR). */
    async startFollower() {
      follower ??= await bootFollower();
    },

    createOrder: (id: string) => send("POST", `${leaderUrl}/orders`, { id }, toLeader),
    confirm: (id: string) => send("POST", `${leaderUrl}/orders/${id}/confirm`, undefined, toLeader),
    cancel: (id: string) => send("POST", `${leaderUrl}/orders/${id}/cancel`, undefined, toLeader),
    readLeader: (id: string) => send("GET", `${leaderUrl}/orders/${id}`, undefined, toLeader),
    /** Reads an order from the follower; `query` such as `{ minOffset: 3 }`. */
    readFollower: (id: string, query: Record<string, number> = {}) => {
      const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
      return send("GET", `${current().server.url}/orders/${id}${search.size ? `?${search}` : ""}`);
    },
    followerStatus: () => send("GET", `${current().server.url}/status`),
    leaderHealth: () => send("GET", `${leaderUrl}/health`, undefined, toLeader),
    leaderSnapshot: () => send("GET", `${leaderUrl}/snapshot`, undefined, toLeader),

    /** In driven mode: one fetch from the leader, then apply whatever is already due. */
    async poll() {
      await current().node.pollOnce();
      current().node.applyDue();
    },

    /**
     * Resolves once the follower has applied everything the leader has logged; fails after
     * `withinMs` (a safety net against a hung test, not a way to wait) with where it got stuck.
     */
    async expectCaughtUp(withinMs = 10_000) {
      const want = leader.log.head - 1;
      if (want < 0) return;
      const { node } = current();
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)));
      const ok = await node.waitForApplied(want, giveUp);
      clearTimeout(timer);
      if (!ok) throw new Error(`follower caught up: got appliedOffset ${node.status().appliedOffset}, want ${want}`);
    },

    /** Stops the follower's loops, both servers and the leader's log. */
    async close() {
      if (follower) {
        const { node, server, client } = follower;
        await node.stop();
        await server.close();
        await client.close();
      }
      await leaderServer?.close();
      await leader.log.close();
      await toLeader.close();
    },
  };
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>;

/** Sends one request and parses the JSON reply (through `dispatcher`'s connections, if given). */
export async function send(method: string, url: string, body?: unknown, dispatcher?: Dispatcher): Promise<Reply> {
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
