export { applyEvent, DivergenceError } from "./apply-event.ts";
export { decide } from "./decide.ts";
export type { Decision, OrderCommand, Refusal } from "./decide.ts";
export type { OrderEvent, OrderEventType } from "./events.ts";
export { checkOrderId, createOrders } from "./order.ts";
export type { Order, Orders, OrderStatus } from "./order.ts";
export { replaceOrders } from "./snapshot.ts";
export { transitions } from "./transitions.ts";
