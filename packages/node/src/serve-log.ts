import {
  checkCascadedRows,
  endOfEpoch,
  latestEpoch,
  lineSplitter,
  createAcknowledgements,
  checkNodeId,
  createDownstream,
  createTailWaiters,
  DEFAULT_EVENTS_LIMIT,
  MAX_EVENTS_LIMIT,
  MAX_EVENTS_WAIT_MS,
  REFUSAL_CODES,
  type CascadedRow,
  type EventsReply,
  type ReplicationLog,
} from "@lab/replication";
import { baseUrl, HttpError, httpError, readJsonObject, readQueryNumber, type Clock } from "@lab/service";
import express, { Router, type Request, type Response } from "express";

const LOG_ID = /^[0-9a-f]{1,64}$/;

/** The longest a `POST /wait` may wait. */
export const MAX_WAIT_MS = 60_000;

/** How long one stream stays open; the follower then opens the next at once (no server's request timeout ever cuts one). */
const MAX_STREAM_MS = 60_000;

/** The longest progress report a stream takes (a line of JSON: positions, and the rows of the followers below). */
const MAX_REPORT_BYTES = 64 * 1024;

/** How long a follower may go unheard (with no fetch held) before the node it reads from calls it disconnected. */
export const DEFAULT_FOLLOWER_TIMEOUT_MS = 3000;

/** What the routes need to know of the node that serves its log. */
export interface ServingNode {
  /** Its name (FOLLOWER_ID for a follower), as followers and `/replication` show it. */
  readonly id: string;
  /** Its role now; replies carry it as a flag, `leader: true` or `follower: true`, as in the chapter. */
  role(): "leader" | "follower";
  /** The ids from the top of the chain down to this node, this node last: `[leader]` on the leader. */
  chain(): string[];
  /** Why it cannot serve its log yet (a follower that has not reached its own upstream), or undefined. */
  notReady(): string | undefined;
  /** How stale its head may be: 0 on the leader; on a follower, how far its received log may trail the leader (null: it cannot tell). */
  stalenessMs(): number | null;
  /** Where writes go, as far as it knows: the leader's URL, so that followers down a chain can say. */
  leaderUrl(): string | undefined;
  /** What `GET /replication` says of the node itself besides its followers (a follower's upstream). */
  describe?(): Record<string, unknown>;
  /** A follower has seen a newer leadership than any in this node's log: this node was replaced (it is fenced). */
  heardOfEpoch?(epoch: number, from: { follower: string | undefined; leaderUrl: string | undefined }): void;
}

export interface ServeLogOptions<S> {
  log: ReplicationLog<unknown>;
  node: ServingNode;
  clock: Clock;
  /** Its state as it stands, and the offset it covers (every event before it, none after), copied in one synchronous step. */
  snapshot(): { offset: number; state: S };
  /** A follower not heard from for this long, with no fetch held, is disconnected (FOLLOWER_TIMEOUT_MS). */
  followerTimeoutMs: number;
}

/**
 * Serves a node's log to the followers that read it: the same routes on the leader and on a
 * follower that others follow (cascading replication), so a follower of a follower cannot tell
 * the difference except by the `follower: true` flag and the chain of ids in each reply.
 *
 * - `GET /events`: the log from an offset, long-polling included; each fetch is also the
 *   follower's progress report.
 * - `GET /snapshot`: the node's state and the offset it covers, for a follower that cannot
 *   continue from the log.
 * - `GET /replication`: the node's view of its followers (see downstream.ts).
 * - `POST /replication/ack`: a follower's progress between fetches.
 * - `POST /wait {offset, replicas, timeoutMs, ack}`: waits until that many followers have the
 *   offset (received, or applied), or the time passes (Redis's WAIT): one write made synchronous
 *   on an asynchronous node.
 *
 * A node refuses to serve a follower that would make a loop (itself, or a node it follows
 * through), with 409 REPLICATION_LOOP, and answers 503 NOT_READY while it has no log to serve.
 */
