import { checkOrderId, type Order, type Orders } from "./order.ts";
import { transitions } from "./transitions.ts";

const statuses = new Set(Object.values(transitions).map((t) => t.to));

const isOrder = (o: Order | null) => typeof o === "object" && o !== null && checkOrderId(o.id).ok && statuses.has(o.status) && Number.isFinite(o.updatedAt);

/**
 * Checks that `state` (a snapshot's, or a checkpoint's) is a list of orders, and returns what
 * replaces the whole of `orders` with it, saying in a few words what it loaded ("12 orders").
 * Every order is checked before anything changes, so a bad snapshot changes nothing; the
 * replacing is left to the caller, to do in the same step as it moves to the snapshot's offset.
 */
export function replaceOrders(orders: Orders, state: unknown): () => string {
  if (!Array.isArray(state) || !(state as (Order | null)[]).every(isOrder)) throw new Error("the snapshot's state is not a list of orders");
  return () => {
    orders.clear();
    for (const order of state as Order[]) orders.set(order.id, order);
    return `${orders.size} orders`;
  };
}
