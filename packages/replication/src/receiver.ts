import type { CascadedRow } from "./downstream.ts";
import { latestEpoch } from "./epochs.ts";
import { createFreshness } from "./freshness.ts";
import { LeaderReplyError, LeaderUnreachableError, type EventStream, type FetchOptions, type LogClient } from "./log-client.ts";
import { DEFAULT_EVENTS_LIMIT, REFUSAL_CODES, RESYNC_CODES, type EventsReply } from "./protocol.ts";
import type { LogEntry } from "./log.ts";
import type { Replica } from "./replica.ts";
import type { WaitClock } from "./tail-waiters.ts";

/** The longest pause between two attempts while the upstream is down. */
export const MAX_BACKOFF_MS = 5000;

export interface ReceiverOptions<E, S> {
  client: LogClient<E, S>;
  replica: Replica<E>;
  clock: Pick<WaitClock, "now">;
  /** This follower's name: sent with every fetch, and how a replication loop is recognised. */
  followerId: string;
  /** The followers below this one, reported up with every fetch so the leader sees the whole tree. */
  downstream?: () => CascadedRow[];
  /** A few words naming an entry in log lines (" OrderCreated o-1"); nothing by default. */
  describe?: (entry: LogEntry<E>) => string;
  pollIntervalMs: number;
  logLine: (line: string) => void;
  /** How many events one fetch asks for. */
  batchLimit?: number;
  /** Stop fetching while this many events wait to be applied (backpressure on a slow follower). */
  maxPending?: number;
  /**
   * Checks a snapshot's state and returns what replaces the follower's state with it (and says
   * in a few words what it loaded, "12 orders"). It must throw if the state is not valid, so that
   * a bad snapshot changes nothing; the replacing is done in the same step that moves the follower
   * to the snapshot's offset, so nobody ever sees the new state at the old position.
   */
  restore(state: S): () => string;
  /**
   * Long-polling: when caught up, ask the upstream to hold each fetch up to this long until a new
   * event exists (`waitMs`), and fetch again at once. It is also the follower's heartbeat: a
   * caught-up follower hears from its upstream at least this often. 0: the chapter's plain
   * polling, a fetch every `pollIntervalMs`.
   */
  longPollMs?: number;
  /**
   * With long-polling: after a fetch that brought more than one new event (writes are arriving
   * faster than fetches go round), the next fetch asks the upstream to hold it this long, so that
   * it brings the writes of that time in one batch. A write after a quiet spell is not delayed.
   * 0: no batching.
   */
  batchWaitMs?: number;
  /**
   * STREAM=1: instead of a fetch per batch, keep one stream open to the upstream (see
   * protocol.ts), which sends each batch as it has it, paced by `batchWaitMs`, and a heartbeat
   * every `longPollMs`; progress goes up the same stream. Needs long-polling (`longPollMs` > 0).
   */
  stream?: boolean;
  /** Called after each reply a stream brings has been received, so the follower applies what is due. */
  onStreamed?: () => void;
}

/**
 * The follower's receiving side: fetches its upstream's log from `nextFrom` and appends what
 * comes back to the follower's own log. It also remembers what it learned about the upstream
 * (its head, whether it answers, the chain of nodes above it) for `GET /status`, and what that
 * proves about how fresh the follower is (see freshness.ts).
 *
 * Every fetch names the log it follows and carries the follower's progress (what it has
 * received and applied), so the upstream always knows where it is. When the follower applies
 * events while its fetch is held by a long poll, `reportProgress` sends the new position at once
 * (`POST /replication/ack`), rather than leaving the upstream to learn it when the poll ends.
 *
 * When the upstream cannot continue the follower's log from `nextFrom` (another history: the
 * leader restarted without its log; or an offset retention has discarded), the receiver resyncs
 * in the same poll: it loads the upstream's snapshot, replaces the state with it, and follows
 * the log from the snapshot's offset. Like a Valkey replica falling back from a partial to a
 * full sync, it never guesses and never keeps state its upstream no longer has.
 *
 * Under a stream of writes it fetches in batches, like TCP's Nagle algorithm or PostgreSQL's
 * commit_delay with commit_siblings: a round trip costs both ends more CPU than a write does,
 * so a follower that fetched again the moment each reply arrived would take a share of the
 * machine that grows with the write rate. Only after a reply that brought more than one event,
 * its next fetch asks the upstream to hold it `batchWaitMs` before answering (as a Kafka
 * follower's fetch is held for fetch.min.bytes): the follower sends it at once and wakes once,
 * when the batch comes, instead of once to sleep and once to fetch. A write after a quiet spell
 * still reaches it in one round trip.
 *
 * While the upstream is down (or refuses) it backs off (poll interval, doubling, at most
 * MAX_BACKOFF_MS) and logs the outage once when it starts and once when it ends, never on every
 * failed poll; the follower keeps serving what it has applied meanwhile.
 */
