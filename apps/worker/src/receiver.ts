import { DEFAULT_EVENTS_LIMIT, LeaderReplyError, LeaderUnreachableError, RESYNC_CODES, type LogClient } from "@lab/replication";
import type { Clock, LogLine } from "@lab/service";
import type { Replica } from "./replica.ts";

/** The longest pause between two attempts while the leader is down. */
export const MAX_BACKOFF_MS = 5000;

export interface ReceiverOptions<E, S> {
  client: LogClient<E, S>;
  replica: Replica<E>;
  clock: Clock;
  pollIntervalMs: number;
  logLine: LogLine;
  /** How many events one fetch asks for. */
  batchLimit?: number;
  /** Stop fetching while this many events wait to be applied (backpressure on a slow follower). */
  maxPending?: number;
  /** Replaces the follower's state with a snapshot's; returns a few words for the log ("12 orders"). */
  restore(state: S): string;
  /**
   * Long-polling: when caught up, ask the leader to hold each fetch up to this long until a new
   * event exists (`waitMs`), and fetch again at once. 0: the chapter's plain polling, a fetch
   * every `pollIntervalMs`.
   */
  longPollMs?: number;
  /**
   * With long-polling: after a fetch that brought more than one new event (writes are arriving
   * faster than fetches go round), wait this long before the next fetch, so that it brings the
   * writes of that time in one batch. A write that finds the follower waiting on the leader is
   * not delayed. 0: fetch again at once.
   */
  batchWaitMs?: number;
}

/**
 * The follower's receiving side: fetches the leader's log from `nextFrom` and queues what comes
 * back on the replica. It also remembers what it learned about the leader (its head, whether it
 * answers) for `GET /status`.
 *
 * Every fetch names the log it follows. When the leader cannot continue that log from
 * `nextFrom` (another history: the leader restarted without its log; or an offset retention
 * has discarded), the receiver resyncs in the same poll: it loads the leader's snapshot,
 * replaces the state with it, and follows the log from the snapshot's offset. Like a Valkey
 * replica falling back from a partial to a full sync, it never guesses and never keeps state
 * the leader no longer has.
 *
 * Under a stream of writes it fetches in batches, like TCP's Nagle algorithm or PostgreSQL's
 * commit_delay with commit_siblings: a round trip costs the leader more CPU than a write does
 * (and the follower as much again), so a follower that fetched again the moment each reply
 * arrived would take a share of the machine that grows with the write rate. It waits
 * `batchWaitMs` only after a reply that brought more than one event: writes came in faster than
 * a round trip. A write that finds the follower waiting on the leader still reaches it in one
 * round trip (a writer that waits for each write before the next never sees a pause), and while
 * replies keep bringing several events it fetches at most 1000 / batchWaitMs times a second.
 * Writes that come one at a time, each more than a round trip after the last, are still
 * fetched one by one.
 *
 * While the leader is down it backs off (poll interval, doubling, at most MAX_BACKOFF_MS) and
 * logs the outage once when it starts and once when it ends, never on every failed poll; the
 * follower keeps serving what it has applied meanwhile.
 */
