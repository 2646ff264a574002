import { checkOrderId } from "@lab/orders";
import { httpError, readJsonObject } from "@lab/service";
import type { Request } from "express";

/** The `id` of a JSON body such as {"id":"o-1"}, or a 4xx that says what is wrong with the body (as the in-memory leader's routes). */
export function readBodyId(req: Request): string {
  const check = checkOrderId(readJsonObject(req, '{"id":"o-1"}').id);
  if (!check.ok) throw httpError(400, "INVALID_ID", check.message);
  return check.id;
}

/** The `:id` of the path, or a 400 INVALID_ID. */
export function readPathId(req: Request): string {
  const check = checkOrderId(req.params.id);
  if (!check.ok) throw httpError(400, "INVALID_ID", check.message);
  return check.id;
}

/** With STORE=postgres there is no lab log to serve: PostgreSQL streams its WAL to the standby itself. */
export function noLabLog(req: Request): never {
  throw httpError(404, "NO_SUCH_ROUTE", `no route for ${req.method} ${req.path}: with STORE=postgres the log is PostgreSQL's WAL, which the primary streams to its standby itself (pg_stat_replication shows it: GET /replication on the leader)`);
}
