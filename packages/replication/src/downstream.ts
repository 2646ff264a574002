import type { WaitClock } from "./tail-waiters.ts";
import { createHeadListeners, type ReplicationLog } from "./log.ts";

/**
 * How a node sees one of its followers, as PostgreSQL's `pg_stat_replication` shows a standby:
 * - `streaming`: it has been caught up (had everything this node had) within the timeout;
 * - `catching up`: it is fetching, but has not had everything within the timeout;
 * - `resyncing`: it fetched the snapshot and has not fetched events since;
 * - `disconnected`: no fetch of its is held here and it has not been heard from within the timeout.
 */
export type FollowerState = "streaming" | "catching up" | "resyncing" | "disconnected";

/** One row of `GET /replication`. */
export interface FollowerView {
  id: string;
  /**
   * null for a follower that reads this node's log itself; for one further down a chain
   * (cascading), the follower it reads from. Those rows are as that follower last reported them.
   */
  via: string | null;
  state: FollowerState;
  /** The last offset it has received (on disk, if it keeps its log there); null if none or not known. */
  receivedOffset: number | null;
  /** The last offset it has applied; null if none or not known. */
  appliedOffset: number | null;
  /**
   * How far its applied state is behind this node: in events (head - 1 - appliedOffset), and in
   * ms, how long ago the first event it has not applied became readable here (0 when it has
   * applied everything). null when its position is not known.
   */
  lag: { events: number | null; ms: number | null };
  /** When its last request (a fetch, an ack, a snapshot) arrived, by this node's clock. */
  lastHeardAt: number;
  lastHeardMsAgo: number;
  /** A fetch of its is held here right now: it has everything and waits for the next event. */
  waiting: boolean;
  /** Fetches it has made. */
  fetches: number;
}

/**
 * A follower's report of the followers below it, one row each: `[id, via, state, received,
 * applied]` (positions as on the wire: every offset below them). A node passes up its own
 * followers and what they reported of theirs, so the leader sees the whole tree.
 */
export type CascadedRow = [id: string, via: string, state: FollowerState, received: number | null, applied: number | null];

/** The most rows a report may carry (it travels in a query string). */
export const MAX_CASCADED_ROWS = 50;

const STATES: ReadonlySet<string> = new Set<FollowerState>(["streaming", "catching up", "resyncing", "disconnected"]);

/** Checks a report of cascaded followers (parsed JSON) and returns it, or a sentence saying what is wrong. */
export function checkCascadedRows(value: unknown, checkId: (id: unknown) => boolean): { ok: true; rows: CascadedRow[] } | { ok: false; message: string } {
  if (!Array.isArray(value)) return { ok: false, message: "must be a JSON array of [id, via, state, received, applied] rows" };
  if (value.length > MAX_CASCADED_ROWS) return { ok: false, message: `must have at most ${MAX_CASCADED_ROWS} rows, got ${value.length}` };
  const position = (p: unknown) => p === null || (typeof p === "number" && Number.isSafeInteger(p) && p >= 0);
  for (const row of value) {
    if (!Array.isArray(row) || row.length !== 5 || !checkId(row[0]) || !checkId(row[1]) || !STATES.has(row[2]) || !position(row[3]) || !position(row[4])) {
      return { ok: false, message: `has a row that is not [id, via, state, received, applied]: ${JSON.stringify(row)?.slice(0, 120)}` };
    }
  }
  return { ok: true, rows: value as CascadedRow[] };
}

interface Tracked {
  id: string;
  /** The followers below it, as it last reported them. */
  cascaded: CascadedRow[];
  /** The log its positions belong to; positions of another log mean nothing here. */
  logId: string | undefined;
  received: number | undefined;
  applied: number | undefined;
  lastHeardAt: number;
  caughtUpAt: number | undefined;
  inFlight: number;
  waiting: number;
  resyncing: boolean;
  fetches: number;
}

/** A progress report: every offset below `received` is received, every one below `applied` applied. */
export interface Progress {
  logId: string;
  received: number;
  applied: number;
}

/** Samples kept of when the head moved, to tell how long ago an offset became readable. */
const MAX_SAMPLES = 50_000;

/**
 * What a node knows of the followers that read its log: where each one is (received and
 * applied), when it was last heard from, and whether it is streaming, catching up, resyncing or
 * gone. Followers report on every fetch and in acks; nothing here sends a request or runs a
 * timer: states are worked out from those reports when someone asks.
 *
 * Lag in ms is measured on this node's clock only, as PostgreSQL's lag tracker does: the node
 * notes when its head moved, so it can tell how long ago the first offset a follower has not
 * applied became readable here.
 */
