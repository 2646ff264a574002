import { describe, expect, it } from "vitest";
import { applyEvent } from "./apply-event.ts";
import { decide } from "./decide.ts";
import { createOrders } from "./order.ts";

describe("decide", () => {
  it("creates a PENDING order with the leader's time in the event", () => {
    const orders = createOrders();
    expect(decide(orders, { type: "create", orderId: "o-1" }, 1234)).toEqual({
      ok: true,
      event: { type: "OrderCreated", orderId: "o-1", at: 1234 },
    });
    expect(orders.size).toBe(0); // deciding changes nothing
  });

  it("refuses to create an order that exists", () => {
    const orders = createOrders();
    applyEvent(orders, { type: "OrderCreated", orderId: "o-1", at: 1 });
    const got = decide(orders, { type: "create", orderId: "o-1" }, 2);
    expect(got).toMatchObject({ ok: false, code: "ORDER_EXISTS" });
  });

  it("refuses to confirm or cancel an order that does not exist", () => {
    const orders = createOrders();
    expect(decide(orders, { type: "confirm", orderId: "nope" }, 1)).toMatchObject({ ok: false, code: "ORDER_NOT_FOUND" });
    expect(decide(orders, { type: "cancel", orderId: "nope" }, 1)).toMatchObject({ ok: false, code: "ORDER_NOT_FOUND" });
  });

  it("allows only PENDING -> CONFIRMED and PENDING -> CANCELED, naming the current status otherwise", () => {
    const orders = createOrders();
    applyEvent(orders, { type: "OrderCreated", orderId: "o-1", at: 1 });
    applyEvent(orders, { type: "OrderConfirmed", orderId: "o-1", at: 2 });
    const cancel = decide(orders, { type: "cancel", orderId: "o-1" }, 3);
    expect(cancel).toMatchObject({ ok: false, code: "INVALID_TRANSITION" });
    expect(cancel.ok === false && cancel.message).toContain("is CONFIRMED");
    expect(decide(orders, { type: "confirm", orderId: "o-1" }, 3)).toMatchObject({ ok: false, code: "INVALID_TRANSITION" });

    applyEvent(orders, { type: "OrderCreated", orderId: "o-2", at: 4 });
    expect(decide(orders, { type: "cancel", orderId: "o-2" }, 5)).toMatchObject({ ok: true });
  });
});
