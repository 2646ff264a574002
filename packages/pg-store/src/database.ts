import { ConfigError, httpError, type HttpError, type LogLine } from "@lab/service";
import pg from "pg";

/** Which server of the pair a node talks to: the leader writes to the primary, the follower reads the standby. */
export type Server = "primary" | "standby";

/** The pair `pnpm pg:up` starts by default. */
const DEFAULT_PG_URLS: Record<Server, string> = {
  primary: "postgres://lab@127.0.0.1:5440/lab",
  standby: "postgres://lab@127.0.0.1:5441/lab",
};

/**
 * Reads PG_URL, the server this node talks to, refusing anything but a postgres:// URL on this
 * machine: the pair trusts every connection from loopback, and the lab never reaches further.
 */
export function readPgUrl(env: Record<string, string | undefined>, server: Server): string {
  const raw = env.PG_URL?.trim() || DEFAULT_PG_URLS[server];
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`PG_URL must be a URL such as ${DEFAULT_PG_URLS[server]}, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") throw new ConfigError(`PG_URL must start with postgres://, got ${JSON.stringify(raw)}`);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) throw new ConfigError(`PG_URL must name a server on this machine (127.0.0.1 or localhost): the lab's pair listens on loopback only; got ${JSON.stringify(url.hostname)}`);
  return raw;
}

/** A server's address without credentials, for messages: `127.0.0.1:5440/lab`. */
export function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
}

/**
 * A pool of connections to one server. A connection that cannot be made within 2 s fails
 * rather than waits, so a server that is down answers 503 quickly; an idle connection the
 * server drops (it restarted) is logged and replaced, never an uncaught error.
 */
export function openPool(url: string, server: Server, logLine: LogLine): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 8, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10_000, application_name: `lab-${server === "primary" ? "leader" : "follower"}` });
  pool.on("error", (err) => logLine(`the ${server}'s connection closed: ${err.message}`));
  return pool;
}

/** Socket errors, and PostgreSQL's: connection exceptions (08...), shutting down or starting up (57P01-57P03), too many connections. */
const UNAVAILABLE_SQLSTATE = /^(08|57P0[123]$|53300$)/;
const UNAVAILABLE_CODE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "EPIPE", "ENOTFOUND"]);

/**
 * Turns "the server is not there" into a 503 that names it (PRIMARY_UNAVAILABLE or
 * STANDBY_UNAVAILABLE), and returns any other error unchanged, for the error handler to log as
 * the bug it is.
 */
export function unavailable(err: unknown, server: Server, url: string): unknown {
  const e = err as { code?: string; message?: string };
  const down =
    (typeof e?.code === "string" && (UNAVAILABLE_CODE.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code))) ||
    /Connection terminated|timeout exceeded when trying to connect|connection is closed/i.test(e?.message ?? "");
  if (!down) return err;
  const what = server === "primary" ? "the leader keeps its orders there" : "this follower reads its orders there";
  const error: HttpError = httpError(503, `${server.toUpperCase()}_UNAVAILABLE`, `the PostgreSQL ${server} at ${describeUrl(url)} does not answer (${e.code ?? e.message}); ${what}`, { server, at: describeUrl(url) });
  return error;
}

/**
 * What a node says when its server is not there at start-up: one line (a ConfigError: PG_URL
 * names nothing that answers), not a stack. Anything else is returned unchanged.
 */
export function startFailure(err: unknown, server: Server, url: string): unknown {
  const down = unavailable(err, server, url);
  return down === err ? err : new ConfigError(`${(down as Error).message}; is it running? (pnpm pg:up starts the pair)`);
}
