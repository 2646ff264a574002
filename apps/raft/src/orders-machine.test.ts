import { describe, expect, it } from "vitest";
import { checkOrderEntry, createOrdersMachine } from "./orders-machine.ts";

describe("the orders as a Raft state machine", () => {
  it("decides each command when it is applied, so that two creates of one order both in the log are one order and one refusal", () => {
    const { orders, apply } = createOrdersMachine();
    const create = { command: { type: "create" as const, orderId: "o-1" }, at: 100 };
    expect(apply({ index: 1, term: 1, noop: true })).toBeUndefined();
    expect(apply({ index: 2, term: 1, command: create })).toMatchObject({ ok: true, order: { id: "o-1", status: "PENDING", updatedAt: 100 } });
    expect(apply({ index: 3, term: 1, command: { ...create, at: 101 } })).toMatchObject({ ok: false, code: "ORDER_EXISTS" });
    expect(apply({ index: 4, term: 1, command: { command: { type: "confirm", orderId: "o-1" }, at: 102 } })).toMatchObject({ ok: true, order: { status: "CONFIRMED", updatedAt: 102 } });
    expect([...orders.values()]).toEqual([{ id: "o-1", status: "CONFIRMED", updatedAt: 102 }]);
  });

  it.each([
    [null, "must be an object"],
    [{ command: { type: "create", orderId: "o-1" } }, "at must be a time in ms"],
    [{ command: { type: "delete", orderId: "o-1" }, at: 1 }, "command.type must be create, confirm or cancel"],
    [{ command: { type: "create", orderId: "a/b" }, at: 1 }, "command.orderId: id must be 1-64"],
  ])("refuses the entry %j from a peer", (value, problem) => {
    expect(checkOrderEntry(value)).toContain(problem);
  });
});
