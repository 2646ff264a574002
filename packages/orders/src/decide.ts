import type { OrderEvent } from "./events.ts";
import type { Order, Orders } from "./order.ts";
import { transitions } from "./transitions.ts";

/** What a client asks the leader to do. */
export type OrderCommand =
  | { type: "create"; orderId: string }
  | { type: "confirm"; orderId: string }
  | { type: "cancel"; orderId: string };

/** Why a command was refused. Refusals are expected outcomes, so they are data, not exceptions. */
export type Refusal =
  | { code: "ORDER_EXISTS"; message: string; order: Order }
  | { code: "ORDER_NOT_FOUND"; message: string }
  | { code: "INVALID_TRANSITION"; message: string; order: Order };

export type Decision = { ok: true; event: OrderEvent } | ({ ok: false } & Refusal);

const eventFor = {
  create: "OrderCreated",
  confirm: "OrderConfirmed",
  cancel: "OrderCanceled",
} as const;

/**
 * Decides, on the leader only, whether a command is legal in the current state and, if so, which
 * event records it. It reads the state and changes nothing: the caller appends the event to the
 * log and then applies it. `at` is the leader's clock, fixed here once for every replica.
 */
export function decide(orders: Orders, command: OrderCommand, at: number): Decision {
  const type = eventFor[command.type];
  const rule = transitions[type];
  const existing = orders.get(command.orderId);
  if (rule.from === null) {
    if (existing) {
      return { ok: false, code: "ORDER_EXISTS", message: `order ${existing.id} already exists`, order: existing };
    }
  } else if (!existing) {
    return { ok: false, code: "ORDER_NOT_FOUND", message: `order ${command.orderId} not found` };
  } else if (existing.status !== rule.from) {
    return {
      ok: false,
      code: "INVALID_TRANSITION",
      message: `order ${existing.id} is ${existing.status}; only ${rule.from} orders can be ${verb[command.type]}`,
      order: existing,
    };
  }
  return { ok: true, event: { type, orderId: command.orderId, at } };
}

const verb = { create: "created", confirm: "confirmed", cancel: "canceled" } as const;
