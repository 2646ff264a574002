import { applyEvent, decide, type Order, type OrderCommand, type OrderEvent, type Orders } from "@lab/orders";
import type { LogEntry, ReplicationLog } from "@lab/replication";
import type { Clock, LogLine } from "@lab/service";
import { refusalError } from "./order-requests.ts";
import type { Replication, SyncPolicy } from "./sync-policy.ts";


/**
 * The leader's state and the one path every write takes. The order of the steps is the point:
 *
 * 0. refuse it if this node no longer leads (fenced) or too few followers are heard from,
 * 1. decide: is the command legal in the current state? The time is fixed here, once.
 * 2. append the event to the log (it gets its offset),
 * 3. apply it to the leader's own state with the same `applyEvent` every follower uses,
 * 4. wait until the log says the event is durable,
 * 5. and, when the leader is synchronous, until enough followers have it (sync-policy.ts); only
 *    then acknowledge.
 *
 * Steps 1 to 3 run in one synchronous step, so no other write can slip in between deciding and
 * applying, and the state always holds exactly the events before `appliedUpTo`. A refused
 * command appends nothing.
 */
export function createWritePath({ orders, log, clock, logLine, sync, fence }: { orders: Orders; log: ReplicationLog<OrderEvent>; clock: Clock; logLine: LogLine; sync?: SyncPolicy; fence?: () => void }) {
  let appliedUpTo = log.head;
  return {
    /** One past the last offset applied to `orders` (durable or not yet). */
    get appliedUpTo() {
      return appliedUpTo;
    },
    async write(command: OrderCommand): Promise<{ order: Order; event: LogEntry<OrderEvent>; replication?: Replication }> {
      fence?.(); // a leader that has learnt of a newer leadership takes no more writes
      sync?.admit(); // MIN_REPLICAS_TO_WRITE: refused before anything is decided or appended
      const decision = decide(orders, command, clock.now());
      if (!decision.ok) throw refusalError(decision);
      const event = log.append(decision.event);
      const order = applyEvent(orders, event);
      appliedUpTo = event.offset + 1;
      logLine(`appended offset=${event.offset} type=${event.type} orderId=${event.orderId}`);
      await log.whenDurable(event.offset);
      if (!sync) return { order, event };
      const replication = await sync.acknowledge(event.offset, () => ({ leader: true, order, event }));
      return sync.reports ? { order, event, replication } : { order, event };
    },
  };
}

export type WritePath = ReturnType<typeof createWritePath>;