export function createReceiver<E, S>({
  client,
  replica,
  clock,
  pollIntervalMs,
  logLine,
  batchLimit = DEFAULT_EVENTS_LIMIT,
  maxPending = 10_000,
  restore,
  longPollMs = 0,
  batchWaitMs = 0,
}: ReceiverOptions<E, S>) {
  let head: number | undefined;
  let reachable: boolean | undefined;
  let lastContactAt: number | undefined;
  let failures = 0;
  let failingSince = 0;
  let lastProblem = "";
  let resyncs = 0;
  let fetches = 0;

  /** Replaces the state with the leader's snapshot and follows the log from its offset. */
  const resync = async (reason: string, signal: AbortSignal | undefined) => {
    const snapshot = await client.fetchSnapshot({ signal });
    const summary = restore(snapshot.state);
    replica.reset({ logId: snapshot.logId, nextOffset: snapshot.offset });
    resyncs++;
    logLine(`resync #${resyncs}: ${reason}; loaded the leader's snapshot of log ${snapshot.logId} at offset ${snapshot.offset} (${summary}), following from there`);
  };

  /**
   * Counts a failed poll and says so once per kind of problem (`kind`), not once per poll: an
   * outage that starts with a reset connection and goes on with refused ones is one outage.
   */
  const noteFailure = (kind: string, problem: string, leaderAnswered: boolean) => {
    if (failures === 0) failingSince = clock.now();
    failures++;
    reachable = leaderAnswered;
    if (kind !== lastProblem) {
      lastProblem = kind;
      logLine(`${problem}; serving what was applied so far, retrying in ${backoffMs()} ms and backing off up to ${MAX_BACKOFF_MS} ms`);
    }
  };

  const noteSuccess = (from: number) => {
    if (failures > 0 && lastContactAt === undefined) {
      logLine(`reached the leader at ${client.leaderUrl}; replicating from offset ${from}`);
    } else if (failures > 0 && reachable === false) {
      const seconds = ((clock.now() - failingSince) / 1000).toFixed(1);
      logLine(`leader answers again after ${seconds} s (${failures} failed ${failures === 1 ? "poll" : "polls"}); resuming from offset ${from}`);
    } else if (failures > 0) {
      logLine(`replicating again from offset ${from} after ${failures} failed ${failures === 1 ? "poll" : "polls"}`);
    }
    failures = 0;
    lastProblem = "";
    reachable = true;
  };

  function backoffMs(): number {
    return Math.min(Math.max(pollIntervalMs, 100) * 2 ** Math.max(0, failures - 1), MAX_BACKOFF_MS);
  }

  return {
    /** The leader's head as last seen, if ever seen. */
    get head() {
      return head;
    },
    /** Whether the last fetch got an answer; undefined before the first fetch. */
    get leaderReachable() {
      return reachable;
    },
    /** When the leader last answered a fetch. */
    get lastContactAt() {
      return lastContactAt;
    },
    /** How many times the follower has replaced its state with a snapshot. */
    get resyncs() {
      return resyncs;
    },

    /** How many fetches the leader has answered with events or with nothing new: events received / fetches is the batch size. */
    get fetches() {
      return fetches;
    },

    /**
     * Fetches once and queues what arrives. Returns how long to wait before the next fetch: 0
     * when the leader has more to send right away (or, long-polling, whenever the leader has
     * done the waiting), `batchWaitMs` after a long poll that brought a batch, the poll
     * interval when caught up, a backoff while failing.
     */
    async pollOnce(signal?: AbortSignal): Promise<number> {
      if (replica.pending >= maxPending) return pollIntervalMs;
      const from = replica.nextFrom;
      const askedAt = clock.now();
      try {
        const reply = await client.fetchEvents(from, { logId: replica.logId, limit: batchLimit, waitMs: longPollMs, signal });
        fetches++;
        head = reply.head;
        if (replica.logId !== undefined && reply.logId !== replica.logId) {
          // A leader that ignored the logId we sent: its offsets are not ours either.
          await resync(`the leader sent log ${reply.logId}, not ${replica.logId}`, signal);
          noteSuccess(replica.nextFrom);
          lastContactAt = clock.now();
          return 0;
        }
        replica.adoptLogId(reply.logId);
        const got = replica.receive(reply.events, clock.now());
        if (got.gap) {
          noteFailure("gap", `leader's reply skipped from offset ${got.gap.want} to ${got.gap.got}; nothing after the gap is applied`, true);
          lastContactAt = clock.now();
          return backoffMs();
        }
        noteSuccess(from);
        lastContactAt = clock.now();
        if (got.accepted > 0) {
          if (replica.nextFrom < reply.head) return 0; // more is ready now: catch up at full speed
          if (longPollMs === 0) return pollIntervalMs;
          return got.accepted > 1 ? batchWaitMs : 0;
        }
        // Nothing new. A long poll the leader held to the end can be renewed at once; an empty
        // answer that came early (a leader that does not long-poll) must not turn into a busy loop.
        return longPollMs > 0 && clock.now() - askedAt >= longPollMs ? 0 : pollIntervalMs;
      } catch (err) {
        if (signal?.aborted) return 0;
        if (err instanceof LeaderReplyError && RESYNC_CODES.has(err.code)) {
          try {
            await resync(`${err.code}: ${err.message}`, signal);
            noteSuccess(replica.nextFrom);
            lastContactAt = clock.now();
            return 0; // continue from the snapshot's offset at once
          } catch (snapshotErr) {
            if (signal?.aborted) return 0;
            err = snapshotErr;
          }
        }
        if (err instanceof LeaderUnreachableError) {
          const problem = lastContactAt === undefined ? "cannot reach the leader yet" : "leader is unreachable";
          noteFailure("unreachable", `${problem} at ${client.leaderUrl} (${err.reason})`, false);
        } else if (err instanceof LeaderReplyError) {
          noteFailure(`refused ${err.code}`, `leader refused to send events (${err.status} ${err.code}: ${err.message})`, true);
        } else {
          noteFailure("other", `fetching events failed: ${(err as Error)?.message ?? err}`, true);
        }
        return backoffMs();
      }
    },
  };
}

export type Receiver<E, S = unknown> = ReturnType<typeof createReceiver<E, S>>;
