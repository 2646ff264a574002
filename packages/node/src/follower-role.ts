import { applyEvent, replaceOrders, type Order, type OrderEvent, type Orders } from "@lab/orders";
import { createLink, createReceiver, createReplica, latestEpoch, type CascadedRow, type LogClient, type LogEntry, type ReplicationLog } from "@lab/replication";
import type { Clock, LogLine } from "@lab/service";
import type { Checkpointer } from "./checkpointer.ts";

/** How a node follows an upstream (the follower's settings). */
export interface FollowingSettings {
  /** APPLY_LAG_MS: how long each event waits before it is applied. */
  applyLagMs: number;
  /** POLL_INTERVAL_MS: the pause between fetches when there is nothing new; with long-polling, the base of the backoff. */
  pollIntervalMs: number;
  /** LONG_POLL_MS: how long the upstream may hold a fetch until a new event exists; 0 polls every pollIntervalMs. */
  longPollMs: number;
  /** BATCH_WAIT_MS: with long-polling, the pause after a fetch that brought more than one event. */
  batchWaitMs: number;
  /** STREAM=1: one stream open to the upstream instead of a fetch per batch (see receiver.ts). */
  stream?: boolean | undefined;
  /** How many events one fetch asks for. */
  batchLimit?: number | undefined;
}

/** How a node that did not start as a follower follows, once told to (a leader made to follow): at once, long-polling, as a healthy follower does. */
export const FOLLOWING_DEFAULTS: FollowingSettings = { applyLagMs: 0, pollIntervalMs: 300, longPollMs: 500, batchWaitMs: 50 };

/** The most events applied in one go that get a log line each; more get one line between them. */
const MAX_APPLIED_LINES = 5;

/** What `GET /status` of a follower shows. */
export interface FollowerStatus {
  ok: true;
  follower: true;
  followerId: string;
  role: "follower";
  /** The latest leadership it has seen. */
  epoch: number;
  /** The URL it replicates from (LEADER_URL): the leader, or another follower. */
  leaderUrl: string;
  /** Where writes go: the leader's URL (its LEADER_URL, or as the chain above says), null while unknown. */
  writesTo: string | null;
  /** The ids of the nodes above it, the leader first, as its upstream last said. */
  upstreamChain: string[];
  leaderReachable: boolean | null;
  lastContactAt: number | null;
  /** Why fetching from its upstream fails, while it does (unreachable, refused, a replication loop, an older leader). */
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
  /** How many times it dropped a suffix its upstream's history never had (after a failover). */
  truncations: number;
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
  /** Set when it keeps a stream open to its upstream (STREAM=1). */
  stream?: true;
  /** Its link to its upstream: open, or held or dropped by /admin/pause. */
  link: "open" | "held" | "dropped";
  /** Set if applying stopped because an event did not fit the state. */
  error?: string;
}

export interface FollowerRoleOptions {
  id: string;
  orders: Orders;
  /** The node's log: what it receives goes in it, at the upstream's offsets. */
  log: ReplicationLog<OrderEvent>;
  client: LogClient<OrderEvent, Order[]>;
  clock: Clock;
  logLine: LogLine;
  settings: FollowingSettings;
  checkpointer?: Checkpointer | undefined;
  /** The followers below this node, reported up the chain. */
  downstream(): CascadedRow[];
  /** Something a watcher would see may have changed. */
  changed(): void;
  /** Where it stands in `log` already: the state holds every offset below `nextOffset`, and the log may hold more, received but not yet applied. Unset: it adopts its upstream's log on the first reply. */
  resumeAt?: { logId: string; nextOffset: number } | undefined;
}

/**
 * The follower's half of a node: it receives its upstream's log into the node's log (receiver.ts)
 * and applies it to the node's state after APPLY_LAG_MS (replica.ts), in two loops, started and
 * stopped explicitly. It never decides anything and never reads its own clock to build state:
 * the state is the upstream's, rebuilt with the same `applyEvent`.
 */
