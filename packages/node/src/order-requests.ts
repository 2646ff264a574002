import { checkOrderId, type Refusal } from "@lab/orders";
import { HttpError, httpError, readJsonObject } from "@lab/service";
import type { Request } from "express";

/** The largest request body accepted: an order id needs a few dozen bytes. */
export const BODY_LIMIT_BYTES = 1024;

/** The `id` of a JSON body such as {"id":"o-1"}, or a 4xx that says what is wrong with the body. */
export function readBodyId(req: Request): string {
  return readOrderId(readJsonObject(req, '{"id":"o-1"}').id);
}

/** The `:id` of the path, or a 400 INVALID_ID. */
export function readPathId(req: Request): string {
  return readOrderId(req.params.id);
}

function readOrderId(value: unknown): string {
  const check = checkOrderId(value);
  if (!check.ok) throw httpError(400, "INVALID_ID", check.message);
  return check.id;
}

const refusalStatus = { ORDER_EXISTS: 409, INVALID_TRANSITION: 409, ORDER_NOT_FOUND: 404 } as const;

/** The HTTP error for a command `decide` refused: 409 or 404, its code and message, the refusal's details and `extra`. */
export function refusalError({ ok: _ok, code, message, ...details }: Refusal & { ok?: false }, extra: Record<string, unknown> = {}): HttpError {
  return httpError(refusalStatus[code], code, message, { ...details, ...extra });
}
