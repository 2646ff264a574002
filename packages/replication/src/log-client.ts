import { Agent, request } from "undici";
import type { EventsReply } from "./protocol.ts";

/** The leader could not be reached at all: refused, reset, timed out, unresolvable. */
export class LeaderUnreachableError extends Error {
  override name = "LeaderUnreachableError";
  constructor(
    readonly leaderUrl: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`leader at ${leaderUrl} is unreachable (${reason})`, options);
  }
}

/** The leader answered, but not with events: an error reply, or something that is not the protocol. */
export class LeaderReplyError extends Error {
  override name = "LeaderReplyError";
  constructor(
    readonly status: number,
    /** The error code from the leader's JSON (`OFFSET_OUT_OF_RANGE`, ...), or `BAD_REPLY`. */
    readonly code: string,
    message: string,
    /** The leader's JSON body, when there was one. */
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/** How a follower reads the leader's log. */
export interface LogClient<E> {
  readonly leaderUrl: string;
  /** Fetches events from offset `from` (inclusive). Rejects with one of the two errors above. */
  fetchEvents(from: number, options?: { limit?: number; signal?: AbortSignal }): Promise<EventsReply<E>>;
  /** Closes the kept-alive connections. */
  close(): Promise<void>;
}

/**
 * Creates the follower's HTTP client for `GET /events`. It keeps its connection to the leader
 * alive between polls (undici's Agent), so a poll costs one request, not a TCP handshake too.
 * `autoSelectFamily` tries every address a name resolves to, so `http://localhost:3000` reaches a
 * leader bound to 127.0.0.1 alone even where localhost resolves to ::1 first.
 */
export function createLogClient<E>({ leaderUrl }: { leaderUrl: string }): LogClient<E> {
  const agent = new Agent({ keepAliveTimeout: 30_000, autoSelectFamily: true, headersTimeout: 30_000, bodyTimeout: 30_000 });
  return {
    leaderUrl,
    async fetchEvents(from, { limit, signal } = {}) {
      const url = new URL("/events", leaderUrl);
      url.searchParams.set("from", String(from));
      if (limit !== undefined) url.searchParams.set("limit", String(limit));
      let status: number;
      let body: unknown;
      try {
        const reply = await request(url, { dispatcher: agent, signal });
        status = reply.statusCode;
        const text = await reply.body.text();
        try {
          body = JSON.parse(text);
        } catch {
          throw new LeaderReplyError(status, "BAD_REPLY", `leader replied ${status} with a body that is not JSON`);
        }
      } catch (err) {
        if (err instanceof LeaderReplyError || signal?.aborted) throw err;
        const reason = (err as { code?: string }).code ?? (err as Error).message;
        throw new LeaderUnreachableError(leaderUrl, reason, { cause: err });
      }
      if (status !== 200) {
        const b = body as { code?: unknown; error?: unknown } | null;
        const code = typeof b?.code === "string" ? b.code : "BAD_REPLY";
        const message = typeof b?.error === "string" ? b.error : `leader replied ${status}`;
        throw new LeaderReplyError(status, code, message, body);
      }
      if (!isEventsReply(body, from)) {
        throw new LeaderReplyError(status, "BAD_REPLY", "leader's /events reply does not follow the protocol", body);
      }
      return body as EventsReply<E>;
    },
    close: () => agent.close(),
  };
}

function isEventsReply(body: unknown, from: number): boolean {
  const b = body as Partial<EventsReply<unknown>> | null;
  return (
    typeof b === "object" &&
    b !== null &&
    b.ok === true &&
    b.from === from &&
    Number.isSafeInteger(b.nextFrom) &&
    Number.isSafeInteger(b.head) &&
    Array.isArray(b.events) &&
    b.events.every((e) => typeof e === "object" && e !== null && Number.isSafeInteger((e as { offset?: unknown }).offset))
  );
}