export function serveLog<S>({ log, node, clock, snapshot, followerTimeoutMs }: ServeLogOptions<S>) {
  const tail = createTailWaiters(log, clock);
  const downstream = createDownstream({ log, clock, timeoutMs: followerTimeoutMs });
  const acknowledgements = createAcknowledgements({ downstream, clock });
  const router = Router();

  /** The fields every reply of these routes carries: who answered, and from where in the chain. */
  const who = () => ({ [node.role()]: true, nodeId: node.id, chain: node.chain(), leaderUrl: node.leaderUrl() });

  /** The follower a request names (`?follower=` or the body's), checked; refuses one that would make a loop. */
  const readFollower = (value: unknown, where: string): string | undefined => {
    if (value === undefined) return undefined;
    const check = checkNodeId(value);
    if (!check.ok) throw httpError(400, "INVALID_PARAMETER", `${where}: ${check.message}`, { parameter: "follower" });
    const id = check.id;
    if (id === node.id) {
      throw httpError(409, REFUSAL_CODES.loop, `${id} cannot follow itself: its LEADER_URL points at its own address, or two nodes share the id ${id}`, who());
    }
    if (node.chain().includes(id)) {
      throw httpError(409, REFUSAL_CODES.loop, `${id} is upstream of ${node.id} (${node.chain().join(" -> ")}): following ${node.id} would make a loop`, who());
    }
    return id;
  };

  const refuseUntilReady = () => {
    const reason = node.notReady();
    if (reason) throw httpError(503, REFUSAL_CODES.notReady, reason, who());
  };

  const logIdMismatch = (logId: string) =>
    httpError(409, "LOG_ID_MISMATCH", `this ${node.role()}'s log is ${log.logId}, not ${logId}: its offsets belong to another history; resync from /snapshot`, {
      ...who(),
      logId: log.logId,
      start: log.start,
      head: log.head,
    });

  /**
   * A follower that has seen leadership `followerEpoch` and asks from `from`. If this node has
   * never seen that epoch, it is an older leader than the one the follower knows: refuse
   * (STALE_EPOCH), do not lead it back into the past. If the follower's log goes past where that
   * epoch ends here, it holds entries this log never had (a replaced leader's unshipped writes):
   * tell it where to cut (DIVERGED), as Kafka's leader answers OffsetsForLeaderEpoch.
   */
  const refuseAcrossEpochs = (from: number, followerEpoch: number, heard: { follower: string | undefined; leaderUrl: string | undefined }) => {
    const mine = latestEpoch(log.epochs);
    if (followerEpoch > mine) {
      node.heardOfEpoch?.(followerEpoch, heard);
      throw httpError(409, "STALE_EPOCH", `this node's latest leadership is epoch ${mine}, but the follower has seen epoch ${followerEpoch}: this node was replaced; follow the newer leader`, {
        ...who(),
        epoch: mine,
      });
    }
    const end = endOfEpoch(log.epochs, followerEpoch, log.head);
    if (from > end) {
      throw httpError(409, "DIVERGED", `epoch ${followerEpoch} ends at offset ${end} in this log, but the follower's log goes on to ${from - 1}: drop offsets ${end} to ${from - 1}, which this log never had`, {
        ...who(),
        logId: log.logId,
        truncateTo: end,
        epoch: mine,
        epochs: log.epochs,
      });
    }
  };

  /**
   * What a fetch asks (the query of `GET /events` and of a stream), checked: a bad parameter is a
   * 400, a loop, a log that is another, or an older leadership are refused as such. The fetch
   * reports where the follower is, if it is somewhere in this log.
   */
  const readFetch = (query: Record<string, unknown>) => {
    const from = readQueryNumber(query, "from", { fallback: 0 });
    const limit = readQueryNumber(query, "limit", { fallback: DEFAULT_EVENTS_LIMIT, min: 1, max: MAX_EVENTS_LIMIT });
    const waitMs = readQueryNumber(query, "waitMs", { fallback: 0, max: MAX_EVENTS_WAIT_MS });
    const batchWaitMs = readQueryNumber(query, "batchWaitMs", { fallback: 0, max: MAX_EVENTS_WAIT_MS });
    const applied = readQueryNumber(query, "applied", { max: from });
    const logId = readLogId(query.logId);
    const follower = readFollower(query.follower, "follower");
    const cascaded = readCascaded(query.downstream);
    refuseUntilReady();
    if (logId !== undefined && logId !== log.logId) throw logIdMismatch(logId);
    // A follower of the lab that sends no epoch has never seen a promotion: its log is all epoch 0.
    // (A person reading the log with curl, naming no follower, is not checked.)
    const followerEpoch = readQueryNumber(query, "epoch") ?? (follower !== undefined && log.epochs.length ? 0 : undefined);
    if (followerEpoch !== undefined) refuseAcrossEpochs(from, followerEpoch, { follower, leaderUrl: readUrl(query.epochLeader, "epochLeader") });
    const inLog = from >= log.start && from <= log.head;
    const progress = inLog && applied !== undefined ? { logId: log.logId, received: from, applied } : null;
    return { from, limit, waitMs, batchWaitMs, logId, follower, cascaded, progress };
  };

  /** Up to `limit` events from `from`, or 409 OFFSET_OUT_OF_RANGE if this log does not hold `from`. */
  const readOrRefuse = (from: number, limit: number) => {
    const read = log.readFrom(from, limit);
    if (read.ok) return read;
    const holds = read.head > read.start ? `offsets ${read.start} to ${read.head - 1}` : `no events (head ${read.head})`;
    const advice = from < read.start ? "; resync from /snapshot" : "";
    throw httpError(409, "OFFSET_OUT_OF_RANGE", `offset ${from} is not in log ${log.logId}, which holds ${holds}${advice}`, {
      ...who(),
      logId: log.logId,
      start: log.start,
      head: log.head,
    });
  };

  /** A fetch's reply: the events read from `from`, and what the follower learns of this node with them. */
  const eventsReply = (from: number, read: { nextFrom: number; entries: unknown[] }, arrivedAt: number): EventsReply<unknown> => ({
    ok: true,
    ...who(),
    logId: log.logId,
    ...(log.epochs.length ? { epoch: latestEpoch(log.epochs), epochs: log.epochs } : {}),
    start: log.start,
    from,
    nextFrom: read.nextFrom,
    head: log.head,
    heldMs: clock.now() - arrivedAt,
    stalenessMs: node.stalenessMs(),
    ...(acknowledgements.wanted ? { ackWanted: acknowledgements.wanted } : {}),
    events: read.entries as EventsReply<unknown>["events"],
  });

  router.get("/events", async (req, res) => {
    const { from, limit, waitMs, batchWaitMs, logId, follower, cascaded, progress } = readFetch(req.query);
    const fetch = follower === undefined ? undefined : downstream.fetchArrived(follower, progress, cascaded);
    let caughtUp = false;
    let answered = false;
    try {
      const arrivedAt = clock.now();
      // The follower's last reply brought a batch: hold this fetch batchWaitMs so that the writes of
      // that time come in one reply (unless a full one is ready, or a write waits for followers).
      const batching = batchWaitMs > 0 && log.head - from < limit;
      if (batching || (from === log.head && waitMs > 0)) {
        const gone = new AbortController();
        const onClose = () => gone.abort(); // the follower hung up, or the server is closing
        res.once("close", onClose);
        fetch?.holding();
        if (batching) await paced(batchWaitMs, gone.signal);
        const left = waitMs - (clock.now() - arrivedAt);
        if (!gone.signal.aborted && from === log.head && left > 0) await tail.wait(from, left, gone.signal);
        res.off("close", onClose);
        if (gone.signal.aborted) return;
        if (logId !== undefined && logId !== log.logId) throw logIdMismatch(logId); // reset while it waited
      }
      const read = readOrRefuse(from, limit);
      caughtUp = read.nextFrom >= log.head;
      res.json(eventsReply(from, read, arrivedAt));
      answered = true;
    } finally {
      fetch?.done(caughtUp, answered);
    }
  });

  /**
   * A follower's stream (STREAM=1; see protocol.ts): checked as a fetch is, then held open,
   * sending each batch past the last one sent, at most one every `batchWaitMs` (not while a write
   * waits for followers), and an empty reply every `waitMs` (a heartbeat, which the follower
   * answers); the follower's progress reports come up the request's body. It ends when this
   * node's log, leadership or role changes (or its log is cut back below what was sent), after
   * MAX_STREAM_MS, at a bad report, or when the follower has said nothing for two heartbeats (a
   * dead peer); the follower opens another, checked again.
   */
  router.post("/replication/stream", async (req, res) => {
    const { from: opened, limit, waitMs, batchWaitMs, follower, cascaded, progress } = readFetch(req.query);
    if (follower === undefined) throw httpError(400, "INVALID_PARAMETER", "follower is required: a stream is a follower's", { parameter: "follower" });
    if (waitMs === 0) throw httpError(400, "INVALID_PARAMETER", "waitMs is required: how often a stream with nothing new sends a heartbeat", { parameter: "waitMs" });
    readOrRefuse(opened, 1);
    const serving = { logId: log.logId, epoch: latestEpoch(log.epochs), role: node.role() };
    let from = opened;
    // Another history, leadership or role, or a log cut back below what was sent (a diverged suffix dropped): the follower must ask again.
    const unchanged = () => log.logId === serving.logId && latestEpoch(log.epochs) === serving.epoch && node.role() === serving.role && node.notReady() === undefined && log.head >= from;
    let reportedAt = clock.now();

    const fetch = downstream.fetchArrived(follower, progress, cascaded);
    const gone = new AbortController();
    res.once("close", () => gone.abort());
    const end = (problem?: { status: number; code: string; error: string }) => {
      if (problem && !res.writableEnded) res.write(`${JSON.stringify({ ok: false, ...problem, ...who() })}\n`);
      if (!res.writableEnded) res.end();
      gone.abort();
    };
    readReports(req, {
      report(line) {
        const received = readPosition(line, "received");
        const applied = readPosition(line, "applied");
        if (applied > received) throw httpError(400, "INVALID_BODY", `applied (${applied}) cannot be past received (${received})`);
        if (!unchanged()) return; // about another history now: the stream is ending
        if (received > log.head) throw httpError(409, "OFFSET_OUT_OF_RANGE", `received ${received} is past this node's head ${log.head}`);
        reportedAt = clock.now();
        downstream.ackArrived(follower, { logId: serving.logId, received, applied }, checkCascaded(line.downstream));
      },
      failed: (err) => end({ status: err.status, code: err.code, error: err.message }),
      ended: () => end(),
    });

    res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
    res.flushHeaders(); // the follower knows at once that the stream is open, not at its first line
    const arrivedAt = clock.now();
    let sentAt = Number.NEGATIVE_INFINITY;
    // A follower answers every heartbeat: one that has said nothing for two of them (and at least
    // followerTimeoutMs) is gone, its host or the network, even if its connection looks open.
    const silenceMs = Math.max(followerTimeoutMs, 2 * waitMs);
    const heard = () => clock.now() - reportedAt <= silenceMs;
    try {
      while (!gone.signal.aborted && unchanged() && heard() && clock.now() - arrivedAt < MAX_STREAM_MS) {
        if (from === log.head) {
          fetch.holding(true);
          await tail.wait(from, waitMs, gone.signal);
          fetch.holding(false);
          if (gone.signal.aborted || !unchanged()) break;
        }
        // As Nagle's algorithm: a write after a quiet spell goes at once; while writes stream in, a line at most every batchWaitMs.
        const since = clock.now() - sentAt;
        if (since < batchWaitMs && from < log.head) await paced(batchWaitMs - since, gone.signal);
        if (gone.signal.aborted || !unchanged()) break;
        const read = log.readFrom(from, limit);
        if (!read.ok) break; // retention went past it while the follower was slow: reopening tells it
        const written = res.write(`${JSON.stringify(eventsReply(from, read, arrivedAt))}\n`);
        from = read.nextFrom;
        if (read.entries.length) sentAt = clock.now(); // a heartbeat is not a batch: the next write after it may go at once
        if (!written && !(await drained(res, silenceMs, gone.signal))) break; // it stopped reading
      }
    } finally {
      fetch.done(from >= log.head, heard());
      if (!heard() || (!gone.signal.aborted && res.writableNeedDrain)) res.destroy(); // a follower that is not there cannot be told
      end();
    }
  });

  /** The pause before the next batch (of a stream, or a fetch held for one), cut short when a write begins waiting for followers. */
  const paced = async (ms: number, signal: AbortSignal) => {
    if (acknowledgements.wanted || signal.aborted) return;
    const cut = new AbortController();
    const onAbort = () => cut.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const unsubscribe = acknowledgements.subscribe(() => {
      if (acknowledgements.wanted) cut.abort();
    });
    await clock.sleep(ms, cut.signal);
    unsubscribe();
    signal.removeEventListener("abort", onAbort);
  };

  router.get("/snapshot", async (req, res) => {
    const follower = readFollower(req.query.follower, "follower");
    refuseUntilReady();
    const { offset, state } = snapshot();
    const epochs = log.epochs.filter((e) => e.start <= offset);
    const body = JSON.stringify({ ok: true, ...who(), logId: log.logId, offset, ...(epochs.length ? { epochs } : {}), state });
    if (follower !== undefined) downstream.snapshotFetched(follower);
    // The state may hold events not yet on disk: a follower must never receive what could be lost.
    if (offset > 0) await log.whenDurable(offset - 1);
    res.type("json").send(body);
  });

  router.get("/replication", (_req, res) => {
    res.json({ ok: true, ...who(), role: node.role(), epoch: latestEpoch(log.epochs), logId: log.logId, start: log.start, head: log.head, ...node.describe?.(), followers: downstream.list() });
  });

  router.post("/replication/ack", express.json({ limit: 1024 }), (req, res) => {
    const body = readJsonObject(req, '{"follower":"follower-3001","logId":"9a41c0de5b7f2e13","received":12,"applied":10}');
    const follower = readFollower(body.follower ?? "", "follower");
    const logId = readLogId(body.logId);
    if (logId === undefined) throw httpError(400, "INVALID_BODY", "logId is required: the log the positions belong to");
    const received = readPosition(body, "received");
    const applied = readPosition(body, "applied");
    if (applied > received) throw httpError(400, "INVALID_BODY", `applied (${applied}) cannot be past received (${received})`);
    refuseUntilReady();
    if (logId !== log.logId) throw logIdMismatch(logId);
    if (received > log.head) {
      throw httpError(409, "OFFSET_OUT_OF_RANGE", `received ${received} is past this node's head ${log.head}`, { ...who(), logId: log.logId, start: log.start, head: log.head });
    }
    downstream.ackArrived(follower!, { logId, received, applied }, checkCascaded(body.downstream));
    res.json({ ok: true, ...who() });
  });

  router.post("/wait", express.json({ limit: 1024 }), async (req, res) => {
    const body = readJsonObject(req, '{"offset":12,"replicas":1,"timeoutMs":1000}');
    const offset = readPosition(body, "offset");
    const replicas = body.replicas;
    if (typeof replicas !== "number" || !Number.isSafeInteger(replicas) || replicas < 1 || replicas > 100) {
      throw httpError(400, "INVALID_BODY", `replicas must be a whole number from 1 to 100, got ${JSON.stringify(replicas)}`);
    }
    const timeoutMs = readPosition(body, "timeoutMs");
    const ack = body.ack ?? "received";
    if (timeoutMs > MAX_WAIT_MS) throw httpError(400, "INVALID_BODY", `timeoutMs must be at most ${MAX_WAIT_MS}, got ${timeoutMs}`);
    if (ack !== "received" && ack !== "applied") throw httpError(400, "INVALID_BODY", `ack must be "received" or "applied", got ${JSON.stringify(ack)}`);
    if (offset >= log.head) throw httpError(400, "INVALID_BODY", `offset ${offset} is not in this node's log yet (its head is ${log.head})`, { head: log.head });
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.once("close", onClose);
    const started = clock.now();
    const result = await acknowledgements.wait(offset, { replicas, kind: ack, timeoutMs, signal: gone.signal });
    res.off("close", onClose);
    if (gone.signal.aborted) return;
    res.json({ ok: true, ...who(), offset, ack, required: replicas, replicas: result.followers.length, followers: result.followers, timedOut: !result.reached, waitedMs: clock.now() - started });
  });

  return {
    router,
    downstream,
    acknowledgements,
    /** How many fetches are held here now (long-polling followers that have everything). */
    get waiting() {
      return tail.waiting;
    },
  };
}

