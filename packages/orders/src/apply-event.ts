import type { OrderEvent } from "./events.ts";
import type { Order, Orders } from "./order.ts";
import { transitions } from "./transitions.ts";

/**
 * Thrown when an event does not fit the state it is applied to. The leader only appends events
 * that `decide` accepted, and every node applies them in offset order, so this means the replica
 * has diverged from its log (a bug, or a log from another history): stop rather than guess.
 */
export class DivergenceError extends Error {
  override name = "DivergenceError";
}

/**
 * Applies one event to the state: the single state-transition function shared by the leader
 * and every follower. The result depends only on the state and the event (the time comes from
 * `event.at`), so replaying the same log always rebuilds the same state. It updates `orders` in
 * place, because a log of a million events cannot copy the state per event, and returns the
 * order as it now stands.
 */
export function applyEvent(orders: Orders, event: OrderEvent): Order {
  const rule = transitions[event.type];
  const existing = orders.get(event.orderId);
  const found = existing ? existing.status : null;
  if (found !== rule.from) {
    throw new DivergenceError(
      `cannot apply ${event.type} to order ${event.orderId}: it is ${found ?? "absent"}, want ${rule.from ?? "absent"}`,
    );
  }
  const order: Order = { id: event.orderId, status: rule.to, updatedAt: event.at };
  orders.set(order.id, order);
  return order;
}
