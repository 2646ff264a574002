import type { OrderCommand, Orders } from "@lab/orders";
import { httpError } from "@lab/service";
import express, { Router } from "express";
import { readBodyId, readPathId } from "./order-requests.ts";
import type { WritePath } from "./write-path.ts";

/**
 * The leader's order routes: three writes, all through the write path, and a read. Replies keep
 * the chapter's shape, `{ok, leader, order, event}`.
 */
export function ordersRoutes({ orders, writePath, bodyLimitBytes, epoch }: { orders: Orders; writePath: WritePath; bodyLimitBytes: number; epoch: () => number | undefined }): Router {
  const router = Router();
  // After a failover, offsets alone no longer name a write: the epoch that wrote it goes with them.
  const epochField = () => {
    const e = epoch();
    return e === undefined ? {} : { epoch: e };
  };
  const write = async (command: OrderCommand) => ({ ok: true, leader: true, ...(await writePath.write(command)), ...epochField() });

  // Only this route reads a body, so only it parses one: elsewhere a stray body is ignored.
  router.post("/orders", express.json({ limit: bodyLimitBytes }), async (req, res) => {
    res.status(201).json(await write({ type: "create", orderId: readBodyId(req) }));
  });
  router.post("/orders/:id/confirm", async (req, res) => {
    res.json(await write({ type: "confirm", orderId: readPathId(req) }));
  });
  router.post("/orders/:id/cancel", async (req, res) => {
    res.json(await write({ type: "cancel", orderId: readPathId(req) }));
  });
  router.get("/orders/:id", (req, res) => {
    const id = readPathId(req);
    const order = orders.get(id);
    if (!order) throw httpError(404, "ORDER_NOT_FOUND", `order ${id} not found`);
    // appliedOffset: the last event this state reflects, a session's token for monotonic reads (as on followers).
    res.json({ ok: true, leader: true, appliedOffset: writePath.appliedUpTo - 1, ...epochField(), order });
  });

  return router;
}
