import { refuseWebPages } from "@lab/node";
import type { LogLine } from "@lab/service";
import { Router } from "express";
import type { Link } from "./raft-node.ts";

/**
 * `POST /admin/disconnect` and `POST /admin/reconnect`: cut this node off from the other members
 * and join it again, as eliben/raft's harness does with DisconnectPeer and ReconnectPeer, but on
 * a running node. While it is cut off, every Raft message it would send is dropped and every one
 * it is sent refused; clients still reach it, as they would a node on the wrong side of a
 * partition. That is how the runaway server is shown by hand: a follower cut off keeps timing
 * out. Both answer the node's /status (and tell its `/watch`, `changed`); asking twice changes nothing the second time. The group
 * listens on loopback only (RAFT_PEERS allows no other address), so these routes are too; and, as
 * every node's admin routes, they refuse a request a web page sent (an Origin).
 */
export function adminRoutes({ link, logLine, status, changed }: { link: Link; logLine: LogLine; status(): Record<string, unknown>; changed(): void }): Router {
  const router = Router();
  router.post("/admin/disconnect", (req, res) => {
    refuseWebPages(req);
    if (link.set(true)) {
      logLine("disconnected (POST /admin/disconnect): every Raft message to and from the other members is dropped; clients still reach this node");
      changed();
    }
    res.json(status());
  });
  router.post("/admin/reconnect", (req, res) => {
    refuseWebPages(req);
    if (link.set(false)) {
      logLine("reconnected (POST /admin/reconnect): Raft messages flow again");
      changed();
    }
    res.json(status());
  });
  return router;
}
