import { applyEvent, checkOrderId, createOrders, transitions, type Order, type OrderEvent, type Orders } from "@lab/orders";
import type { LogClient } from "@lab/replication";
import { jsonErrorHandler, notFoundRoute, silentLogger, systemClock, type Clock, type LogLine } from "@lab/service";
import express, { type Express } from "express";
import { createCheckpointer } from "./checkpointer.ts";
import { createReceiver } from "./receiver.ts";
import { createReplica } from "./replica.ts";
import { followerRoutes } from "./routes.ts";

/** What a follower is built from. */
export interface FollowerDeps {
  /** How it reads the leader's log (and, to resync, its snapshot). */
  client: LogClient<OrderEvent, Order[]>;
  /** How long each event waits before it is applied (APPLY_LAG_MS). */
  applyLagMs: number;
  /** The pause between fetches when there is nothing new (POLL_INTERVAL_MS); with long-polling, the base of the backoff. */
  pollIntervalMs: number;
  /** LONG_POLL_MS: how long the leader may hold a fetch until a new event exists; 0 (the default here) polls every pollIntervalMs, as in the chapter. */
  longPollMs?: number;
  /** BATCH_WAIT_MS: with long-polling, the pause after a fetch that brought more than one event, so the next brings a batch; 0 (the default here) fetches again at once. */
  batchWaitMs?: number;
  /** Time and waiting; a test passes a manual clock to decide when the lag elapses. */
  clock?: Clock;
  /** Where log lines go (one per applied event, and outages). */
  logLine?: LogLine;
  /** How many events one fetch asks for. */
  batchLimit?: number;
  /** Where to keep a checkpoint of state and position (DATA_DIR); none by default, as in the chapter. */
  checkpointFile?: string | undefined;
  /** How often, at most, to save the checkpoint while applying. */
  checkpointEveryMs?: number;
}

/** A follower: its HTTP app, and its replication loop, started and stopped explicitly. */
export interface Follower {
  /** The read-only Express app (`GET /orders/:id`, `GET /status`). It does not listen. */
  app: Express;
  /** Fetches once from the leader and queues what arrives; resolves to the ms to wait before the next fetch. */
  pollOnce(signal?: AbortSignal): Promise<number>;
  /** Applies every queued event whose lag has elapsed by now; returns how many. */
  applyDue(): number;
  /** Starts fetching and applying in the background. */
  start(): void;
  /** Stops both loops and resolves once they have ended; in-flight fetches are aborted. */
  stop(): Promise<void>;
  /** What `GET /status` shows. */
  status(): FollowerStatus;
  /** Resolves true once `offset` is applied, false if `timeout` settles first. */
  waitForApplied(offset: number, timeout: Promise<void>): Promise<boolean>;
}

export interface FollowerStatus {
  ok: true;
  follower: true;
  leaderUrl: string;
  leaderReachable: boolean | null;
  lastContactAt: number | null;
  /** The next offset the follower will ask the leader for. */
  nextFrom: number;
  /** The last offset applied, or null before the first. */
  appliedOffset: number | null;
  /** The leader's head (its next offset) as last seen. */
  head: number | null;
  /** Events received but not yet applied. */
  pending: number;
  /** The identity of the leader's log this follower follows. */
  logId: string | null;
  /** How many times it has replaced its state with the leader's snapshot. */
  resyncs: number;
  /** How many fetches the leader has answered: events received / fetches is the batch size. */
  fetches: number;
  /** How far behind the leader the follower's state is: in events, and in ms since the oldest unapplied event was written. */
  lag: { events: number | null; ms: number | null };
  applyLagMs: number;
  pollIntervalMs: number;
  /** 0 when polling every pollIntervalMs, as in the chapter. */
  longPollMs: number;
  batchWaitMs: number;
  /** Set if applying stopped because an event did not fit the state. */
  error?: string;
}

/**
 * Creates a follower. It rebuilds the leader's state only from the leader's log, with the same
 * `applyEvent` the leader uses: it never decides anything and never reads its own clock to build
 * state. Nothing runs until `start()` (or a test's `pollOnce()` / `applyDue()`).
 */
