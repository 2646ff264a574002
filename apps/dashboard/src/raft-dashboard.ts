import { majority } from "@lab/raft";
import { httpError, readJsonObject, silentLogger, type LogLine } from "@lab/service";
import express from "express";
import type { WatchedNode } from "./leadership.ts";
import { createPageServer } from "./page-server.ts";
import { createLeaderHistory, readRaftLeader } from "./raft-group.ts";

export interface RaftDashboardOptions {
  /** RAFT_URLS: every member of the group. The page's controls name a node by its place in this list. */
  nodeUrls: string[];
  /** The page's language when the browser does not say: LAB_LANG, or the system's. */
  lang?: "en" | "ja";
  logLine?: LogLine;
}

/**
 * The live dashboard of a Raft group (apps/raft): while a page is open it watches every member's
 * `GET /watch` (its /status, held until it changes: an idle group costs one held request per
 * node) and pushes what they say to the page (`GET /stream`, raft.html): each node's term,
 * role, vote, log, commitIndex and lastApplied, on the leader each peer's nextIndex and
 * matchIndex, and the leaders seen, newest first. Its controls go through it, as the chapter's
 * dashboard's do: a write to the leader, and a node's `/admin/disconnect` and `/admin/reconnect`.
 * Nothing is decided here: who leads is what the nodes say (raft-group.ts).
 */
export function createRaftDashboard({ nodeUrls, lang = "en", logLine = silentLogger }: RaftDashboardOptions) {
  const nodes: WatchedNode[] = nodeUrls.map((url) => ({ url, up: false, view: null }));
  const leaders = createLeaderHistory();
  const state = () => ({ lang, majority: majority(nodes.length), nodes, leader: readRaftLeader(nodes), leaders: leaders.seen });
  const leaderUrl = () => {
    const leader = readRaftLeader(nodes);
    if (leader === null) throw httpError(503, "NO_LEADER", "no node leads right now (an election is under way, or no majority can reach each other): try again in a moment");
    return nodes[leader]!.url;
  };

  return createPageServer({
    page: "raft.html",
    nodes,
    state,
    watch: {
      ids: () => [],
      // Nothing in a Raft node's status changes with time alone: every change answers a held watch.
      busy: () => false,
      onView(node, view) {
        node.up = view !== null;
        node.view = view ?? node.view;
        leaders.note(nodes);
      },
    },
    routes(app, { forward, nodeUrl }) {
      app.post("/api/orders", express.json({ limit: 1024 }), (req, res) => {
        const body = readJsonObject(req, '{"id":"o-1"}'); // a bad body is refused even while no node leads
        return forward(res, `${leaderUrl()}/orders`, body);
      });
      app.post("/api/nodes/:i/:action", (req, res) => {
        const { action } = req.params;
        if (action !== "disconnect" && action !== "reconnect") throw httpError(404, "NO_SUCH_ROUTE", `a node of a Raft group can be disconnected or reconnected, not ${JSON.stringify(action)}`);
        return forward(res, `${nodeUrl(req.params.i)}/admin/${action}`);
      });
    },
    logLine,
  });
}
