import { createChangeFeed, watchRoute } from "@lab/node";
import type { Orders } from "@lab/orders";
import type { Envelope, RaftServer, TimerClock } from "@lab/raft";
import { jsonErrorHandler, notFoundRoute, type LogLine } from "@lab/service";
import express, { type Express } from "express";
import type { RaftConfig } from "./config.ts";
import type { Applied, OrderEntry } from "./orders-machine.ts";
import { adminRoutes } from "./admin-routes.ts";
import { ordersRoutes } from "./orders-routes.ts";
import type { Link } from "./raft-node.ts";
import { raftRoutes } from "./raft-routes.ts";

export interface RaftAppDeps {
  config: RaftConfig;
  raft: RaftServer<OrderEntry, Applied | undefined>;
  /** Takes in a message a peer POSTed; resolves with the messages that go back in the response (the HTTP transport's `answer`). */
  answer(message: Envelope<OrderEntry>): Promise<Envelope<OrderEntry>[]>;
  orders: Orders;
  clock: TimerClock;
  logLine: LogLine;
  link: Link;
}

/**
 * A node's HTTP face: the Raft messages its peers send it, the orders clients write and read, and
 * `/status`, which shows what Figure 2 calls its state: currentTerm, votedFor, the log's length,
 * commitIndex, lastApplied, the role and, on the leader, each peer's nextIndex and matchIndex;
 * `/watch` holds a watcher (the dashboard) until that changes.
 */
export function createRaftApp({ config, raft, answer, orders, clock, logLine, link }: RaftAppDeps): Express {
  const urls = new Map(config.members.map((m) => [m.id, m.url]));
  const urlOf = (id: string | null) => (id === null ? null : (urls.get(id) ?? null));
  const app = express();
  app.disable("x-powered-by");
  app.use(raftRoutes({ id: config.id, group: config.group, members: config.members, answer, link }));
  app.use(ordersRoutes({ raft, orders, clock, commitTimeoutMs: config.commitTimeoutMs, urlOf }));
  const status = () => {
    const { peers, lastLogIndex, ...state } = raft.status();
    return {
      ok: true,
      ...state,
      url: config.url,
      leaderUrl: urlOf(state.leaderId),
      logLength: lastLogIndex,
      orders: orders.size,
      group: config.group,
      members: config.members,
      electionTimeoutMs: config.electionTimeout,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      preVote: config.preVote,
      disconnected: link.disconnected,
      ...(peers ? { peers: peers.map((p) => ({ ...p, url: urlOf(p.id) })) } : {}),
    };
  };
  app.get("/status", (_req, res) => {
    res.json(status());
  });
  // `/watch` is packages/node's route with this status as the view: a watcher that has the version
  // is held until the status reads differently. Every change to a Raft node is carried out in a
  // flush of its server, or is a disconnect or reconnect; a heartbeat moves nothing it shows.
  const feed = createChangeFeed(clock, () => JSON.stringify(status()));
  raft.onFlushed(feed.changed);
  app.use(watchRoute(feed, () => status()));
  app.use(adminRoutes({ link, logLine, status, changed: feed.changed }));
  app.use(notFoundRoute);
  app.use(jsonErrorHandler(logLine));
  return app;
}
