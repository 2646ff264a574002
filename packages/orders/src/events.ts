/**
 * The events the leader appends to its log: one per change, in the chapter's shape. `at` is the
 * leader's clock at the moment it decided the change. It is part of the event so that a follower
 * replays the same value instead of calling `Date.now()` itself: shipping the outcome of a
 * nondeterministic step, not the step (log shipping rather than statement shipping).
 */
export type OrderEvent =
  | { type: "OrderCreated"; orderId: string; at: number }
  | { type: "OrderConfirmed"; orderId: string; at: number }
  | { type: "OrderCanceled"; orderId: string; at: number };

export type OrderEventType = OrderEvent["type"];
