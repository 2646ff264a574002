import { PassThrough } from "node:stream";
import { Agent, request } from "undici";
import type { CascadedRow } from "./downstream.ts";
import { lineSplitter } from "./lines.ts";
import type { AckRequest, EventsReply, NodeReply, SnapshotReply, StreamReport } from "./protocol.ts";

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

/** What a fetch says besides where to read from. */
export interface FetchOptions {
  /** The log the follower follows; omit it to take whatever log the upstream has. */
  logId?: string | undefined;
  limit?: number | undefined;
  /** Long-polling: how long the upstream may hold the fetch until there is a new event. */
  waitMs?: number | undefined;
  /**
   * Batching: how long the upstream holds the fetch before it answers, so that the writes of that
   * time come in one reply (not while a write waits for followers). On a stream: the least time
   * between two lines while writes stream in. The follower's BATCH_WAIT_MS.
   */
  batchWaitMs?: number | undefined;
  /** The follower's name, so the upstream can track it (its progress report). */
  follower?: string | undefined;
  /** Every offset below this one is applied (its progress report). */
  applied?: number | undefined;
  /** The followers below this one, to report up the chain (see downstream.ts). */
  downstream?: CascadedRow[] | undefined;
  /** The latest leadership the follower has seen (see epochs.ts): an older upstream refuses, a diverged log is told where to cut. */
  epoch?: number | undefined;
  /** Where the leader of that epoch takes writes, if the follower knows: a replaced leader that hears of the epoch can say where writes go now. */
  epochLeader?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** A stream of the upstream's log, open (`POST /replication/stream`). */
export interface EventStream<E> {
  /**
   * The replies as the upstream sends them, one per batch of events and one per heartbeat (no
   * events), each as a fetch's reply. Ends when the upstream ends the stream (the follower opens
   * another, which is checked again); throws one of the two errors above if it fails.
   */
  replies: AsyncIterable<EventsReply<E>>;
  /** Sends a progress report up the stream. */
  report(progress: StreamReport): void;
  /** Closes the stream. */
  close(): void;
}

/** How a follower reads its upstream's log (the leader's, or another follower's). */
export interface LogClient<E, S = unknown> {
  /** The upstream's base URL (LEADER_URL). */
  readonly leaderUrl: string;
  /**
   * Fetches events from offset `from` (inclusive). Rejects with one of the two errors above (or
   * the abort, if `signal` aborts).
   */
  fetchEvents(from: number, options?: FetchOptions): Promise<EventsReply<E>>;
  /**
   * Opens a stream from offset `from` (STREAM=1): one request that stays open, the upstream
   * sending each batch as it has it and the follower its progress the other way. Resolves once
   * the upstream accepts it; rejects as `fetchEvents` does (a refusal is the same JSON 4xx).
   */
  openStream(from: number, options: FetchOptions): Promise<EventStream<E>>;
  /** Fetches the upstream's snapshot. Rejects with one of the two errors above. */
  fetchSnapshot(options?: { follower?: string | undefined; signal?: AbortSignal | undefined }): Promise<SnapshotReply<S>>;
  /** Reports progress between fetches (`POST /replication/ack`). Rejects with one of the two errors above (or the abort). */
  sendAck(ack: AckRequest, options?: { signal?: AbortSignal | undefined }): Promise<void>;
  /** Asks what node answers there (`GET /replication`), before following it. Rejects with one of the two errors above (BAD_REPLY: not a node of this lab). */
  describeNode(options?: { signal?: AbortSignal | undefined }): Promise<NodeReply>;
  /** Closes the kept-alive connections. */
  close(): Promise<void>;
}

/**
 * Creates the follower's HTTP client for `GET /events`. It keeps its connection to the leader
 * alive between polls (undici's Agent), so a poll costs one request, not a TCP handshake too.
 * `autoSelectFamily` tries every address a name resolves to, so `http://localhost:3000` reaches a
 * leader bound to 127.0.0.1 alone even where localhost resolves to ::1 first.
 */
export function createLogClient<E, S = unknown>({ leaderUrl }: { leaderUrl: string }): LogClient<E, S> {
  const agent = new Agent({ keepAliveTimeout: 30_000, autoSelectFamily: true, headersTimeout: 60_000, bodyTimeout: 60_000 });

  const unreachable = (err: unknown) => new LeaderUnreachableError(leaderUrl, (err as { code?: string }).code ?? (err as Error).message, { cause: err });

  /** Sends a request and parses its JSON reply; any answer but 200 becomes a LeaderReplyError with the upstream's code. */
  const getJson = async (url: URL, signal: AbortSignal | undefined, json?: unknown): Promise<unknown> => {
    let status: number;
    let text: string;
    try {
      const reply = await request(url, {
        dispatcher: agent,
        signal,
        ...(json === undefined ? {} : { method: "POST" as const, headers: { "content-type": "application/json" }, body: JSON.stringify(json) }),
      });
      status = reply.statusCode;
      text = await reply.body.text();
    } catch (err) {
      if (signal?.aborted) throw err;
      throw unreachable(err);
    }
    if (status !== 200) throw replyError(status, text);
    try {
      return JSON.parse(text);
    } catch {
      throw new LeaderReplyError(status, "BAD_REPLY", `leader replied ${status} with a body that is not JSON`);
    }
  };

  return {
    leaderUrl,
    async fetchEvents(from, options = {}) {
      const body = await getJson(fetchUrl(leaderUrl, "/events", from, options), options.signal);
      if (!isEventsReply(body, from)) {
        throw new LeaderReplyError(200, "BAD_REPLY", "leader's /events reply does not follow the protocol", body);
      }
      return body as EventsReply<E>;
    },
    async openStream(from, options) {
      const url = fetchUrl(leaderUrl, "/replication/stream", from, options);
      const { signal } = options;
      const up = new PassThrough();
      // The request goes out with its first line of body: the follower's position, as on a fetch.
      up.write(`${JSON.stringify({ received: from, applied: options.applied ?? 0 })}\n`);
      let reply: Awaited<ReturnType<typeof request>>;
      try {
        reply = await request(url, { dispatcher: agent, method: "POST", headers: { "content-type": "application/x-ndjson" }, body: up, signal });
      } catch (err) {
        up.destroy();
        if (signal?.aborted) throw err;
        throw unreachable(err);
      }
      if (reply.statusCode !== 200) {
        up.destroy();
        const text = await reply.body.text().catch(() => "");
        throw replyError(reply.statusCode, text);
      }
      const close = () => {
        up.end();
        reply.body.destroy();
      };
      async function* replies(): AsyncGenerator<EventsReply<E>> {
        const lines = lineSplitter();
        let expected = from;
        reply.body.setEncoding("utf8"); // a character split across two chunks is decoded whole
        try {
          for await (const chunk of reply.body) {
            for (const line of lines.push(chunk as string)) {
              let body: unknown;
              try {
                body = JSON.parse(line);
              } catch {
                throw new LeaderReplyError(200, "BAD_REPLY", "a line of the leader's stream is not JSON");
              }
              const ended = body as { ok?: unknown; status?: unknown } | null;
              if (ended?.ok === false) throw replyErrorOf(typeof ended.status === "number" ? ended.status : 409, ended);
              if (!isEventsReply(body, expected)) throw new LeaderReplyError(200, "BAD_REPLY", "a line of the leader's stream does not follow the protocol", body);
              expected = (body as EventsReply<E>).nextFrom;
              yield body as EventsReply<E>;
            }
          }
        } catch (err) {
          if (err instanceof LeaderReplyError || signal?.aborted) throw err;
          throw unreachable(err);
        } finally {
          close();
        }
      }
      return {
        replies: replies(),
        report: (progress) => void up.write(`${JSON.stringify(progress)}\n`),
        close,
      };
    },
    async fetchSnapshot({ follower, signal } = {}) {
      const url = new URL("/snapshot", leaderUrl);
      if (follower !== undefined) url.searchParams.set("follower", follower);
      const body = (await getJson(url, signal)) as Partial<SnapshotReply<S>> | null;
      if (body?.ok !== true || typeof body.logId !== "string" || !Number.isSafeInteger(body.offset) || body.state === undefined) {
        throw new LeaderReplyError(200, "BAD_REPLY", "leader's /snapshot reply does not follow the protocol", body);
      }
      return body as SnapshotReply<S>;
    },
    async sendAck(ack, { signal } = {}) {
      await getJson(new URL("/replication/ack", leaderUrl), signal, ack);
    },
    async describeNode({ signal } = {}) {
      const body = (await getJson(new URL("/replication", leaderUrl), signal)) as Partial<NodeReply> | null;
      const isNode =
        body?.ok === true &&
        typeof body.nodeId === "string" &&
        (body.role === "leader" || body.role === "follower") &&
        Array.isArray(body.chain) &&
        Number.isSafeInteger(body.epoch) &&
        typeof body.logId === "string" &&
        Number.isSafeInteger(body.head);
      if (!isNode) throw new LeaderReplyError(200, "BAD_REPLY", `what answers at ${leaderUrl}/replication is not a node of this lab`, body);
      return body as NodeReply;
    },
    close: () => agent.close(),
  };
}

/** A fetch's URL: the offset and what the follower says of itself (see protocol.ts). */
function fetchUrl(leaderUrl: string, path: string, from: number, { logId, limit, waitMs, batchWaitMs, follower, applied, downstream, epoch, epochLeader }: FetchOptions): URL {
  const url = new URL(path, leaderUrl);
  url.searchParams.set("from", String(from));
  if (logId !== undefined) url.searchParams.set("logId", logId);
  if (limit !== undefined) url.searchParams.set("limit", String(limit));
  if (waitMs) url.searchParams.set("waitMs", String(waitMs));
  if (batchWaitMs) url.searchParams.set("batchWaitMs", String(batchWaitMs));
  if (follower !== undefined) url.searchParams.set("follower", follower);
  if (applied !== undefined) url.searchParams.set("applied", String(applied));
  if (downstream?.length) url.searchParams.set("downstream", JSON.stringify(downstream));
  if (epoch !== undefined) url.searchParams.set("epoch", String(epoch));
  if (epochLeader !== undefined) url.searchParams.set("epochLeader", epochLeader);
  return url;
}

/** An error reply (a status other than 200) as a LeaderReplyError with the upstream's code. */
function replyError(status: number, text: string): LeaderReplyError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new LeaderReplyError(status, "BAD_REPLY", `leader replied ${status} with a body that is not JSON`);
  }
  return replyErrorOf(status, body);
}

/** An error reply already parsed (a reply's body, or a stream's last line) as a LeaderReplyError with the upstream's code. */
function replyErrorOf(status: number, parsed: unknown): LeaderReplyError {
  const body = parsed as { code?: unknown; error?: unknown } | null;
  const code = typeof body?.code === "string" ? body.code : "BAD_REPLY";
  const message = typeof body?.error === "string" ? body.error : `leader replied ${status}`;
  return new LeaderReplyError(status, code, message, body);
}

function isEventsReply(body: unknown, from: number): boolean {
  const b = body as Partial<EventsReply<unknown>> | null;
  return (
    typeof b === "object" &&
    b !== null &&
    b.ok === true &&
    typeof b.logId === "string" &&
    b.from === from &&
    Number.isSafeInteger(b.nextFrom) &&
    Number.isSafeInteger(b.head) &&
    Array.isArray(b.events) &&
    b.events.every((e) => typeof e === "object" && e !== null && Number.isSafeInteger((e as { offset?: unknown }).offset))
  );
}
