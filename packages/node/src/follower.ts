import { DEFAULT_FOLLOWER_TIMEOUT_MS, serveLog } from "./serve-log.ts";
import { createChangeFeed, followersSignature, watchRoute } from "./watch.ts";
import { applyEvent, createOrders, replaceOrders, type Order, type OrderEvent } from "@lab/orders";
import { createLink, createMemoryLog, createReceiver, type CascadedRow, type Link, type LinkState, type LogEntry, createReplica, DEFAULT_RETAIN_EVENTS, newLogId, type LogClient, type ReplicationLog } from "@lab/replication";
import { jsonErrorHandler, notFoundRoute, silentLogger, systemClock, type Clock, type LogLine } from "@lab/service";
import express, { type Express } from "express";
import { createCheckpointer } from "./checkpointer.ts";
import { adminRoutes } from "./admin-routes.ts";
import { followerRoutes } from "./follower-routes.ts";

/** What a follower is built from. */
export interface FollowerDeps {
  /** How it reads its upstream's log (and, to resync, its snapshot): the leader, or another follower. */
  client: LogClient<OrderEvent, Order[]>;
  /** FOLLOWER_ID: its name in its upstream's `/replication`, in chains, and in its own replies. */
  followerId?: string;
  /** How long each event waits before it is applied (APPLY_LAG_MS). */
  applyLagMs: number;
  /** The pause between fetches when there is nothing new (POLL_INTERVAL_MS); with long-polling, the base of the backoff. */
  pollIntervalMs: number;
  /** LONG_POLL_MS: how long the upstream may hold a fetch until a new event exists; 0 (the default here) polls every pollIntervalMs, as in the chapter. */
  longPollMs?: number;
  /** BATCH_WAIT_MS: with long-polling, the pause after a fetch that brought more than one event, so the next brings a batch; 0 (the default here) fetches again at once. */
  batchWaitMs?: number;
  /** Time and waiting; a test passes a manual clock to decide when the lag elapses. */
  clock?: Clock;
  /** Where log lines go (one per applied event, and outages). */
  logLine?: LogLine;
  /** How many events one fetch asks for. */
  batchLimit?: number;
  /** RETAIN_EVENTS: how many received events it keeps for followers of its own (never fewer than it has yet to apply). */
  retainEvents?: number;
  /**
   * Opens its own log (what it has received), given the retention it needs; in memory by
   * default. server.ts opens one on disk with DATA_DIR.
   */
  openLog?(options: { retain: number; keepFrom: () => number }): Promise<ReplicationLog<OrderEvent>>;
  /** Where to keep a checkpoint of state and position (DATA_DIR); none by default, as in the chapter. */
  checkpointFile?: string | undefined;
  /** How often, at most, to save the checkpoint while applying. */
  checkpointEveryMs?: number;
  /** FOLLOWER_TIMEOUT_MS: a follower of this one not heard from for this long (and with no fetch held) is disconnected. */
  followerTimeoutMs?: number;
  /** Whether its admin routes (/admin/...) may change it: only when it is bound to loopback. Default true. */
  adminAllowed?: boolean;
  /** Restarts it as a process restarts (`POST /admin/restart`); unset, that route answers 501. */
  restart?: () => Promise<void>;
}

/** The most events applied in one go that get a log line each; more get one line between them. */
const MAX_APPLIED_LINES = 5;

/** A follower: its HTTP app, and its replication loop, started and stopped explicitly. */
export interface Follower {
  /** The Express app (`GET /orders/:id`, `/status`, and its log for followers of its own). It does not listen. */
  app: Express;
  /** Its name. */
  id: string;
  /** Its own log: what it has received. */
  log: ReplicationLog<OrderEvent>;
  /** Fetches once from the upstream, appends what arrives, and applies what is already due; resolves to the ms to wait before the next fetch. */
  pollOnce(signal?: AbortSignal): Promise<number>;
  /** Applies every received event whose lag has elapsed by now; returns how many. */
  applyDue(): number;
  /** Starts fetching and applying in the background. */
  start(): void;
  /** Stops both loops and resolves once they have ended; in-flight fetches are aborted. */
  stop(): Promise<void>;
  /** What `GET /status` shows. */
  status(): FollowerStatus;
  /** Resolves true once `offset` is applied, false if `timeout` settles first. */
  waitForApplied(offset: number, timeout: Promise<void>): Promise<boolean>;
  /** Releases its log (a file, with DATA_DIR). */
  close(): Promise<void>;
  /** Its link to its upstream, which /admin/pause cuts. */
  link: Link<OrderEvent, Order[]>;
}

