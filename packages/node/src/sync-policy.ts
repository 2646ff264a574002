import type { Acknowledgements, AckKind, Downstream } from "@lab/replication";
import { httpError, type Clock, type LogLine } from "@lab/service";

/** The leader's replication settings (see config.ts): asynchronous unless `replicas` > 0. */
export interface SyncSettings {
  /** SYNC_REPLICAS: a write is acknowledged once this many followers have it; 0: asynchronous. */
  replicas: number;
  /** SYNC_ACK: what "have it" means (received, or applied). */
  ack: AckKind;
  /** SYNC_TIMEOUT_MS: how long a write waits for them. */
  timeoutMs: number;
  /** SYNC_ON_TIMEOUT: `error`, answer 504; `async`, acknowledge it anyway and go asynchronous until they catch up. */
  onTimeout: "error" | "async";
  /** MIN_REPLICAS_TO_WRITE: refuse writes while fewer followers than this were heard from within `maxLagMs`; 0: never. */
  minReplicas: number;
  /** MIN_REPLICAS_MAX_LAG_MS. */
  maxLagMs: number;
}

export const ASYNC: SyncSettings = { replicas: 0, ack: "received", timeoutMs: 10_000, onTimeout: "error", minReplicas: 0, maxLagMs: 10_000 };

/** How a write was replicated, as its reply says. */
export interface Replication {
  mode: "sync" | "async";
  required: number;
  ack: AckKind;
  /** The followers that had the event when the write was acknowledged. */
  followers: string[];
  waitedMs: number;
  /** Set while a semi-synchronous leader has fallen back to asynchronous (SYNC_ON_TIMEOUT=async). */
  degraded?: true;
}

/**
 * What a write waits for before the leader acknowledges it, the way the real systems put it:
 * PostgreSQL's synchronous_standby_names and synchronous_commit (a write waits until N standbys
 * have it), MySQL's semi-synchronous replication (wait for one, fall back to asynchronous after
 * a timeout, and come back once a replica has caught up), Redis's min-replicas-to-write (refuse
 * writes while too few replicas are heard from).
 *
 * A timeout is not a rollback: the event is in the leader's log and readable on the leader, and
 * it reaches the followers when they come back.
 */
export function createSyncPolicy({ settings, acknowledgements, downstream, clock, logLine, head }: { settings: SyncSettings; acknowledgements: Acknowledgements; downstream: Pick<Downstream, "positions" | "subscribe">; clock: Clock; logLine: LogLine; head: () => number }) {
  let degraded = false;
  let unsubscribe = () => {};

  if (settings.replicas > 0 && settings.onTimeout === "async") {
    // Back to synchronous once enough followers have everything the leader has.
    unsubscribe = downstream.subscribe(() => {
      if (!degraded) return;
      const top = head() - 1;
      if (top < 0 || acknowledgements.holders(top, settings.ack).length >= settings.replicas) {
        degraded = false;
        logLine(`${settings.replicas} ${settings.replicas === 1 ? "follower has" : "followers have"} caught up (${settings.ack} offset ${top}): writes are synchronous again`);
      }
    });
  }

  return {
    /** Stops watching the followers (a leader stepping down). */
    close: () => unsubscribe(),
    /** Whether replies should say how each write was replicated: only once replication is configured (the chapter's replies stay as they are). */
    reports: settings.replicas > 0 || settings.minReplicas > 0,
    /** The mode now, for the dashboard and /health. */
    describe: () => ({ mode: settings.replicas > 0 && !degraded ? "sync" : "async", required: settings.replicas, ack: settings.ack, degraded }),

    /** Refuses a write before it is decided (nothing appended) when too few followers are heard from. */
    admit() {
      if (settings.minReplicas === 0) return;
      const now = clock.now();
      const heard = downstream.positions().filter((p) => p.waiting || now - p.lastHeardAt <= settings.maxLagMs);
      if (heard.length < settings.minReplicas) {
        throw httpError(
          503,
          "NOT_ENOUGH_REPLICAS",
          `only ${heard.length} of the ${settings.minReplicas} followers MIN_REPLICAS_TO_WRITE asks for were heard from within ${settings.maxLagMs} ms: the write was refused and nothing was appended`,
          { heard: heard.map((p) => p.id).sort(), required: settings.minReplicas, maxLagMs: settings.maxLagMs },
        );
      }
    },

    /**
     * Waits, for a write whose event is at `offset` and durable, until it may be acknowledged.
     * Returns how it was replicated; throws 504 REPLICATION_TIMEOUT (with `details` added) when
     * the followers did not have it in time and SYNC_ON_TIMEOUT=error.
     */
    async acknowledge(offset: number, details: () => Record<string, unknown>): Promise<Replication> {
      const { replicas, ack, timeoutMs } = settings;
      if (replicas === 0 || degraded) {
        return { mode: "async", required: replicas, ack, followers: acknowledgements.holders(offset, ack), waitedMs: 0, ...(degraded ? { degraded: true as const } : {}) };
      }
      const started = clock.now();
      const result = await acknowledgements.wait(offset, { replicas, kind: ack, timeoutMs });
      const waitedMs = clock.now() - started;
      if (result.reached) return { mode: "sync", required: replicas, ack, followers: result.followers, waitedMs };
      if (settings.onTimeout === "async") {
        if (!degraded) logLine(`only ${result.followers.length} of ${replicas} followers ${ack} offset ${offset} within ${timeoutMs} ms: acknowledging writes asynchronously until they catch up`);
        degraded = true;
        return { mode: "async", required: replicas, ack, followers: result.followers, waitedMs, degraded: true };
      }
      throw httpError(
        504,
        "REPLICATION_TIMEOUT",
        `only ${result.followers.length} of ${replicas} followers had ${ack} offset ${offset} after ${timeoutMs} ms. The write is NOT rolled back: it is in the leader's log at offset ${offset}, readable on the leader now, and will reach the followers when they come back`,
        { ...details(), replication: { mode: "sync", required: replicas, ack, followers: result.followers, waitedMs } },
      );
    },
  };
}

export type SyncPolicy = ReturnType<typeof createSyncPolicy>;
