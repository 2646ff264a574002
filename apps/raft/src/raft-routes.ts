import { parseIncoming, RAFT_MESSAGES_PATH, type AnswerBody, type Envelope, type Refusal } from "@lab/raft";
import { httpError, readJsonObject } from "@lab/service";
import express, { Router } from "express";
import type { Member } from "./config.ts";
import { checkOrderEntry, type OrderEntry } from "./orders-machine.ts";
import type { Link } from "./raft-node.ts";

/** An AppendEntries of 128 entries is a few tens of kilobytes; this leaves room. */
const MESSAGE_LIMIT_BYTES = 1024 * 1024;

const REFUSED_WITH: Record<Refusal["code"], number> = { INVALID_MESSAGE: 400, UNKNOWN_PEER: 403, NOT_THIS_NODE: 400 };

/**
 * The route peers send Raft messages to. It holds the response until the node's next flush has
 * run, and answers with what that flush sent back to the sender (`answer`, the HTTP transport's):
 * 200 `{group, messages}`, such as the AppendEntriesReply to an AppendEntries, or 204 if there is
 * none. So one request and its response carry a message and its reply, where two requests did.
 * Anything else gets a JSON 4xx and changes nothing: a body that is not a message (400), a
 * message of another group (409: its sender was started with other RAFT_PEERS), from a node that
 * is not a member (403), or for another node (400). While the node is disconnected (`POST /admin/disconnect`) every message is
 * refused, 503 DISCONNECTED, before it is read: to its peers it is as if the network were cut.
 */
export function raftRoutes({ id, group, members, answer, link }: { id: string; group: string; members: readonly Member[]; answer(message: Envelope<OrderEntry>): Promise<Envelope<OrderEntry>[]>; link: Link }): Router {
  const router = Router();
  const receiver = { id, peers: new Set(members.map((m) => m.id).filter((m) => m !== id)), checkCommand: checkOrderEntry };
  router.post(RAFT_MESSAGES_PATH, (_req, _res, next) => {
    if (link.disconnected) throw httpError(503, "DISCONNECTED", `${id} is disconnected from the group (POST /admin/disconnect): it takes no Raft messages until POST /admin/reconnect`);
    next();
  });
  router.post(RAFT_MESSAGES_PATH, express.json({ limit: MESSAGE_LIMIT_BYTES }), async (req, res) => {
    const body = readJsonObject(req, '{"group":"...","message":{"type":"AppendEntries",...}}');
    if (body.group !== group) {
      throw httpError(409, "GROUP_MISMATCH", `this node is ${id} in group ${group} (${members.map((m) => `${m.id}=${m.url}`).join(",")}), and the message is of group ${JSON.stringify(body.group)}: the nodes were started with different RAFT_PEERS`, { group });
    }
    const parsed = parseIncoming<OrderEntry>(body.message, receiver);
    if (!parsed.ok) throw httpError(REFUSED_WITH[parsed.code], parsed.code, parsed.error);
    const messages = await answer(parsed.message);
    if (messages.length === 0) res.status(204).end();
    else res.json({ group, messages } satisfies AnswerBody<OrderEntry>);
  });
  return router;
}
