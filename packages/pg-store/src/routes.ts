import { httpError } from "@lab/service";
import type { Request } from "express";

/** With STORE=postgres there is no lab log to serve: PostgreSQL streams its WAL to the standby itself. */
export function noLabLog(req: Request): never {
  throw httpError(404, "NO_SUCH_ROUTE", `no route for ${req.method} ${req.path}: with STORE=postgres the log is PostgreSQL's WAL, which the primary streams to its standby itself (pg_stat_replication shows it: GET /replication on the leader)`);
}
