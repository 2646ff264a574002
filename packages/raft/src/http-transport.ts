import { Agent, request } from "undici";
import type { Envelope } from "./messages.ts";
import { parseIncoming } from "./parse-message.ts";

/** The path every node takes Raft messages at. */
export const RAFT_MESSAGES_PATH = "/raft/messages";

/** What a POST to RAFT_MESSAGES_PATH carries: the message, and the group it belongs to. */
export interface MessageBody<C> {
  group: string;
  message: Envelope<C>;
}

/** What a 200 answer to that POST carries: the messages its receiver sent back to the sender meanwhile. */
export interface AnswerBody<C> {
  group: string;
  messages: Envelope<C>[];
}

export interface HttpTransportOptions<C> {
  /** This node's id: a message in a response must be addressed to it. */
  id: string;
  /** The group's id: a node of another group refuses the message. */
  group: string;
  /** Every other member's base URL, by id. */
  urls: ReadonlyMap<string, string>;
  /** What a command in an entry must be (see parse-message.ts), as the route checks it. */
  checkCommand(command: unknown): string | undefined;
  /** Hands a message to the node (the server's `receive`): resolves once the flush that took it in has run. */
  receive(message: Envelope<C>): Promise<void>;
  /** Whether the node is cut off just now (eliben/raft's DisconnectPeer): then nothing is sent, nor put in a response, nor taken from one. */
  disconnected?: (() => boolean) | undefined;
  /** How long a message may take to be answered before it counts as lost. */
  timeoutMs?: number | undefined;
  /** At most this many messages on their way to one peer; more are dropped (Raft sends again). */
  maxInFlight?: number | undefined;
  /** One line each time a peer stops answering, answers again, refuses what it is sent, or answers with what this node does not take. */
  logLine?: ((line: string) => void) | undefined;
}

/**
 * Carries Raft messages over HTTP: a message is a POST to the peer's RAFT_MESSAGES_PATH. The
 * peer holds the response open until its next flush has run, and whatever that flush sends back
 * to the sender (the AppendEntriesReply to an AppendEntries, a vote) rides in the response, 200
 * `{group, messages}`, or 204 if there is none. So an AppendEntries and its reply cost one request
 * and its response instead of two requests, as a reply is an RPC's return value in eliben/raft.
 * The node still never waits for an answer: a message to a peer that has no POST open here is
 * POSTed on its own, a message may ride in any open POST from its peer, and one that cannot be
 * delivered is dropped, as the network may drop one: heartbeats and the leader's retries repair
 * that. Connections to each peer are kept alive (undici's Agent).
 */
export function createHttpTransport<C>({ id, group, urls, checkCommand, receive, disconnected = () => false, timeoutMs = 1_000, maxInFlight = 64, logLine = () => {} }: HttpTransportOptions<C>) {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 8, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } });
  const receiver = { id, peers: new Set(urls.keys()), checkCommand };
  /** The POSTs taken in and not answered yet: a message to their sender rides back in one of them. */
  const open: { peer: string; messages: Envelope<C>[] }[] = [];
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

  /**
   * Hands the messages of a 200 response from `peer` to the node, each checked as the route
   * checks a POST's (and it must be from that peer); drops the rest. Returns what to say of the
   * first one dropped, if any.
   */
  function take(peer: string, url: string, text: string): string | undefined {
    if (closed || disconnected()) return undefined;
    let body: Partial<AnswerBody<unknown>> | null = null;
    try {
      body = JSON.parse(text) as Partial<AnswerBody<unknown>> | null;
    } catch {
      // not JSON: dropped below, as any body that is not an answer of this group
    }
    if (body?.group !== group || !Array.isArray(body.messages)) return `${peer} at ${url} answered with a body that is not {"group":"${group}","messages":[...]}; it is dropped`;
    let dropped: string | undefined;
    for (const value of body.messages) {
      const parsed = parseIncoming<C>(value, receiver);
      const error = !parsed.ok ? parsed.error : parsed.message.from !== peer ? `it is from ${parsed.message.from}` : undefined;
      if (parsed.ok && error === undefined) void receive(parsed.message);
      else dropped ??= `${peer} at ${url} answered with a message this node does not take (${error}); it is dropped`;
    }
    return dropped;
  }

  return {
    /** Sends a message: in the response to an open POST from its peer if there is one, else as a POST of its own. */
    send(message: Envelope<C>) {
      if (closed || disconnected()) return;
      const riding = open.find((exchange) => exchange.peer === message.to);
      if (riding) return void riding.messages.push(message);
      const url = urls.get(message.to);
      const count = inFlight.get(message.to) ?? 0;
      if (url === undefined || count >= maxInFlight) return;
      inFlight.set(message.to, count + 1);
      const body: MessageBody<C> = { group, message };
      request(`${url}${RAFT_MESSAGES_PATH}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), dispatcher: agent })
        .then(async (res) => {
          const text = await res.body.text();
          if (res.statusCode === 200) return report(message.to, take(message.to, url, text));
          if (res.statusCode < 400) return report(message.to, undefined);
          const error = (JSON.parse(text || "{}") as { error?: string }).error ?? text;
          report(message.to, `${message.to} at ${url} refused ${message.type}: ${res.statusCode} ${error}`);
        })
        .catch((err: NodeJS.ErrnoException) => {
          if (!closed) report(message.to, `${message.to} at ${url} is unreachable (${err.code ?? err.message}); its messages are dropped until it answers`);
        })
        .finally(() => settled(message.to));
    },
    /**
     * Takes in a message that came in a POST (already checked: see parse-message.ts) and resolves,
     * once the flush that took it in has run, with what goes back in that POST's response: the
     * messages sent to its sender meanwhile (none while the node is cut off).
     */
    async answer(message: Envelope<C>): Promise<Envelope<C>[]> {
      const exchange = { peer: message.from, messages: [] as Envelope<C>[] };
      open.push(exchange);
      try {
        await receive(message);
      } finally {
        open.splice(open.indexOf(exchange), 1);
      }
      return disconnected() ? [] : exchange.messages;
    },
    /** How many POSTs are on their way: a POST counts until the messages in its response are handed to the node. */
    pending: () => [...inFlight.values()].reduce((sum, n) => sum + n, 0),
    /** Resolves once no POST is on its way. */
    whenIdle: () => new Promise<void>((resolve) => ([...inFlight.values()].every((n) => n === 0) ? resolve() : idle.push(resolve))),
    /** Drops what is on its way and closes the kept-alive connections. */
    async close() {
      closed = true;
      await agent.destroy();
    },
  };
}
