import type { Order, OrderEvent, Orders } from "@lab/orders";
import type { ReplicationLog } from "@lab/replication";
import { Router } from "express";

/**
 * `GET /snapshot`: the leader's whole state and the offset it covers, for a follower that cannot
 * continue from the log (new, too far behind, or following a log this leader no longer has).
 *
 * Consistency: the state is copied in one synchronous step, so it holds exactly the events
 * before `offset` (the leader applies each event in the same step that appends it) and none
 * after. With a log on disk, that state may include events not yet synced; the reply is held
 * until they are, so a follower never receives anything the leader could still lose.
 */
export function snapshotRoute(orders: Orders, log: ReplicationLog<OrderEvent>, appendedHead: () => number): Router {
  const router = Router();
  router.get("/snapshot", async (_req, res) => {
    const offset = appendedHead();
    const state: Order[] = [...orders.values()];
    const body = JSON.stringify({ ok: true, leader: true, logId: log.logId, offset, state });
    if (offset > 0) await log.whenDurable(offset - 1);
    res.type("json").send(body);
  });
  return router;
}
