import type { Request } from "express";
import { httpError } from "./errors.ts";

/**
 * The JSON object `express.json()` parsed from a request, or a 4xx that says what is wrong with
 * the body: 415 when it was sent without the JSON content type (curl -d without a header), 400
 * when it is missing or not an object. `example` shows the caller what to send.
 */
export function readJsonObject(req: Request, example: string): Record<string, unknown> {
  if (req.body === undefined) {
    // express.json() leaves req.body unset when the body is not JSON.
    if (hasBody(req)) throw httpError(415, "UNSUPPORTED_MEDIA_TYPE", 'send the body as JSON with the header "Content-Type: application/json"');
    throw httpError(400, "INVALID_BODY", `the body must be a JSON object such as ${example}`);
  }
  if (typeof req.body !== "object" || req.body === null || Array.isArray(req.body)) {
    throw httpError(400, "INVALID_BODY", `the body must be a JSON object such as ${example}`);
  }
  return req.body as Record<string, unknown>;
}

function hasBody(req: Request): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}
