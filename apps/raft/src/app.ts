import type { Orders } from "@lab/orders";
import type { RaftServer, TimerClock } from "@lab/raft";
import { jsonErrorHandler, notFoundRoute, type LogLine } from "@lab/service";
import express, { type Express } from "express";
import type { RaftConfig } from "./config.ts";
import type { Applied, OrderEntry } from "./orders-machine.ts";
import { ordersRoutes } from "./orders-routes.ts";
import { raftRoutes } from "./raft-routes.ts";

export interface RaftAppDeps {
  config: RaftConfig;
  raft: RaftServer<OrderEntry, Applied | undefined>;
  orders: Orders;
  clock: TimerClock;
  logLine: LogLine;
}

/**
 * A node's HTTP face: the Raft messages its peers send it, the orders clients write and read, and
 * `/status`, which shows what Figure 2 calls its state: currentTerm, votedFor, the log's length,
 * commitIndex, lastApplied, the role and, on the leader, each peer's nextIndex and matchIndex.
 */
export function createRaftApp({ config, raft, orders, clock, logLine }: RaftAppDeps): Express {
  const urls = new Map(config.members.map((m) => [m.id, m.url]));
  const urlOf = (id: string | null) => (id === null ? null : (urls.get(id) ?? null));
  const app = express();
  app.disable("x-powered-by");
  app.use(raftRoutes({ id: config.id, group: config.group, members: config.members, receive: raft.receive }));
  app.use(ordersRoutes({ raft, orders, clock, commitTimeoutMs: config.commitTimeoutMs, urlOf }));
  app.get("/status", (_req, res) => {
    const { peers, lastLogIndex, ...status } = raft.status();
    res.json({
      ok: true,
      ...status,
      url: config.url,
      leaderUrl: urlOf(status.leaderId),
      logLength: lastLogIndex,
      orders: orders.size,
      group: config.group,
      members: config.members,
      electionTimeoutMs: config.electionTimeout,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      ...(peers ? { peers: peers.map((p) => ({ ...p, url: urlOf(p.id) })) } : {}),
    });
  });
  app.use(notFoundRoute);
  app.use(jsonErrorHandler(logLine));
  return app;
}