/** A node's base URL in a query (`?epochLeader=`): http(s), at most 200 characters. */
export function readUrl(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  const url = baseUrl(value);
  if (url !== undefined) return url;
  throw httpError(400, "INVALID_PARAMETER", `${name} must be a node's base URL such as http://127.0.0.1:3001, got ${JSON.stringify(value)}`, { parameter: name });
}

function readLogId(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !LOG_ID.test(value)) {
    throw httpError(400, "INVALID_PARAMETER", `logId must be the hex identity of a log, got ${JSON.stringify(value)}`, { parameter: "logId" });
  }
  return value;
}

/** `?downstream=`: the followers below the one fetching, as it reports them (see downstream.ts). */
function readCascaded(value: unknown): CascadedRow[] | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown = null; // not JSON: refused as rows of no shape
  try {
    if (typeof value === "string") parsed = JSON.parse(value);
  } catch {
    // stays null
  }
  return checkCascaded(parsed);
}

/** The `downstream` of a report already parsed (an ack's body, a stream's line), checked as the query's. */
function checkCascaded(value: unknown): CascadedRow[] | undefined {
  if (value === undefined) return undefined;
  const check = checkCascadedRows(value, (id) => checkNodeId(id).ok);
  if (!check.ok) throw httpError(400, "INVALID_PARAMETER", `downstream ${check.message}`, { parameter: "downstream" });
  return check.rows;
}

