import type { OrderEventType } from "./events.ts";
import type { OrderStatus } from "./order.ts";

/**
 * The one table of legal changes. `decide` consults it before the leader appends an event, and
 * `applyEvent` consults it again when any node applies one, so the two can never disagree.
 * `from: null` means the order must not exist yet.
 */
export const transitions: Record<OrderEventType, { from: OrderStatus | null; to: OrderStatus }> = {
  OrderCreated: { from: null, to: "PENDING" },
  OrderConfirmed: { from: "PENDING", to: "CONFIRMED" },
  OrderCanceled: { from: "PENDING", to: "CANCELED" },
};