export function createDownstream({ log, clock, timeoutMs, maxFollowers = 100 }: { log: Pick<ReplicationLog<unknown>, "logId" | "head" | "subscribe">; clock: Pick<WaitClock, "now">; timeoutMs: number; maxFollowers?: number }) {
  const followers = new Map<string, Tracked>();
  const changed = createHeadListeners();
  // What the log held already (read back from disk) counts as readable since now: a lower bound.
  let samples: { head: number; at: number }[] = [{ head: log.head, at: clock.now() }];
  let samplesOf = log.logId;

  log.subscribe((head) => {
    if (samplesOf !== log.logId) {
      samples = [];
      samplesOf = log.logId;
    }
    const at = clock.now();
    const last = samples.at(-1);
    if (last && last.at === at) last.head = head; // several appends in one millisecond: one sample
    else samples.push({ head, at });
    if (samples.length > MAX_SAMPLES) samples = samples.slice(samples.length - MAX_SAMPLES / 2);
  });

  /** When `offset` became readable here; the oldest sample's time if it is older than every sample. */
  const readableSince = (offset: number): number | undefined => {
    let lo = 0;
    let hi = samples.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (samples[mid]!.head > offset) hi = mid;
      else lo = mid + 1;
    }
    return (samples[lo] ?? samples[0])?.at;
  };

  /** Forgets samples no follower needs any more: every follower has applied what they cover. */
  const trimSamples = () => {
    let lowest = Number.POSITIVE_INFINITY;
    for (const f of followers.values()) {
      if (f.logId !== log.logId || f.applied === undefined) return;
      lowest = Math.min(lowest, f.applied);
    }
    let drop = 0;
    while (drop < samples.length - 1 && samples[drop]!.head <= lowest) drop++;
    if (drop > 1024 && drop * 2 > samples.length) samples = samples.slice(drop);
  };

  const track = (id: string): Tracked => {
    let f = followers.get(id);
    if (!f) {
      if (followers.size >= maxFollowers) forgetOldest();
      f = { id, cascaded: [], logId: undefined, received: undefined, applied: undefined, lastHeardAt: clock.now(), caughtUpAt: undefined, inFlight: 0, waiting: 0, resyncing: false, fetches: 0 };
      followers.set(id, f);
    }
    f.lastHeardAt = clock.now();
    return f;
  };

  /** Makes room by forgetting the follower heard from longest ago with nothing in flight. */
  const forgetOldest = () => {
    let oldest: Tracked | undefined;
    for (const f of followers.values()) if (f.inFlight === 0 && (!oldest || f.lastHeardAt < oldest.lastHeardAt)) oldest = f;
    if (oldest) followers.delete(oldest.id);
  };

  const record = (f: Tracked, { logId, received, applied }: Progress) => {
    // Reports can cross on the wire (an ack and a fetch): positions only move forward.
    const sameLog = f.logId === logId;
    f.logId = logId;
    f.received = sameLog && f.received !== undefined ? Math.max(f.received, received) : received;
    f.applied = sameLog && f.applied !== undefined ? Math.max(f.applied, applied) : applied;
    if (f.received >= log.head) f.caughtUpAt = clock.now();
    trimSamples();
  };

  const stateOf = (f: Tracked, now: number): FollowerState => {
    if (f.resyncing) return "resyncing";
    if (f.inFlight === 0 && now - f.lastHeardAt > timeoutMs) return "disconnected";
    if (f.waiting > 0 || (f.caughtUpAt !== undefined && now - f.caughtUpAt <= timeoutMs)) return "streaming";
    return "catching up";
  };

  return {
    /**
     * A fetch from follower `id` has arrived with its progress (null: it does not follow this
     * log yet, or follows another). Returns what to call when the fetch is held (long-polling),
     * and when it ends: answered (with whether the reply brought it everything), or abandoned.
     * Its connection was open all the while a fetch was held, so answering one counts as hearing
     * from it.
     */
    fetchArrived(id: string, progress: Progress | null, cascaded?: CascadedRow[]): { holding(held?: boolean): void; done(caughtUp: boolean, answered?: boolean): void } {
      const f = track(id);
      f.fetches++;
      if (cascaded) f.cascaded = cascaded;
      f.inFlight++;
      f.resyncing = false;
      if (progress) record(f, progress);
      changed.notify(0);
      let held = false;
      return {
        /** The fetch waits at the head (or, on a stream, stops waiting there: `holding(false)`). */
        holding(on = true) {
          if (on === held) return;
          held = on;
          f.waiting += on ? 1 : -1;
        },
        done(caughtUp, answered = true) {
          f.inFlight--;
          if (held) f.waiting--;
          if (answered) f.lastHeardAt = clock.now();
          if (caughtUp) f.caughtUpAt = clock.now();
        },
      };
    },
    /** An ack from follower `id`: progress made (or reported from below it) while its fetch is held. */
    ackArrived(id: string, progress: Progress, cascaded?: CascadedRow[]) {
      const f = track(id);
      if (cascaded) f.cascaded = cascaded;
      record(f, progress);
      changed.notify(0);
    },
    /** Follower `id` fetched the snapshot: it is replacing its state, and its positions are about to change. */
    snapshotFetched(id: string) {
      const f = track(id);
      f.resyncing = true;
      f.logId = undefined;
      f.received = f.applied = undefined;
      changed.notify(0);
    },
    /**
     * Where each follower reading this node's log directly stands now (not those further down a
     * chain): what it has received and applied (every offset below), when it was last heard from,
     * and whether a fetch of its is held here. Positions of another log count as nothing.
     */
    positions(): { id: string; received: number; applied: number; lastHeardAt: number; waiting: boolean }[] {
      return [...followers.values()].map((f) => {
        const known = f.logId === log.logId;
        return { id: f.id, received: known ? (f.received ?? 0) : 0, applied: known ? (f.applied ?? 0) : 0, lastHeardAt: f.lastHeardAt, waiting: f.waiting > 0 };
      });
    },
    /** Calls `listener` whenever a follower reports progress (or starts a resync); returns a function that unsubscribes. */
    subscribe(listener: () => void): () => void {
      return changed.subscribe(listener);
    },
    /**
     * Every follower heard from, by id, each followed by the followers below it (as it last
     * reported them). Lag is worked out here, against this node's head and clock, for every row:
     * the offsets are the same all down the chain.
     */
    list(): FollowerView[] {
      const now = clock.now();
      const head = log.head;
      const lagOf = (applied: number | undefined) => {
        if (applied === undefined) return { events: null, ms: null };
        const since = applied >= head ? undefined : readableSince(applied);
        return { events: Math.max(0, head - applied), ms: applied >= head ? 0 : since === undefined ? null : Math.max(0, now - since) };
      };
      const offset = (position: number | undefined | null) => (position === undefined || position === null || position === 0 ? null : position - 1);
      const rows: FollowerView[] = [];
      for (const f of [...followers.values()].sort((a, b) => a.id.localeCompare(b.id))) {
        const known = f.logId === log.logId;
        const applied = known ? f.applied : undefined;
        const received = known ? f.received : undefined;
        rows.push({
          id: f.id,
          via: null,
          state: stateOf(f, now),
          receivedOffset: offset(received),
          appliedOffset: offset(applied),
          lag: lagOf(applied),
          lastHeardAt: f.lastHeardAt,
          lastHeardMsAgo: now - f.lastHeardAt,
          waiting: f.waiting > 0,
          fetches: f.fetches,
        });
        for (const [id, via, state, cascadedReceived, cascadedApplied] of known ? f.cascaded : []) {
          rows.push({
            id,
            via,
            state,
            receivedOffset: offset(cascadedReceived),
            appliedOffset: offset(cascadedApplied),
            lag: lagOf(cascadedApplied ?? undefined),
            lastHeardAt: f.lastHeardAt,
            lastHeardMsAgo: now - f.lastHeardAt,
            waiting: false,
            fetches: 0,
          });
        }
      }
      return rows;
    },
    /** This node's followers and theirs, as rows for this node (`self`) to report to its own upstream. */
    report(self: string): CascadedRow[] {
      const now = clock.now();
      const rows: CascadedRow[] = [];
      for (const f of followers.values()) {
        const known = f.logId === log.logId;
        rows.push([f.id, self, stateOf(f, now), known ? (f.received ?? null) : null, known ? (f.applied ?? null) : null]);
        if (known) rows.push(...f.cascaded);
      }
      return rows.slice(0, MAX_CASCADED_ROWS);
    },
  };
}

export type Downstream = ReturnType<typeof createDownstream>;
