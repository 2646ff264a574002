import { httpError, parseWholeNumber } from "@lab/service";
import type { NextFunction, Request, Response } from "express";
import { request, type Dispatcher } from "undici";

/**
 * Refuses a control that a page from another site sent. Such a page, open in the same browser,
 * could POST to the dashboard (it listens on loopback, as the browser does); the browser names
 * that page in Origin. The dashboard's own page comes from this host, and curl sends no Origin.
 */
export function ownPageOnly(req: Request, _res: Response, next: NextFunction) {
  const origin = req.headers.origin;
  if (origin !== undefined && hostOf(origin) !== req.headers.host) {
    throw httpError(403, "CROSS_ORIGIN", `the dashboard's controls answer only its own page, not a page from ${JSON.stringify(origin)}`);
  }
  next();
}

/** Sends a POST to a node and answers with what it said (status and JSON), so the page sees the node's own errors; 502 when it does not answer. */
export async function forward(res: Response, dispatcher: Dispatcher, url: string, body?: unknown) {
  try {
    const reply = await request(url, { method: "POST", dispatcher, headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? null : JSON.stringify(body) });
    res.status(reply.statusCode).json(await reply.body.json());
  } catch (err) {
    res.status(502).json({ ok: false, code: "NODE_UNREACHABLE", error: `${url} did not answer (${(err as { code?: string }).code ?? (err as Error).message})` });
  }
}

/** The node a route's `:i` names: its index in the dashboard's list of `count` nodes; 404 NO_SUCH_NODE for anything else. */
export function readNodeIndex(param: string | string[] | undefined, count: number): number {
  const index = typeof param === "string" ? parseWholeNumber(param) : undefined;
  if (index === undefined || index >= count) throw httpError(404, "NO_SUCH_NODE", `there is no node ${JSON.stringify(param)}; nodes are 0 to ${count - 1}`);
  return index;
}

/** The host:port an Origin names, or "" for one that is not a URL (a sandboxed page says "null"). */
function hostOf(origin: string): string {
  try {
    return new URL(origin).host;
  } catch {
    return "";
  }
}