export function createFollower({
  client,
  applyLagMs,
  pollIntervalMs,
  clock = systemClock,
  logLine = silentLogger,
  batchLimit,
  checkpointFile,
  checkpointEveryMs = 1000,
  longPollMs = 0,
  batchWaitMs = 0,
}: FollowerDeps): Follower {
  const orders = createOrders();
  const replica = createReplica<OrderEvent>({
    applyLagMs,
    apply: (entry) => applyEvent(orders, entry),
    onApplied: (entry, now) => {
      logLine(`applied offset=${entry.offset} type=${entry.type} orderId=${entry.orderId} lag=${now - entry.at}ms`);
    },
  });
  const receiver = createReceiver({ client, replica, clock, pollIntervalMs, longPollMs, batchWaitMs, logLine, batchLimit, restore: (state) => replaceOrders(orders, state) });

  const checkpointer = checkpointFile
    ? createCheckpointer({
        file: checkpointFile,
        clock,
        everyMs: checkpointEveryMs,
        logLine,
        position: () => (replica.logId === undefined ? undefined : { logId: replica.logId, nextOffset: replica.appliedOffset + 1 }),
        state: () => [...orders.values()],
      })
    : undefined;
  const resumed = checkpointer?.load();
  if (resumed) {
    replaceOrders(orders, resumed.state);
    replica.reset({ logId: resumed.logId, nextOffset: resumed.nextOffset });
    logLine(`resumed from checkpoint ${checkpointFile}: log ${resumed.logId}, offset ${resumed.nextOffset}, ${orders.size} orders`);
  }

  const position = () => ({
    nextFrom: replica.nextFrom,
    appliedOffset: replica.appliedOffset < 0 ? null : replica.appliedOffset,
    head: receiver.head ?? null,
  });

  const status = (): FollowerStatus => {
    const head = receiver.head;
    const behind = head === undefined ? null : Math.max(0, head - (replica.appliedOffset + 1));
    const oldest = replica.oldestPending;
    return {
      ok: true,
      follower: true,
      leaderUrl: client.leaderUrl,
      leaderReachable: receiver.leaderReachable ?? null,
      lastContactAt: receiver.lastContactAt ?? null,
      ...position(),
      pending: replica.pending,
      logId: replica.logId ?? null,
      resyncs: receiver.resyncs,
      fetches: receiver.fetches,
      lag: { events: behind, ms: behind === 0 ? 0 : oldest ? Math.max(0, clock.now() - oldest.at) : null },
      applyLagMs,
      pollIntervalMs,
      longPollMs,
      batchWaitMs,
      ...(replica.failure ? { error: replica.failure.message } : {}),
    };
  };

  const app = express();
  app.disable("x-powered-by");
  app.use(
    followerRoutes({
      orders,
      clock,
      leaderUrl: client.leaderUrl,
      applyLagMs,
      position,
      waitForApplied: (offset, timeout) => replica.waitForApplied(offset, timeout),
      status,
    }),
  );
  app.use(notFoundRoute);
  app.use(jsonErrorHandler(logLine));

  let running: { stop: AbortController; loops: Promise<unknown> } | undefined;

  /** Fetch, wait, fetch again: the receiving half. */
  async function receiveLoop(signal: AbortSignal) {
    while (!signal.aborted) {
      const waitMs = await pollOnce(signal);
      await clock.sleep(waitMs, signal);
    }
  }

  /** Sleep until the next event falls due, apply, repeat: the applying half. */
  async function applyLoop(signal: AbortSignal) {
    let reportedFailure = false;
    while (!signal.aborted) {
      reportedFailure &&= replica.failure !== undefined; // a resync clears a failure: report the next one
      if (replica.failure) {
        if (!reportedFailure) logLine(`stopped applying: ${replica.failure.message}`);
        reportedFailure = true;
        await replica.whenReceived(signal); // nothing more can be applied; idle until stopped
        continue;
      }
      const due = replica.nextDueAt();
      if (due === undefined) await replica.whenReceived(signal);
      else if (due > clock.now()) await clock.sleep(due - clock.now(), signal);
      else applyDue();
    }
  }

  /** One fetch; a resync it did is checkpointed at once. */
  async function pollOnce(signal?: AbortSignal) {
    const resyncs = receiver.resyncs;
    const waitMs = await receiver.pollOnce(signal);
    checkpointer?.maybeSave(receiver.resyncs !== resyncs);
    return waitMs;
  }

  function applyDue() {
    const applied = replica.applyDue(clock.now());
    if (applied > 0) checkpointer?.maybeSave();
    return applied;
  }

  return {
    app,
    pollOnce,
    applyDue,
    status,
    waitForApplied: (offset, timeout) => replica.waitForApplied(offset, timeout),
    start() {
      if (running) return;
      const stop = new AbortController();
      running = { stop, loops: Promise.all([receiveLoop(stop.signal), applyLoop(stop.signal)]) };
    },
    async stop() {
      if (running) {
        const { stop, loops } = running;
        running = undefined;
        stop.abort();
        await loops;
      }
      checkpointer?.maybeSave(true); // a clean stop loses nothing: resume exactly here
    },
  };
}

/**
 * Replaces the whole state with a snapshot's (or a checkpoint's) orders; returns a summary for
 * the log. Every order is checked first, so a bad snapshot changes nothing.
 */
function replaceOrders(orders: Orders, state: Order[]): string {
  const statuses = new Set(Object.values(transitions).map((t) => t.to));
  const isOrder = (o: Order | null) =>
    typeof o === "object" && o !== null && checkOrderId(o.id).ok && statuses.has(o.status) && Number.isFinite(o.updatedAt);
  if (!Array.isArray(state) || !state.every(isOrder)) throw new Error("the snapshot's state is not a list of orders");
  orders.clear();
  for (const order of state) orders.set(order.id, order);
  return `${orders.size} orders`;
}
