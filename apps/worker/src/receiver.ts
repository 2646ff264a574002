import { LeaderReplyError, LeaderUnreachableError, type LogClient } from "@lab/replication";
import type { Clock, LogLine } from "@lab/service";
import type { Replica } from "./replica.ts";

/** The longest pause between two attempts while the leader is down. */
export const MAX_BACKOFF_MS = 5000;

export interface ReceiverOptions<E> {
  client: LogClient<E>;
  replica: Replica<E>;
  clock: Clock;
  pollIntervalMs: number;
  logLine: LogLine;
  /** How many events one fetch asks for. */
  batchLimit?: number;
  /** Stop fetching while this many events wait to be applied (backpressure on a slow follower). */
  maxPending?: number;
}

/**
 * The follower's receiving side: fetches the leader's log from `nextFrom` and queues what comes
 * back on the replica. It also remembers what it learned about the leader (its head, whether it
 * answers) for `GET /status`.
 *
 * While the leader is down it backs off (poll interval, doubling, at most MAX_BACKOFF_MS) and
 * logs the outage once when it starts and once when it ends, never on every failed poll; the
 * follower keeps serving what it has applied meanwhile.
 */
export function createReceiver<E>({ client, replica, clock, pollIntervalMs, logLine, batchLimit = 1000, maxPending = 10_000 }: ReceiverOptions<E>) {
  let head: number | undefined;
  let reachable: boolean | undefined;
  let lastContactAt: number | undefined;
  let failures = 0;
  let failingSince = 0;
  let lastProblem = "";

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

    /**
     * Fetches once and queues what arrives. Returns how long to wait before the next fetch: 0
     * when the leader has more to send right away, the poll interval when caught up, a backoff
     * while failing.
     */
    async pollOnce(signal?: AbortSignal): Promise<number> {
      if (replica.pending >= maxPending) return pollIntervalMs;
      const from = replica.nextFrom;
      try {
        const reply = await client.fetchEvents(from, { limit: batchLimit, signal });
        head = reply.head;
        const got = replica.receive(reply.events, clock.now());
        if (got.gap) {
          noteFailure("gap", `leader's reply skipped from offset ${got.gap.want} to ${got.gap.got}; nothing after the gap is applied`, true);
          lastContactAt = clock.now();
          return backoffMs();
        }
        noteSuccess(from);
        lastContactAt = clock.now();
        return got.accepted > 0 && replica.nextFrom < reply.head ? 0 : pollIntervalMs;
      } catch (err) {
        if (signal?.aborted) return 0;
        if (err instanceof LeaderUnreachableError) {
        const problem = lastContactAt === undefined ? "cannot reach the leader yet" : "leader is unreachable";
        noteFailure("unreachable", `${problem} at ${client.leaderUrl} (${err.reason})`, false);
      }
        else if (err instanceof LeaderReplyError) noteFailure(`refused ${err.code}`, `leader refused to send events (${err.status} ${err.code}: ${err.message})`, true);
        else noteFailure("other", `fetching events failed: ${(err as Error)?.message ?? err}`, true);
        return backoffMs();
      }
    },
  };
}

export type Receiver<E> = ReturnType<typeof createReceiver<E>>;
