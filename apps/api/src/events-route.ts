import type { OrderEvent } from "@lab/orders";
import { DEFAULT_EVENTS_LIMIT, MAX_EVENTS_LIMIT, type EventsReply, type ReplicationLog } from "@lab/replication";
import { httpError, readQueryNumber } from "@lab/service";
import { Router } from "express";

/**
 * `GET /events?from=N&limit=M`: the log, from offset N (inclusive), as followers read it. The
 * reply's `nextFrom` is where to ask next and `head` is where the log ends, so a follower knows
 * how far behind it is. An offset the log does not hold is a 409 OFFSET_OUT_OF_RANGE with the
 * range it does hold: a follower asking for it has lost its place and must not be told "nothing new".
 */
export function eventsRoute(log: ReplicationLog<OrderEvent>): Router {
  const router = Router();
  router.get("/events", (req, res) => {
    const from = readQueryNumber(req.query, "from", { fallback: 0 });
    const limit = readQueryNumber(req.query, "limit", { fallback: DEFAULT_EVENTS_LIMIT, min: 1, max: MAX_EVENTS_LIMIT });
    const read = log.readFrom(from, limit);
    if (!read.ok) {
      const holds = read.head > read.start ? `offsets ${read.start} to ${read.head - 1}` : `no events yet (head ${read.head})`;
      throw httpError(409, "OFFSET_OUT_OF_RANGE", `offset ${from} is not in the log, which holds ${holds}`, {
        start: read.start,
        head: read.head,
      });
    }
    const reply: EventsReply<OrderEvent> = { ok: true, leader: true, from, nextFrom: read.nextFrom, head: log.head, events: read.entries };
    res.json(reply);
  });
  return router;
}