export interface FollowerStatus {
  ok: true;
  follower: true;
  followerId: string;
  /** The URL it replicates from (LEADER_URL): the leader, or another follower. */
  leaderUrl: string;
  /** Where writes go: the leader's URL (its LEADER_URL, or as the chain above says), null while unknown. */
  writesTo: string | null;
  /** The ids of the nodes above it, the leader first, as its upstream last said. */
  upstreamChain: string[];
  leaderReachable: boolean | null;
  lastContactAt: number | null;
  /** Why fetching from its upstream fails, while it does (unreachable, refused, a replication loop). */
  upstreamProblem: string | null;
  /** The next offset the follower will ask its upstream for. */
  nextFrom: number;
  /** The last offset applied, or null before the first. */
  appliedOffset: number | null;
  /** The upstream's head (its next offset) as last seen. */
  head: number | null;
  /** Events received but not yet applied. */
  pending: number;
  /** The identity of the log this follower follows. */
  logId: string | null;
  /** How many times it has replaced its state with its upstream's snapshot. */
  resyncs: number;
  /** How many fetches the upstream has answered: events received / fetches is the batch size. */
  fetches: number;
  /** Progress reports sent between fetches (while a long poll was held). */
  acks: number;
  /** How far behind the upstream its state is: in events, and in ms since the oldest unapplied event was written. */
  lag: { events: number | null; ms: number | null };
  /** The most its state can be behind the leader, as it can prove (see maxStalenessMs); null when it cannot tell. */
  stalenessMs: number | null;
  applyLagMs: number;
  pollIntervalMs: number;
  /** 0 when polling every pollIntervalMs, as in the chapter. */
  longPollMs: number;
  batchWaitMs: number;
  /** Its link to its upstream: open, or held or dropped by /admin/pause. */
  link: LinkState;
  /** Set if applying stopped because an event did not fit the state. */
  error?: string;
}

/**
 * Creates a follower. It rebuilds its upstream's state only from the upstream's log, with the
 * same `applyEvent` the leader uses: it never decides anything and never reads its own clock to
 * build state. What it receives goes into its own log at the same offsets, which it serves,
 * with the same routes as the leader, to followers of its own (cascading replication). Nothing
 * runs until `start()` (or a test's `pollOnce()` / `applyDue()`).
 */
