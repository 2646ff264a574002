import { applyEvent, createOrders, type OrderEvent } from "@lab/orders";
import type { LogClient } from "@lab/replication";
import { jsonErrorHandler, notFoundRoute, silentLogger, systemClock, type Clock, type LogLine } from "@lab/service";
import express, { type Express } from "express";
import { createReceiver } from "./receiver.ts";
import { createReplica } from "./replica.ts";
import { followerRoutes } from "./routes.ts";

/** What a follower is built from. */
export interface FollowerDeps {
  /** How it reads the leader's log. */
  client: LogClient<OrderEvent>;
  /** How long each event waits before it is applied (APPLY_LAG_MS). */
  applyLagMs: number;
  /** The pause between fetches when there is nothing new (POLL_INTERVAL_MS). */
  pollIntervalMs: number;
  /** Time and waiting; a test passes a manual clock to decide when the lag elapses. */
  clock?: Clock;
  /** Where log lines go (one per applied event, and outages). */
  logLine?: LogLine;
  /** How many events one fetch asks for. */
  batchLimit?: number;
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
  /** How far behind the leader the follower's state is: in events, and in ms since the oldest unapplied event was written. */
  lag: { events: number | null; ms: number | null };
  applyLagMs: number;
  pollIntervalMs: number;
  /** Set if applying stopped because an event did not fit the state. */
  error?: string;
}

/**
 * Creates a follower. It rebuilds the leader's state only from the leader's log, with the same
 * `applyEvent` the leader uses: it never decides anything and never reads its own clock to build
 * state. Nothing runs until `start()` (or a test's `pollOnce()` / `applyDue()`).
 */
export function createFollower({ client, applyLagMs, pollIntervalMs, clock = systemClock, logLine = silentLogger, batchLimit }: FollowerDeps): Follower {
  const orders = createOrders();
  const replica = createReplica<OrderEvent>({
    applyLagMs,
    apply: (entry) => applyEvent(orders, entry),
    onApplied: (entry, now) => {
      logLine(`applied offset=${entry.offset} type=${entry.type} orderId=${entry.orderId} lag=${now - entry.at}ms`);
    },
  });
  const receiver = createReceiver({ client, replica, clock, pollIntervalMs, logLine, batchLimit });

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
      lag: { events: behind, ms: behind === 0 ? 0 : oldest ? Math.max(0, clock.now() - oldest.at) : null },
      applyLagMs,
      pollIntervalMs,
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
      const waitMs = await receiver.pollOnce(signal);
      await clock.sleep(waitMs, signal);
    }
  }

  /** Sleep until the next event falls due, apply, repeat: the applying half. */
  async function applyLoop(signal: AbortSignal) {
    let reportedFailure = false;
    while (!signal.aborted) {
      if (replica.failure) {
        if (!reportedFailure) logLine(`stopped applying: ${replica.failure.message}`);
        reportedFailure = true;
        await replica.whenReceived(signal); // nothing more can be applied; idle until stopped
        continue;
      }
      const due = replica.nextDueAt();
      if (due === undefined) await replica.whenReceived(signal);
      else if (due > clock.now()) await clock.sleep(due - clock.now(), signal);
      else replica.applyDue(clock.now());
    }
  }

  return {
    app,
    pollOnce: (signal) => receiver.pollOnce(signal),
    applyDue: () => replica.applyDue(clock.now()),
    status,
    waitForApplied: (offset, timeout) => replica.waitForApplied(offset, timeout),
    start() {
      if (running) return;
      const stop = new AbortController();
      running = { stop, loops: Promise.all([receiveLoop(stop.signal), applyLoop(stop.signal)]) };
    },
    async stop() {
      if (!running) return;
      const { stop, loops } = running;
      running = undefined;
      stop.abort();
      await loops;
    },
  };
}
