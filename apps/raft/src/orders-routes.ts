import { BODY_LIMIT_BYTES, readBodyId, readPathId, refusalError } from "@lab/node";
import type { OrderCommand, Orders } from "@lab/orders";
import type { Outcome, RaftServer, ReadState, TimerClock } from "@lab/raft";
import { httpError } from "@lab/service";
import express, { Router } from "express";
import type { Applied, OrderEntry } from "./orders-machine.ts";

export interface OrdersRoutesDeps {
  raft: RaftServer<OrderEntry, Applied | undefined>;
  orders: Orders;
  clock: TimerClock;
  commitTimeoutMs: number;
  /** A member's URL by its id, for NOT_LEADER's `leader`. */
  urlOf(id: string | null): string | null;
}

/**
 * The orders, replicated by Raft. A write goes to the leader, into its log, and is acknowledged
 * only once committed (on a majority) and applied here; a follower answers 421 NOT_LEADER with the
 * leader's URL, or null while it knows none. A read says what it guarantees:
 * `?consistency=linearizable` (the default) only on the leader, once it has confirmed with a
 * majority that it still leads (the read index); `?consistency=local` on any node, from what it
 * has applied so far, possibly stale.
 */
export function ordersRoutes({ raft, orders, clock, commitTimeoutMs, urlOf }: OrdersRoutesDeps): Router {
  const router = Router();

  const notLeader = (leaderId: string | null, what: string) => {
    const where = leaderId ? `send it to the leader, ${leaderId} at ${urlOf(leaderId)}` : "no leader is known yet: try again in a moment, or ask another node";
    return httpError(421, "NOT_LEADER", `${raft.id} is not the leader: ${what}; ${where}`, { leader: urlOf(leaderId), leaderId });
  };

  /** Waits for `promise`, or COMMIT_TIMEOUT_MS on the clock, whichever comes first. */
  const withinTimeout = async <T>(promise: Promise<T>): Promise<T | "timeout"> => {
    const timer = new AbortController();
    try {
      return await Promise.race([promise, clock.sleep(commitTimeoutMs, timer.signal).then(() => "timeout" as const)]);
    } finally {
      timer.abort();
    }
  };

  const write = async (command: OrderCommand) => {
    const outcome: Outcome<Applied | undefined> | "timeout" = await withinTimeout(raft.propose({ command, at: clock.now() }));
    if (outcome === "timeout") {
      throw httpError(503, "COMMIT_TIMEOUT", `not committed within ${commitTimeoutMs} ms (is a majority of the group up?); it may still be committed later: read it back before sending it again`);
    }
    if (!outcome.ok && outcome.code === "NOT_LEADER") throw notLeader(outcome.leaderId, "writes go to the leader");
    if (!outcome.ok) {
      const why = outcome.code === "LOST" ? "this node lost its leadership before the write was committed, and another leader's entry took its place: it was not applied, and never will be" : "this node is stopping";
      throw httpError(503, "NOT_COMMITTED", why, { leader: urlOf(outcome.leaderId), leaderId: outcome.leaderId });
    }
    const applied = outcome.result!;
    const committed = { index: outcome.index, term: outcome.term };
    if (!applied.ok) {
      throw refusalError(applied, { committed });
    }
    return { ok: true, leader: true, order: applied.order, event: applied.event, committed };
  };

  // Only this route reads a body, so only it parses one.
  router.post("/orders", express.json({ limit: BODY_LIMIT_BYTES }), async (req, res) => {
    res.status(201).json(await write({ type: "create", orderId: readBodyId(req) }));
  });
  router.post("/orders/:id/confirm", async (req, res) => {
    res.json(await write({ type: "confirm", orderId: readPathId(req) }));
  });
  router.post("/orders/:id/cancel", async (req, res) => {
    res.json(await write({ type: "cancel", orderId: readPathId(req) }));
  });

  router.get("/orders/:id", async (req, res) => {
    const id = readPathId(req);
    const consistency = req.query.consistency ?? "linearizable";
    if (consistency !== "linearizable" && consistency !== "local") throw httpError(400, "INVALID_PARAMETER", `consistency must be linearizable or local, got ${JSON.stringify(consistency)}`, { parameter: "consistency" });
    let read: Record<string, unknown>;
    if (consistency === "local") {
      const { role, currentTerm, commitIndex, lastApplied, leaderId } = raft.status();
      read = { consistency, node: raft.id, role, currentTerm, leaderId, commitIndex, lastApplied, guarantee: "what this node has applied so far: possibly stale, since a write acknowledged by the leader may not have reached it yet" };
    } else {
      const state: ReadState | "timeout" = await withinTimeout(raft.readIndex());
      if (state === "timeout") throw httpError(503, "READ_TIMEOUT", `could not confirm within ${commitTimeoutMs} ms that ${raft.id} still leads (is a majority of the group up?)`);
      if (!state.ok) throw notLeader(state.leaderId, "a linearizable read is served by the leader (or ask for ?consistency=local, possibly stale)");
      read = { consistency, node: raft.id, readIndex: state.index, lastApplied: raft.status().lastApplied, guarantee: "every write acknowledged before this read began: the leader confirmed with a majority that it still leads, and answers from its state at the read index or later" };
    }
    const order = orders.get(id);
    if (!order) throw httpError(404, "ORDER_NOT_FOUND", `order ${id} not found`, read);
    res.json({ ok: true, order, ...read });
  });
  return router;
}
