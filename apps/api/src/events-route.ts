import type { OrderEvent } from "@lab/orders";
import { DEFAULT_EVENTS_LIMIT, MAX_EVENTS_LIMIT, MAX_EVENTS_WAIT_MS, type EventsReply, type ReplicationLog, type TailWaiters } from "@lab/replication";
import { httpError, readQueryNumber } from "@lab/service";
import { Router } from "express";

const LOG_ID = /^[0-9a-f]{1,64}$/;

/**
 * `GET /events?from=N&logId=L&limit=M&waitMs=W`: the log, from offset N (inclusive), as
 * followers read it. The reply's `nextFrom` is where to ask next and `head` is where the log
 * ends, so a follower knows how far behind it is. With `waitMs`, a follower that has everything
 * is held until the next event is readable (or W ms pass): long-polling.
 *
 * The leader refuses to continue a follower's log from a place it cannot vouch for, with a 409
 * that says what it has now, never with a silent empty list:
 * - LOG_ID_MISMATCH: the follower follows another history (this leader restarted without its
 *   log). Its offsets mean nothing here.
 * - OFFSET_OUT_OF_RANGE: the offset was discarded by retention, or is past the head.
 * Either way the follower resyncs from `GET /snapshot`, like a Valkey replica whose PSYNC
 * falls back to a full sync.
 */
export function eventsRoute(log: ReplicationLog<OrderEvent>, tail: TailWaiters): Router {
  const router = Router();
  router.get("/events", async (req, res) => {
    const from = readQueryNumber(req.query, "from", { fallback: 0 });
    const limit = readQueryNumber(req.query, "limit", { fallback: DEFAULT_EVENTS_LIMIT, min: 1, max: MAX_EVENTS_LIMIT });
    const waitMs = readQueryNumber(req.query, "waitMs", { fallback: 0, max: MAX_EVENTS_WAIT_MS });
    const logId = req.query.logId;
    if (logId !== undefined && (typeof logId !== "string" || !LOG_ID.test(logId))) {
      throw httpError(400, "INVALID_PARAMETER", `logId must be the hex identity of a log, got ${JSON.stringify(logId)}`, { parameter: "logId" });
    }
    if (logId !== undefined && logId !== log.logId) {
      throw httpError(409, "LOG_ID_MISMATCH", `this leader's log is ${log.logId}, not ${logId}: its offsets belong to another history; resync from /snapshot`, {
        logId: log.logId,
        start: log.start,
        head: log.head,
      });
    }
    if (from === log.head && waitMs > 0) {
      const gone = new AbortController();
      const onClose = () => gone.abort(); // the follower hung up, or the server is closing
      res.once("close", onClose);
      await tail.wait(from, waitMs, gone.signal);
      res.off("close", onClose);
      if (gone.signal.aborted) return;
    }
    const where = { logId: log.logId, start: log.start, head: log.head };
    const read = log.readFrom(from, limit);
    if (!read.ok) {
      const holds = read.head > read.start ? `offsets ${read.start} to ${read.head - 1}` : `no events (head ${read.head})`;
      const advice = from < read.start ? "; resync from /snapshot" : "";
      throw httpError(409, "OFFSET_OUT_OF_RANGE", `offset ${from} is not in log ${log.logId}, which holds ${holds}${advice}`, where);
    }
    const reply: EventsReply<OrderEvent> = {
      ok: true,
      leader: true,
      logId: log.logId,
      start: log.start,
      from,
      nextFrom: read.nextFrom,
      head: log.head,
      events: read.entries,
    };
    res.json(reply);
  });
  return router;
}