export function createFollowerRole({ id, orders, log, client, clock, logLine, settings, checkpointer, downstream, changed, resumeAt }: FollowerRoleOptions) {
  const { applyLagMs, pollIntervalMs, longPollMs, batchWaitMs, batchLimit, stream = false } = settings;
  const link = createLink(client);

  // One line per applied event, as the chapter shows them; a burst applied in one go (a batch
  // fetched under load, a catch-up) is one line for all of it, not hundreds, and keeps only what
  // that line needs, not a record per event.
  const emptyBurst = () => ({ count: 0, first: [] as { entry: LogEntry<OrderEvent>; lag: number }[], last: undefined as LogEntry<OrderEvent> | undefined, minLag: Infinity, maxLag: -Infinity });
  let burst = emptyBurst();
  const noteApplied = (entry: LogEntry<OrderEvent>, now: number) => {
    const lag = now - entry.at;
    burst.count++;
    if (burst.first.length < MAX_APPLIED_LINES) burst.first.push({ entry, lag });
    burst.last = entry;
    burst.minLag = Math.min(burst.minLag, lag);
    burst.maxLag = Math.max(burst.maxLag, lag);
  };
  const logApplied = () => {
    const { count, first, last, minLag, maxLag } = burst;
    if (count <= MAX_APPLIED_LINES) {
      for (const { entry, lag } of first) logLine(`applied offset=${entry.offset} type=${entry.type} orderId=${entry.orderId} lag=${lag}ms`);
    } else {
      logLine(`applied offset=${first[0]!.entry.offset}..${last!.offset} (${count} events, the last type=${last!.type} orderId=${last!.orderId}) lag=${minLag}..${maxLag}ms`);
    }
    if (count > 0) burst = emptyBurst();
  };
  const replica = createReplica<OrderEvent>({ log, applyLagMs, apply: (entry) => applyEvent(orders, entry), onApplied: noteApplied });
  if (resumeAt) replica.resume(resumeAt, clock.now());
  const receiver = createReceiver({
    client: link.client,
    replica,
    clock,
    followerId: id,
    downstream,
    describe: (e) => ` ${e.type} ${e.orderId}`,
    pollIntervalMs,
    longPollMs,
    batchWaitMs,
    stream,
    onStreamed: () => {
      applyDue();
      changed();
    },
    logLine,
    batchLimit,
    restore: (state) => replaceOrders(orders, state),
  });

  let running: { stop: AbortController; loops: Promise<unknown> } | undefined;
  // A sleep of the apply loop that a change of lag cuts short, so the new lag takes effect at once.
  let applySleep = new AbortController();

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
    changed();
    return waitMs;
  }

  /** Applies every received event whose lag has elapsed by now (all of them with `now` at infinity). */
  function applyDue(now = clock.now()) {
    const applied = replica.applyDue(now);
    receiver.freshness.noteApplied(replica.appliedNext);
    if (applied > 0) receiver.reportProgress(); // first: a write may wait for it; the log lines can wait
    logApplied();
    if (applied > 0) {
      checkpointer?.maybeSave();
      changed();
    }
    return applied;
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
      followerId: id,
      role: "follower",
      epoch: latestEpoch(log.epochs),
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
      truncations: receiver.truncations,
      fetches: receiver.fetches,
      acks: receiver.acks,
      lag: { events: behind, ms: behind === 0 ? 0 : oldest ? Math.max(0, clock.now() - oldest.at) : null },
      stalenessMs: receiver.freshness.appliedStalenessMs(clock.now()),
      applyLagMs: replica.applyLagMs,
      pollIntervalMs,
      longPollMs,
      batchWaitMs,
      ...(stream ? { stream: true } : {}),
      link: link.state,
      ...(replica.failure ? { error: replica.failure.message } : {}),
    };
  };

  return {
    kind: "follower" as const,
    replica,
    receiver,
    link,
    client,
    position,
    status,
    pollOnce,
    applyDue,
    setApplyLagMs(ms: number) {
      replica.setApplyLagMs(ms);
      applySleep.abort();
    },
    /** Starts fetching and applying in the background. */
    start() {
      if (running) return;
      const stop = new AbortController();
      running = { stop, loops: Promise.all([receiveLoop(stop.signal), applyLoop(stop.signal)]) };
    },
    /** Stops both loops and resolves once they have ended; in-flight fetches are aborted. */
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

export type FollowerRole = ReturnType<typeof createFollowerRole>;
