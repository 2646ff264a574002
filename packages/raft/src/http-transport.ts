import { Agent, request } from "undici";
import type { Envelope } from "./messages.ts";

/** The path every node takes Raft messages at. */
export const RAFT_MESSAGES_PATH = "/raft/messages";

/** What a POST to RAFT_MESSAGES_PATH carries: the message, and the group it belongs to. */
export interface MessageBody<C> {
  group: string;
  message: Envelope<C>;
}

export interface HttpTransportOptions {
  /** The group's id: a node of another group refuses the message. */
  group: string;
  /** Every other member's base URL, by id. */
  urls: ReadonlyMap<string, string>;
  /** How long a message may take to be answered before it counts as lost. */
  timeoutMs?: number | undefined;
  /** At most this many messages on their way to one peer; more are dropped (Raft sends again). */
  maxInFlight?: number | undefined;
  /** One line each time a peer stops answering, answers again, or refuses what it is sent. */
  logLine?: ((line: string) => void) | undefined;
}

/**
 * Carries Raft messages over HTTP: each message is one POST to the peer's RAFT_MESSAGES_PATH,
 * answered at once with 204 (or a JSON 4xx). A reply is a message too, POSTed back the same way:
 * the node is a state machine that never waits for an answer, so the wire does not either. A
 * message that cannot be delivered is dropped, as the network may drop one: heartbeats and the
 * leader's retries repair that. Connections to each peer are kept alive (undici's Agent).
 */
export function createHttpTransport<C>({ group, urls, timeoutMs = 1_000, maxInFlight = 64, logLine = () => {} }: HttpTransportOptions) {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 8, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } });
  const inFlight = new Map<string, number>();
  let idle: (() => void)[] = [];
  const settled = (peer: string) => {
    inFlight.set(peer, inFlight.get(peer)! - 1);
    if ([...inFlight.values()].every((n) => n === 0)) for (const resolve of idle.splice(0)) resolve();
  };
  /** What was last said of each peer, so that a line is logged only when it changes. */
  const said = new Map<string, string>();
  let closed = false;

  const report = (peer: string, line: string | undefined) => {
    if (said.get(peer) === (line ?? "ok")) return;
    if (line) logLine(line);
    else if (said.has(peer)) logLine(`${peer} answers again`);
    said.set(peer, line ?? "ok");
  };

  return {
    send(message: Envelope<C>) {
      const url = urls.get(message.to);
      const count = inFlight.get(message.to) ?? 0;
      if (closed || url === undefined || count >= maxInFlight) return;
      inFlight.set(message.to, count + 1);
      const body: MessageBody<C> = { group, message };
      request(`${url}${RAFT_MESSAGES_PATH}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), dispatcher: agent })
        .then(async (res) => {
          const text = await res.body.text();
          if (res.statusCode < 400) return report(message.to, undefined);
          const error = (JSON.parse(text || "{}") as { error?: string }).error ?? text;
          report(message.to, `${message.to} at ${url} refused ${message.type}: ${res.statusCode} ${error}`);
        })
        .catch((err: NodeJS.ErrnoException) => {
          if (!closed) report(message.to, `${message.to} at ${url} is unreachable (${err.code ?? err.message}); its messages are dropped until it answers`);
        })
        .finally(() => settled(message.to));
    },
    /** How many messages are on their way. */
    pending: () => [...inFlight.values()].reduce((sum, n) => sum + n, 0),
    /** Resolves once no message is on its way. */
    whenIdle: () => new Promise<void>((resolve) => ([...inFlight.values()].every((n) => n === 0) ? resolve() : idle.push(resolve))),
    /** Drops what is on its way and closes the kept-alive connections. */
    async close() {
      closed = true;
      await agent.destroy();
    },
  };
}
