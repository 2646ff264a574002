import { createLeaderApp } from "@lab/api";
import type { OrderEvent } from "@lab/orders";
import { createLogClient, createMemoryLog, type ReplicationLog } from "@lab/replication";
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
  /** The clock both nodes use; pass a manual clock to decide when lag elapses. Default: the real one. */
  clock?: Clock;
  /** Start the follower's loops (default true). With `false` the test drives it: `poll()`, `applyDue()`. */
  run?: boolean;
  /** Where both nodes' log lines go, prefixed `[leader]` / `[follower]`; default nowhere. */
  logLine?: LogLine;
}

/**
 * Starts a leader and a follower in this process, each on its own loopback port (chosen by the
 * OS), the follower reading the leader's log over real HTTP. Tests use it to tell the chapter's
 * story step by step; the exercises use it to run the lab with several settings in one go.
 */
export async function startCluster({ applyLagMs = 0, pollIntervalMs = 300, clock = systemClock, run = true, logLine = silentLogger }: ClusterOptions = {}) {
  const log: ReplicationLog<OrderEvent> = createMemoryLog<OrderEvent>();
  const leaderApp = createLeaderApp({ log, clock, logLine: (line) => logLine(`[leader] ${line}`) });
  let leaderServer: Listening | undefined = await listen(leaderApp, { host: "127.0.0.1", port: 0 });
  const leaderPort = leaderServer.port;
  const leaderUrl = leaderServer.url;

  const client = createLogClient<OrderEvent>({ leaderUrl });
  const follower: Follower = createFollower({ client, applyLagMs, pollIntervalMs, clock, logLine: (line) => logLine(`[follower] ${line}`) });
  const followerServer = await listen(follower.app, { host: "127.0.0.1", port: 0 });
  if (run) follower.start();

  return {
    clock,
    /** The leader's log, for its head. */
    log,
    leader: {
      url: leaderUrl,
      /** Takes the leader off the network (its state and log are kept), as if it crashed or was cut off. */
      async stop() {
        await leaderServer?.close();
        leaderServer = undefined;
      },
      /** Puts the same leader back on the same port. */
      async start() {
        leaderServer ??= await listen(leaderApp, { host: "127.0.0.1", port: leaderPort });
      },
    },
    follower: Object.assign(follower, { url: followerServer.url }),

    createOrder: (id: string) => send("POST", `${leaderUrl}/orders`, { id }),
    confirm: (id: string) => send("POST", `${leaderUrl}/orders/${id}/confirm`),
    cancel: (id: string) => send("POST", `${leaderUrl}/orders/${id}/cancel`),
    readLeader: (id: string) => send("GET", `${leaderUrl}/orders/${id}`),
    /** Reads an order from the follower; `query` such as `{ minOffset: 3 }`. */
    readFollower: (id: string, query: Record<string, number> = {}) => {
      const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
      return send("GET", `${followerServer.url}/orders/${id}${search.size ? `?${search}` : ""}`);
    },
    followerStatus: () => send("GET", `${followerServer.url}/status`),

    /** In driven mode: one fetch from the leader, then apply whatever is already due. */
    async poll() {
      await follower.pollOnce();
      follower.applyDue();
    },

    /**
     * Resolves once the follower has applied everything the leader has logged; fails after
     * `withinMs` (a safety net against a hung test, not a way to wait) with where it got stuck.
     */
    async expectCaughtUp(withinMs = 10_000) {
      const want = log.head - 1;
      if (want < 0) return;
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)));
      const ok = await follower.waitForApplied(want, giveUp);
      clearTimeout(timer);
      if (!ok) throw new Error(`follower caught up: got appliedOffset ${follower.status().appliedOffset}, want ${want}`);
    },

    /** Stops the follower's loops and both servers. */
    async close() {
      await follower.stop();
      await Promise.all([leaderServer?.close(), followerServer.close()]);
      await client.close();
    },
  };
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>;

/** Sends one request and parses the JSON reply. */
export async function send(method: string, url: string, body?: unknown): Promise<Reply> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    throw new Error(`${method} ${url}: got ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}
