import type { ErrorRequestHandler, RequestHandler } from "express";

/**
 * An expected failure of a request, with the HTTP status, a stable code a program can switch on,
 * and a sentence a person can read. Routes throw it; the one error handler turns it into JSON.
 */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra fields for the JSON reply, such as the current status or log range. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Shorthand for `new HttpError(...)`, for `throw httpError(404, "NOT_FOUND", "...")`. */
export function httpError(status: number, code: string, message: string, details?: Record<string, unknown>): HttpError {
  return new HttpError(status, code, message, details);
}

/** A JSON 404 for any route nobody handles; register it after the routes. */
export const notFoundRoute: RequestHandler = (req, res) => {
  res.status(404).json({ ok: false, code: "NO_SUCH_ROUTE", error: `no route for ${req.method} ${req.path}` });
};

/** body-parser's error types, in words a learner can act on. */
const bodyErrors: Record<string, { status: number; code: string; message: (err: { limit?: number }) => string }> = {
  "entity.parse.failed": { status: 400, code: "INVALID_JSON", message: () => "the body is not a valid JSON object (send one such as {\"id\":\"o-1\"})" },
  "entity.too.large": { status: 413, code: "BODY_TOO_LARGE", message: (e) => `the body is larger than the ${e.limit ?? "allowed"}-byte limit` },
  "entity.verify.failed": { status: 400, code: "INVALID_BODY", message: () => "the body was refused" },
  "encoding.unsupported": { status: 415, code: "UNSUPPORTED_ENCODING", message: () => "the body's Content-Encoding is not supported" },
  "charset.unsupported": { status: 415, code: "UNSUPPORTED_CHARSET", message: () => "the body's charset is not supported; send UTF-8" },
  "request.aborted": { status: 400, code: "REQUEST_ABORTED", message: () => "the client went away before sending the whole body" },
  "request.size.invalid": { status: 400, code: "INVALID_BODY", message: () => "the body's length does not match Content-Length" },
};

/**
 * The one error handler, registered last. Every failure becomes `{ok: false, code, error}` with a
 * 4xx or 5xx status; no HTML page and no stack trace reaches a client. Unexpected errors are
 * logged with their stack through `log`, so a bug is loud on the server and vague on the wire.
 */
export function jsonErrorHandler(log: (line: string) => void): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof HttpError) {
      res.status(err.status).json({ ok: false, code: err.code, error: err.message, ...err.details });
      return;
    }
    const known = typeof err?.type === "string" ? bodyErrors[err.type] : undefined;
    if (known) {
      res.status(known.status).json({ ok: false, code: known.code, error: known.message(err) });
      return;
    }
    const status = Number(err?.status ?? err?.statusCode);
    if (status >= 400 && status < 500) {
      // Express and its parsers mark client errors (such as a malformed %-escape in the path).
      res.status(status).json({ ok: false, code: "BAD_REQUEST", error: String(err.message ?? "bad request") });
      return;
    }
    log(`unexpected error: ${err?.stack ?? err}`);
    res.status(500).json({ ok: false, code: "INTERNAL", error: "internal error (see the server's log)" });
  };
}
