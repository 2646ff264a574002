import { describe, expect, it } from "vitest";
import { applyEvent, DivergenceError } from "./apply-event.ts";
import type { OrderEvent } from "./events.ts";
import { checkOrderId, createOrders } from "./order.ts";

describe("applyEvent", () => {
  it("takes updatedAt from the event, so every replica rebuilds the same state", () => {
    const log: OrderEvent[] = [
      { type: "OrderCreated", orderId: "o-1", at: 100 },
      { type: "OrderCreated", orderId: "o-2", at: 110 },
      { type: "OrderConfirmed", orderId: "o-1", at: 120 },
      { type: "OrderCanceled", orderId: "o-2", at: 130 },
    ];
    const a = createOrders();
    const b = createOrders();
    for (const e of log) applyEvent(a, e);
    for (const e of log) applyEvent(b, e);
    expect([...a.values()]).toEqual([
      { id: "o-1", status: "CONFIRMED", updatedAt: 120 },
      { id: "o-2", status: "CANCELED", updatedAt: 130 },
    ]);
    expect(b).toEqual(a);
  });

  it("refuses an event that does not fit the state instead of guessing", () => {
    const orders = createOrders();
    expect(() => applyEvent(orders, { type: "OrderConfirmed", orderId: "o-1", at: 1 })).toThrow(DivergenceError);
    applyEvent(orders, { type: "OrderCreated", orderId: "o-1", at: 1 });
    expect(() => applyEvent(orders, { type: "OrderCreated", orderId: "o-1", at: 2 })).toThrow(/is PENDING, want absent/);
    expect(orders.get("o-1")).toEqual({ id: "o-1", status: "PENDING", updatedAt: 1 });
  });
});

describe("checkOrderId", () => {
  it.each([
    [undefined, "id is required"],
    [42, "id must be a string, got number"],
    ["", "id must not be empty"],
    ["a/b", "id must be 1-64"],
    ["x".repeat(65), "id must be 1-64"],
  ])("rejects %j", (value, message) => {
    const got = checkOrderId(value);
    expect(got.ok).toBe(false);
    expect(got.ok === false && got.message).toContain(message);
  });

  it("accepts the chapter's ids", () => {
    expect(checkOrderId("o-1")).toEqual({ ok: true, id: "o-1" });
  });
});
