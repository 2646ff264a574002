import { applyEvent, checkOrderId, decide, type OrderCommand, type OrderEvent, type Orders } from "@lab/orders";
import type { ReplicationLog } from "@lab/replication";
import { httpError, type Clock, type LogLine } from "@lab/service";
import express, { Router, type Request } from "express";

export interface OrdersRoutesDeps {
  orders: Orders;
  log: ReplicationLog<OrderEvent>;
  clock: Clock;
  logLine: LogLine;
  /** The largest JSON body accepted (413 beyond it). */
  bodyLimitBytes: number;
}

const refusalStatus = { ORDER_EXISTS: 409, INVALID_TRANSITION: 409, ORDER_NOT_FOUND: 404 } as const;

/**
 * The leader's order routes. Every write takes the same path, and the order of its steps is the
 * point: decide (is it legal? fix the time once), append the event to the log, then apply the
 * event to the leader's own state with the same `applyEvent` every follower uses. Nothing else
 * changes the state, so the log and the state cannot disagree. A refused command appends nothing.
 */
export function ordersRoutes({ orders, log, clock, logLine, bodyLimitBytes }: OrdersRoutesDeps): Router {
  const router = Router();

  const write = (command: OrderCommand) => {
    const decision = decide(orders, command, clock.now());
    if (!decision.ok) {
      const { ok: _ok, code, message, ...details } = decision;
      throw httpError(refusalStatus[code], code, message, details);
    }
    const event = log.append(decision.event);
    const order = applyEvent(orders, event);
    logLine(`appended offset=${event.offset} type=${event.type} orderId=${event.orderId}`);
    return { ok: true, leader: true, order, event };
  };

  // Only this route reads a body, so only it parses one: elsewhere a stray body is ignored.
  router.post("/orders", express.json({ limit: bodyLimitBytes }), (req, res) => {
    res.status(201).json(write({ type: "create", orderId: readBodyId(req) }));
  });
  router.post("/orders/:id/confirm", (req, res) => {
    res.json(write({ type: "confirm", orderId: readPathId(req) }));
  });
  router.post("/orders/:id/cancel", (req, res) => {
    res.json(write({ type: "cancel", orderId: readPathId(req) }));
  });
  router.get("/orders/:id", (req, res) => {
    const id = readPathId(req);
    const order = orders.get(id);
    if (!order) throw httpError(404, "ORDER_NOT_FOUND", `order ${id} not found`);
    res.json({ ok: true, leader: true, order });
  });

  return router;
}

/** The `id` of a JSON body such as {"id":"o-1"}, or a 4xx that says what is wrong with the body. */
function readBodyId(req: Request): string {
  if (req.body === undefined) {
    // express.json() leaves req.body unset when the body is not JSON (curl -d without a header).
    if (hasBody(req)) {
      throw httpError(415, "UNSUPPORTED_MEDIA_TYPE", 'send the body as JSON with the header "Content-Type: application/json"');
    }
    throw httpError(400, "INVALID_BODY", 'the body must be a JSON object such as {"id":"o-1"}');
  }
  if (typeof req.body !== "object" || req.body === null || Array.isArray(req.body)) {
    throw httpError(400, "INVALID_BODY", 'the body must be a JSON object such as {"id":"o-1"}');
  }
  const check = checkOrderId((req.body as { id?: unknown }).id);
  if (!check.ok) throw httpError(400, "INVALID_ID", check.message);
  return check.id;
}

function hasBody(req: Request): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

function readPathId(req: Request): string {
  const check = checkOrderId(req.params.id);
  if (!check.ok) throw httpError(400, "INVALID_ID", check.message);
  return check.id;
}