export async function createFollower({
  client,
  followerId = "follower",
  applyLagMs,
  pollIntervalMs,
  clock = systemClock,
  logLine = silentLogger,
  batchLimit,
  retainEvents = DEFAULT_RETAIN_EVENTS,
  openLog = async (options) => createMemoryLog<OrderEvent>(options),
  checkpointFile,
  checkpointEveryMs = 1000,
  longPollMs = 0,
  batchWaitMs = 0,
  followerTimeoutMs = DEFAULT_FOLLOWER_TIMEOUT_MS,
  adminAllowed = true,
  restart,
}: FollowerDeps): Promise<Follower> {
  const orders = createOrders();
  const link = createLink(client);
  const checkpointer = checkpointFile
    ? createCheckpointer({
        file: checkpointFile,
        clock,
        everyMs: checkpointEveryMs,
        logLine,
        position: () => (replica.logId === undefined ? undefined : { logId: replica.logId, nextOffset: replica.appliedNext }),
        state: () => [...orders.values()],
      })
    : undefined;
  const resumed = checkpointer?.load();

  // Received entries are kept until applied (and RETAIN_EVENTS more for followers of this one).
  let keepFrom = () => resumed?.nextOffset ?? 0;
  const log = await openLog({ retain: retainEvents, keepFrom: () => keepFrom() });
  if (!resumed && log.head > 0) await log.reset({ logId: newLogId(), start: 0 }); // a log with no state to go with it: start over

  // One line per applied event, as the chapter shows them; a burst applied in one go (a batch
  // fetched under load, a catch-up) is one line for all of it, not hundreds.
  let appliedNow: { entry: LogEntry<OrderEvent>; lag: number }[] = [];
  const logApplied = () => {
    if (appliedNow.length <= MAX_APPLIED_LINES) {
      for (const { entry, lag } of appliedNow) logLine(`applied offset=${entry.offset} type=${entry.type} orderId=${entry.orderId} lag=${lag}ms`);
    } else {
      const lags = appliedNow.map((a) => a.lag);
      const last = appliedNow.at(-1)!.entry;
      logLine(`applied offset=${appliedNow[0]!.entry.offset}..${last.offset} (${appliedNow.length} events, the last type=${last.type} orderId=${last.orderId}) lag=${Math.min(...lags)}..${Math.max(...lags)}ms`);
    }
    appliedNow = [];
  };
  const replica = createReplica<OrderEvent>({
    log,
    applyLagMs,
    apply: (entry) => applyEvent(orders, entry),
    onApplied: (entry, now) => appliedNow.push({ entry, lag: now - entry.at }),
  });
  keepFrom = () => replica.appliedNext;
  const receiver = createReceiver({ client: link.client, replica, clock, followerId, downstream: (): CascadedRow[] => served.downstream.report(followerId), describe: (e) => ` ${e.type} ${e.orderId}`, pollIntervalMs, longPollMs, batchWaitMs, logLine, batchLimit, restore: (state) => replaceOrders(orders, state) });

  if (resumed) {
    replaceOrders(orders, resumed.state)();
    const position = { logId: resumed.logId, nextOffset: resumed.nextOffset };
    const logHolds = log.logId === resumed.logId && log.start <= resumed.nextOffset && resumed.nextOffset <= log.head;
    if (logHolds) replica.resume(position, clock.now());
    else await replica.reset(position);
    const kept = replica.pending > 0 ? `, ${replica.pending} received events to apply` : "";
    logLine(`resumed from checkpoint ${checkpointFile}: log ${resumed.logId}, offset ${resumed.nextOffset}, ${orders.size} orders${kept}`);
  }

  const position = () => ({
    nextFrom: replica.nextFrom,
    appliedOffset: replica.appliedOffset < 0 ? null : replica.appliedOffset,
    head: receiver.head ?? null,
  });

  const status = (): FollowerStatus => {
    const head = receiver.head;
    const behind = head === undefined ? null : Math.max(0, head - replica.appliedNext);
    const oldest = replica.oldestPending;
    return {
      ok: true,
      follower: true,
      followerId,
      leaderUrl: client.leaderUrl,
      writesTo: receiver.leaderUrl ?? null,
      upstreamChain: [...receiver.upstreamChain],
      leaderReachable: receiver.leaderReachable ?? null,
      lastContactAt: receiver.lastContactAt ?? null,
      upstreamProblem: receiver.problem ?? null,
      ...position(),
      pending: replica.pending,
      logId: replica.logId ?? null,
      resyncs: receiver.resyncs,
      fetches: receiver.fetches,
      acks: receiver.acks,
      lag: { events: behind, ms: behind === 0 ? 0 : oldest ? Math.max(0, clock.now() - oldest.at) : null },
      stalenessMs: receiver.freshness.appliedStalenessMs(clock.now()),
      applyLagMs: replica.applyLagMs,
      pollIntervalMs,
      longPollMs,
      batchWaitMs,
      link: link.state,
      ...(replica.failure ? { error: replica.failure.message } : {}),
    };
  };

  const served = serveLog({
    log,
    clock,
    followerTimeoutMs,
    node: {
      id: followerId,
      role: () => "follower",
      chain: () => [...receiver.upstreamChain, followerId],
      notReady: () => (replica.logId === undefined ? `follower ${followerId} has not reached its upstream at ${client.leaderUrl} yet: it has no log to serve` : undefined),
      stalenessMs: () => receiver.freshness.receivedStalenessMs(clock.now()),
      leaderUrl: () => receiver.leaderUrl,
      describe: () => ({ upstream: { url: client.leaderUrl, chain: [...receiver.upstreamChain], reachable: receiver.leaderReachable ?? null, lastContactAt: receiver.lastContactAt ?? null } }),
    },
    snapshot: () => ({ offset: replica.appliedNext, state: [...orders.values()] }),
  });

  served.downstream.subscribe(() => receiver.reportProgress()); // pass the followers below this one up the chain at once

  // What a dashboard watches: a new version whenever what it shows changes (not on heartbeats).
  const feed = createChangeFeed(clock, () => {
    const { nextFrom, appliedOffset, head, logId, resyncs, leaderReachable, upstreamProblem, upstreamChain, applyLagMs: lag, link: linkState, error } = status();
    return JSON.stringify([nextFrom, appliedOffset, head, logId, resyncs, leaderReachable, upstreamProblem, upstreamChain, lag, linkState, error, followersSignature(served.downstream.list())]);
  });
  const noteChange = () => feed.changed();
  log.subscribe(noteChange);
  served.downstream.subscribe(noteChange);
  const view = (ids: string[]) => ({
    follower: true,
    role: "follower",
    nodeId: followerId,
    status: status(),
    followers: served.downstream.list(),
    orders: Object.fromEntries(ids.map((id) => [id, orders.get(id) ?? null])),
  });
  // A sleep of the apply loop that a change of lag cuts short, so the new lag takes effect at once.
  let applySleep = new AbortController();

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(served.router);
  app.use(watchRoute(feed, view));
  app.use(
    adminRoutes({
      allowed: adminAllowed,
      setApplyLagMs(ms) {
        replica.setApplyLagMs(ms);
        applySleep.abort();
        logLine(`APPLY_LAG_MS is now ${ms} (changed through /admin/apply-lag)`);
        noteChange();
      },
      cutLink(how) {
        link.cut(how);
        logLine(`link to ${client.leaderUrl} ${how === "hold" ? "held" : "dropped"} through /admin/pause: ${how === "hold" ? "requests wait" : "requests fail"} until /admin/resume`);
        noteChange();
      },
      openLink() {
        link.open();
        logLine(`link to ${client.leaderUrl} open again through /admin/resume`);
        noteChange();
      },
      restart,
      status,
    }),
  );
  app.use(
    followerRoutes({
      orders,
      clock,
      leaderUrl: () => receiver.leaderUrl,
      applyLagMs: () => replica.applyLagMs,
      position,
      waitForApplied: (offset, timeout) => replica.waitForApplied(offset, timeout),
      stalenessMs: () => receiver.freshness.appliedStalenessMs(clock.now()),
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
      else if (due > clock.now()) {
        applySleep = new AbortController();
        const stopped = () => applySleep.abort();
        signal.addEventListener("abort", stopped, { once: true });
        await clock.sleep(due - clock.now(), applySleep.signal);
        signal.removeEventListener("abort", stopped);
      } else applyDue();
    }
  }

  /**
   * One fetch, then whatever is already due is applied at once (with no lag, before the next
   * fetch goes, which then reports it); a resync it did is checkpointed at once.
   */
  async function pollOnce(signal?: AbortSignal) {
    const resyncs = receiver.resyncs;
    const waitMs = await receiver.pollOnce(signal);
    applyDue();
    checkpointer?.maybeSave(receiver.resyncs !== resyncs);
    noteChange();
    return waitMs;
  }

  function applyDue() {
    const applied = replica.applyDue(clock.now());
    logApplied();
    receiver.freshness.noteApplied(replica.appliedNext);
    if (applied > 0) {
      receiver.reportProgress();
      checkpointer?.maybeSave();
      noteChange();
    }
    return applied;
  }

  return {
    app,
    id: followerId,
    log,
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
    close: () => log.close(),
    link,
  };
}