export function createReceiver<E, S>({
  client,
  replica,
  clock,
  followerId,
  downstream = () => [],
  describe = () => "",
  pollIntervalMs,
  logLine,
  batchLimit = DEFAULT_EVENTS_LIMIT,
  maxPending = 10_000,
  restore,
  longPollMs = 0,
  batchWaitMs = 0,
  stream = false,
  onStreamed = () => {},
}: ReceiverOptions<E, S>) {
  let head: number | undefined;
  let reachable: boolean | undefined;
  let lastContactAt: number | undefined;
  let failures = 0;
  let failingSince = 0;
  let lastProblem = "";
  let problem: string | undefined;
  let resyncs = 0;
  let truncations = 0;
  let fetches = 0;
  let acks = 0;
  let upstreamChain: string[] = [];
  let upstreamIsLeader = true;
  let leaderUrlFromUpstream: string | undefined;
  /** A fetch is in flight; `reported` is the highest applied position, and `reportedBelow` the followers below, the upstream has been told. */
  let inFlight = false;
  let reported = -1;
  let reportedReceived = -1;
  let reportedBelow = "[]";
  let acking = false;
  /** The last reply brought a batch (more than one new event): the next fetch asks the upstream to hold it `batchWaitMs`. */
  let batchNext = false;
  /** The stream open now (STREAM=1), which progress reports go up. */
  let open: EventStream<E> | undefined;
  const freshness = createFreshness();

  /** "leader" or "upstream", for log lines: a cascaded follower's upstream is another follower. */
  const upstream = () => (upstreamIsLeader ? "leader" : "upstream");

  /** Replaces the state with the upstream's snapshot and follows the log from its offset. */
  const resync = async (reason: string, signal: AbortSignal | undefined, onLoaded = () => {}) => {
    const snapshot = await client.fetchSnapshot({ follower: followerId, signal });
    const replaceState = restore(snapshot.state);
    onLoaded();
    let summary = "";
    await replica.reset({ logId: snapshot.logId, nextOffset: snapshot.offset, epochs: snapshot.epochs ?? [] }, () => (summary = replaceState()));
    freshness.reset();
    resyncs++;
    logLine(`resync #${resyncs}: ${reason}; loaded the ${upstream()}'s snapshot of log ${snapshot.logId} at offset ${snapshot.offset} (${summary}), following from there`);
  };

  /**
   * The upstream's history left this follower's at some offset (it followed a leader that was
   * replaced): drops what it received from there on, saying exactly which events, and carries on
   * from there. If it had applied some of them, its state holds writes that exist nowhere else
   * now: it loads the upstream's snapshot first, and then drops them and replaces its state in
   * one step (a full resync), so that it never serves the old history's state as the new one's.
   */
  const cutDivergedSuffix = async (body: { truncateTo?: unknown }, signal: AbortSignal | undefined): Promise<number> => {
    const to = body?.truncateTo;
    if (typeof to !== "number" || !Number.isSafeInteger(to) || to < 0) throw new LeaderReplyError(409, "BAD_REPLY", "a DIVERGED reply without truncateTo", body);
    const sayDropped = (dropped: readonly LogEntry<E>[]) => {
      const what = dropped.map((e) => `${e.offset}${describe(e)}`).join(", ");
      const offsets = dropped.length === 1 ? `offset ${to}` : `offsets ${to} to ${to + dropped.length - 1}`;
      logLine(`the ${upstream()}'s history never had ${offsets}: dropped ${dropped.length} ${dropped.length === 1 ? "event" : "events"} this follower had received (${what})`);
      truncations++;
      freshness.reset(); // what the old upstream's replies proved was about a history that is gone
    };
    if (replica.appliedNext > to) {
      const dropped = replica.receivedFrom(to);
      await resync(`some of them were applied already`, signal, () => sayDropped(dropped));
    } else sayDropped((await replica.truncate(to)).dropped);
    noteSuccess(replica.nextFrom);
    return 0;
  };

  /**
   * Counts a failed poll and says so once per kind of problem (`kind`), not once per poll: an
   * outage that starts with a reset connection and goes on with refused ones is one outage.
   */
  const noteFailure = (kind: string, description: string, upstreamAnswered: boolean) => {
    if (failures === 0) failingSince = clock.now();
    failures++;
    reachable = upstreamAnswered;
    problem = description;
    if (kind !== lastProblem) {
      lastProblem = kind;
      logLine(`${description}; serving what was applied so far, retrying in ${backoffMs()} ms and backing off up to ${MAX_BACKOFF_MS} ms`);
    }
  };

  let contactWaiters: (() => void)[] = [];
  const noteSuccess = (from: number) => {
    if (failures > 0 && lastContactAt === undefined) {
      logLine(`reached the ${upstream()} at ${client.leaderUrl}; replicating from offset ${from}`);
    } else if (failures > 0 && reachable === false) {
      const seconds = ((clock.now() - failingSince) / 1000).toFixed(1);
      logLine(`${upstream()} answers again after ${seconds} s (${failures} failed ${failures === 1 ? "poll" : "polls"}); resuming from offset ${from}`);
    } else if (failures > 0) {
      logLine(`replicating again from offset ${from} after ${failures} failed ${failures === 1 ? "poll" : "polls"}`);
    }
    failures = 0;
    lastProblem = "";
    problem = undefined;
    reachable = true;
    lastContactAt = clock.now();
    const woken = contactWaiters;
    contactWaiters = [];
    for (const wake of woken) wake();
  };

  function backoffMs(): number {
    return Math.min(Math.max(pollIntervalMs, 100) * 2 ** Math.max(0, failures - 1), MAX_BACKOFF_MS);
  }

  /** Takes note of the chain of nodes above this follower; says whether following it would be a loop. */
  const learnChain = (chain: unknown): string | undefined => {
    if (!Array.isArray(chain) || !chain.every((id) => typeof id === "string")) return undefined;
    upstreamChain = chain.slice(-32);
    if (!chain.includes(followerId)) return undefined;
    return `replication loop: ${client.leaderUrl} follows this follower (${[...chain, followerId].join(" -> ")}); point LEADER_URL at the leader or at a follower outside the loop`;
  };

  /** Handles a reply that came back with events (or none): appends them and notes what it proves. */
  const accept = async (from: number, sentAt: number, reply: EventsReply<E>, signal: AbortSignal | undefined, streamed = false): Promise<number> => {
    fetches++;
    head = reply.head;
    upstreamIsLeader = reply.follower !== true;
    leaderUrlFromUpstream = typeof reply.leaderUrl === "string" ? reply.leaderUrl : undefined;
    const loop = learnChain(reply.chain);
    if (loop) {
      noteFailure("loop", loop, true);
      return backoffMs();
    }
    const seen = latestEpoch(replica.epochs);
    if (reply.epoch !== undefined && reply.epoch < seen) {
      noteFailure("stale epoch", `${upstream()} at ${client.leaderUrl} is at epoch ${reply.epoch}, but this follower has seen epoch ${seen}: it was replaced; not following it`, true);
      return backoffMs();
    }
    if (replica.logId !== undefined && reply.logId !== replica.logId) {
      // An upstream that ignored the logId we sent: its offsets are not ours either.
      await resync(`the ${upstream()} sent log ${reply.logId}, not ${replica.logId}`, signal);
      noteSuccess(replica.nextFrom);
      return 0;
    }
    if (replica.logId === undefined) await replica.reset({ logId: reply.logId, nextOffset: from });
    const got = replica.receive(reply.events, clock.now());
    if (got.gap) {
      noteFailure("gap", `${upstream()}'s reply skipped from offset ${got.gap.want} to ${got.gap.got}; nothing after the gap is applied`, true);
      lastContactAt = clock.now();
      return backoffMs();
    }
    await replica.whenDurable();
    if (reply.epochs) await replica.mirrorEpochs(reply.epochs);
    noteSuccess(from);
    freshness.noteReply({ sentAt, heldMs: reply.heldMs ?? 0, stalenessMs: reply.stalenessMs === undefined ? 0 : reply.stalenessMs, head: reply.head, complete: replica.received >= reply.head });
    if (streamed) return 0; // the upstream paces a stream
    if (got.accepted > 0) {
      if (replica.nextFrom < reply.head) return 0; // more is ready now: catch up at full speed
      if (longPollMs === 0) return pollIntervalMs;
      // A write that waits for us to say we have it is not batched (the upstream would not hold it anyway).
      batchNext = got.accepted > 1 && !reply.ackWanted;
      return 0;
    }
    // Nothing new. A long poll the upstream held to the end can be renewed at once; an empty
    // answer that came early (an upstream that does not long-poll) must not turn into a busy loop.
    return longPollMs > 0 && clock.now() - sentAt >= longPollMs ? 0 : pollIntervalMs;
  };

  /**
   * Tells the upstream at once that more is applied (or that the followers below this one have
   * moved), if a fetch of ours is held there (a long poll): otherwise the next fetch, about to go,
   * says it. At most one report is in flight; a failed one is not retried (the next fetch carries
   * the same news anyway). On a stream, the report is a line up the stream, and what was received
   * is news as well; `always` sends one even with no news (the answer to a heartbeat).
   */
  function reportProgress(always = false): void {
    const logId = replica.logId;
    if (!inFlight || acking || logId === undefined) return;
    const below = downstream();
    const belowJson = JSON.stringify(below);
    // On a stream, what was received is news too (a synchronous write may wait for it); a fetch says it anyway.
    const moved = replica.appliedNext > reported || belowJson !== reportedBelow || (open !== undefined && replica.received > reportedReceived);
    if (!moved && !(always && open)) return;
    const applied = replica.appliedNext;
    reported = applied;
    reportedReceived = replica.received;
    reportedBelow = belowJson;
    if (open) {
      open.report({ received: replica.received, applied, ...(below.length ? { downstream: below } : {}) });
      acks++;
      return;
    }
    acking = true;
    client
      .sendAck({ follower: followerId, logId, received: replica.received, applied, ...(below.length ? { downstream: below } : {}) })
      .then(
        () => void acks++,
        () => {},
      )
      .finally(() => {
        acking = false;
        reportProgress();
      });
  }

  /**
   * STREAM=1: opens a stream and takes in each reply it brings as a fetch's, until the upstream
   * ends it (open another at once), a reply calls for a pause (a loop, a gap: what `accept` says),
   * or too much waits to be applied (stop reading; the upstream keeps nothing for us).
   */
  async function streamFrom(from: number, sentAt: number, options: FetchOptions, signal: AbortSignal | undefined): Promise<number> {
    const opened = await client.openStream(from, options);
    open = opened;
    try {
      for await (const reply of opened.replies) {
        const wait = await accept(reply.from, sentAt, reply, signal, true);
        if (wait > 0 || replica.nextFrom !== reply.nextFrom) return wait; // a pause, or a resync: the stream's offsets are not ours now
        const reportsBefore = acks;
        onStreamed();
        // A heartbeat is answered, so the upstream knows this follower is there (unless applying just said so).
        reportProgress(reply.events.length === 0 && acks === reportsBefore);
        if (replica.pending >= maxPending) return 0;
      }
      return 0;
    } finally {
      opened.close();
    }
  }

  /** What a failed fetch (or stream) means: cut a diverged suffix, resync, or say so and back off. */
  async function failed(err: unknown, signal: AbortSignal | undefined): Promise<number> {
    if (signal?.aborted) return 0;
    if (err instanceof LeaderReplyError && (err.body as { follower?: unknown } | undefined)?.follower === true) upstreamIsLeader = false;
    if (err instanceof LeaderReplyError && err.code === REFUSAL_CODES.diverged) {
      try {
        return await cutDivergedSuffix(err.body as { truncateTo?: unknown }, signal);
      } catch (cutErr) {
        if (signal?.aborted) return 0;
        err = cutErr;
      }
    }
    if (err instanceof LeaderReplyError && RESYNC_CODES.has(err.code)) {
      try {
        await resync(`${err.code}: ${err.message}`, signal);
        noteSuccess(replica.nextFrom);
        return 0; // continue from the snapshot's offset at once
      } catch (snapshotErr) {
        if (signal?.aborted) return 0;
        err = snapshotErr;
      }
    }
    if (err instanceof LeaderUnreachableError) {
      const what = lastContactAt === undefined ? `cannot reach the ${upstream()} yet` : `${upstream()} is unreachable`;
      noteFailure("unreachable", `${what} at ${client.leaderUrl} (${err.reason})`, false);
    } else if (err instanceof LeaderReplyError) {
      const body = err.body as { chain?: unknown } | undefined;
      // A refusal says where the upstream sits too: in a loop nobody has a log, so this is how one is found.
      const loop = learnChain(body?.chain);
      const refusal = `${upstream()} refused to send events (${err.status} ${err.code}: ${err.message})`;
      if (err.code === REFUSAL_CODES.loop) noteFailure("loop", refusal, true);
      else if (loop) noteFailure("loop", loop, true);
      else noteFailure(`refused ${err.code}`, refusal, true);
    } else {
      noteFailure("other", `fetching events failed: ${(err as Error)?.message ?? err}`, true);
    }
    return backoffMs();
  }

  return {
    /** The upstream's head as last seen, if ever seen. */
    get head() {
      return head;
    },
    /** Whether the last fetch got an answer; undefined before the first fetch. */
    get leaderReachable() {
      return reachable;
    },
    /** When the upstream last answered a fetch. */
    get lastContactAt() {
      return lastContactAt;
    },
    /** Why the last fetch failed, while fetches fail (unreachable, refused, a loop); undefined while they succeed. */
    get problem() {
      return problem;
    },
    /** How many times the follower has replaced its state with a snapshot. */
    get resyncs() {
      return resyncs;
    },
    /** How many times it dropped a suffix its upstream's history never had. */
    get truncations() {
      return truncations;
    },
    /** How many fetches the upstream has answered with events or with nothing new: events received / fetches is the batch size. */
    get fetches() {
      return fetches;
    },
    /** How many progress reports were sent between fetches. */
    get acks() {
      return acks;
    },
    /** The ids of the nodes above this follower, its leader first, as its upstream last said. */
    get upstreamChain(): readonly string[] {
      return upstreamChain;
    },
    /** Whether the upstream is the leader itself (not another follower). */
    get upstreamIsLeader() {
      return upstreamIsLeader;
    },
    /**
     * Where writes go: the upstream's URL when the upstream is the leader (as this follower
     * reaches it); down a chain, the URL the leader gave, passed on by each follower.
     */
    get leaderUrl(): string | undefined {
      return upstreamIsLeader ? client.leaderUrl : leaderUrlFromUpstream;
    },
    /** What the follower can prove about its freshness. */
    freshness,
    /**
     * Resolves true once this receiver has heard from its upstream (at once if it has), false if
     * `timeout` settles first. Until then the follower cannot tell whether its log is still the
     * upstream's history (after a failover it may not be), so it vouches for no offset.
     */
    async whenInContact(timeout: Promise<void>): Promise<boolean> {
      if (lastContactAt !== undefined) return true;
      let wake!: () => void;
      const reached = new Promise<boolean>((resolve) => (wake = () => resolve(true)));
      contactWaiters.push(wake);
      const result = await Promise.race([reached, timeout.then(() => false)]);
      contactWaiters = contactWaiters.filter((w) => w !== wake);
      return result;
    },
    reportProgress,

    /**
     * Fetches once and appends what arrives. Returns how long to wait before the next fetch: 0
     * when the upstream has more to send right away (or, long-polling, whenever the upstream does
     * the waiting: after a batch, the next fetch asks it to hold that one `batchWaitMs`), the poll
     * interval when caught up, a backoff while failing. With `stream`, it opens a stream instead and
     * returns once that stream ends.
     */
    async pollOnce(signal?: AbortSignal): Promise<number> {
      if (replica.pending >= maxPending) return pollIntervalMs;
      const from = replica.nextFrom;
      const sentAt = clock.now();
      const applied = replica.appliedNext;
      const below = downstream();
      inFlight = true;
      // What this fetch (or stream) tells the upstream, exactly: after a resync or a cut these go down, not only up.
      reported = applied;
      reportedReceived = from;
      reportedBelow = JSON.stringify(below);
      const batch = stream || batchNext;
      batchNext = false;
      const options = { logId: replica.logId, limit: batchLimit, waitMs: longPollMs, batchWaitMs: batch ? batchWaitMs : undefined, follower: followerId, applied, downstream: below, epoch: replica.epochs.length ? latestEpoch(replica.epochs) : undefined, epochLeader: replica.epochs.at(-1)?.url, signal };
      try {
        if (stream) return await streamFrom(from, sentAt, options, signal);
        const reply = await client.fetchEvents(from, options);
        inFlight = false;
        return await accept(from, sentAt, reply, signal);
      } catch (err) {
        return await failed(err, signal);
      } finally {
        inFlight = false;
        open = undefined;
      }
    },
  };
}

export type Receiver<E, S = unknown> = ReturnType<typeof createReceiver<E, S>>;