/**
 * Reads a stream's progress reports, one JSON object a line, as they come up the request's body.
 * A line that is not one, or that `report` refuses, ends the reading with `failed`; the body's
 * end (or its connection's) with `ended`.
 */
function readReports(req: Request, { report, failed, ended }: { report(line: Record<string, unknown>): void; failed(err: HttpError): void; ended(): void }) {
  const lines = lineSplitter();
  const stop = (err: HttpError) => {
    req.removeAllListeners("data");
    req.resume();
    failed(err);
  };
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => {
    for (const line of lines.push(chunk)) {
      if (line.trim() === "") continue; // an empty line says nothing (Enter pressed in curl)
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return stop(httpError(400, "INVALID_BODY", `a progress report is not JSON: ${JSON.stringify(line.slice(0, 80))}`));
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return stop(httpError(400, "INVALID_BODY", 'a progress report must be a JSON object such as {"received":12,"applied":10}'));
      try {
        report(parsed as Record<string, unknown>);
      } catch (err) {
        return stop(err instanceof HttpError ? err : httpError(400, "INVALID_BODY", `a progress report was refused: ${(err as Error)?.message ?? err}`));
      }
    }
    if (lines.pending > MAX_REPORT_BYTES) stop(httpError(413, "REPORT_TOO_LARGE", `a progress report must be at most ${MAX_REPORT_BYTES} bytes`));
  });
  req.once("end", ended);
  req.once("error", ended);
}

/** Resolves true once `res` can take more; false after `withinMs` (the reader stopped reading) or when `signal` aborts. */
function drained(res: Response, withinMs: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off("drain", onDrain);
      signal.removeEventListener("abort", onAbort);
      clearTimeout(timer);
      resolve(ok);
    };
    const onDrain = done(true);
    const onAbort = done(false);
    const timer = setTimeout(done(false), withinMs);
    res.once("drain", onDrain);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function readPosition(body: Record<string, unknown>, name: string): number {
  const value = body[name];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw httpError(400, "INVALID_BODY", `${name} must be a whole number of at least 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

export type LogServer = ReturnType<typeof serveLog>;
