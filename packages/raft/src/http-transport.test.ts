import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpTransport, RAFT_MESSAGES_PATH, type HttpTransportOptions } from "./http-transport.ts";
import type { Envelope } from "./messages.ts";

/** A peer on 127.0.0.1, port 0, answering every POST with `answer.status` and `answer.body` (text, or none) and recording what came. */
async function peer(status = 204, body?: string) {
  const answer = { status, body };
  const got: { url: string; body: unknown }[] = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      got.push({ url: req.url!, body: JSON.parse(text) });
      res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { got, answer, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

const servers: Server[] = [];
const transports: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  for (const server of servers.splice(0)) server.closeAllConnections(), server.close();
});

/**
 * n1's transport to its peers at `urls`, recording the log lines and what it hands to the node.
 * The node's flush runs when the test says: `flush()` resolves every `receive` so far.
 */
function transportOf(urls: Record<string, string>, more: Partial<HttpTransportOptions<string>> = {}) {
  const received: Envelope<string>[] = [];
  const lines: string[] = [];
  let flushes: (() => void)[] = [];
  const transport = createHttpTransport<string>({
    id: "n1",
    group: "g1",
    urls: new Map(Object.entries(urls)),
    checkCommand: (c) => (typeof c === "string" ? undefined : `must be a string, got ${JSON.stringify(c)}`),
    receive(message) {
      received.push(message);
      return new Promise((resolve) => flushes.push(resolve));
    },
    logLine: (line) => lines.push(line),
    ...more,
  });
  transports.push(transport);
  const flush = () => flushes.splice(0).forEach((resolve) => resolve());
  return { transport, received, lines, flush };
}

const heartbeat = (to: string): Envelope<string> => ({ type: "AppendEntries", from: "n1", to, term: 2, leaderId: "n1", prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, round: 1 });
const reply = (from: string, more: Record<string, unknown> = {}) => ({ type: "AppendEntriesReply", from, to: "n1", term: 2, success: true, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, round: 1, ...more }) as Envelope<string>;
const vote = (from: string): Envelope<string> => ({ type: "RequestVote", from, to: "n1", term: 3, candidateId: from, lastLogIndex: 0, lastLogTerm: 0 });
const answerWith = (messages: unknown[], group = "g1") => JSON.stringify({ group, messages });

describe("Raft messages over HTTP", () => {
  it("POSTs each message with its group to the peer's /raft/messages", async () => {
    const n2 = await peer();
    const { transport } = transportOf({ n2: n2.url });
    transport.send(heartbeat("n2"));
    await transport.whenIdle();
    expect(n2.got).toEqual([{ url: RAFT_MESSAGES_PATH, body: { group: "g1", message: heartbeat("n2") } }]);
  });

  it("says once that a peer is unreachable, not once a message", async () => {
    const n2 = await peer();
    await n2.close();
    const { transport, lines } = transportOf({ n2: n2.url });
    for (let i = 0; i < 3; i++) transport.send(heartbeat("n2"));
    await transport.whenIdle();
    expect(lines).toEqual([expect.stringMatching(/^n2 at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\); its messages are dropped until it answers$/)]);
  });

  it("says what a peer that refuses a message answered, and when it answers again", async () => {
    const n2 = await peer(409, JSON.stringify({ ok: false, error: "this node is in group g2" }));
    const { transport, lines } = transportOf({ n2: n2.url });
    transport.send(heartbeat("n2"));
    transport.send(heartbeat("n2"));
    await transport.whenIdle();
    n2.answer.status = 204;
    n2.answer.body = undefined;
    transport.send(heartbeat("n2"));
    await transport.whenIdle();
    expect(lines).toEqual([expect.stringMatching(/^n2 at \S+ refused AppendEntries: 409 this node is in group g2$/), "n2 answers again"]);
  });
});

describe("a reply rides back in the response to the message it answers", () => {
  it("hands the messages of a 200 response to the node before the POST stops counting as pending", async () => {
    const n2 = await peer(200, answerWith([reply("n2")]));
    const { transport, received, lines } = transportOf({ n2: n2.url });
    transport.send(heartbeat("n2"));
    expect(transport.pending()).toBe(1);
    await transport.whenIdle();
    expect(received, "taken in as if n2 had POSTed it").toEqual([reply("n2")]);
    expect(lines).toEqual([]);
  });

  it("puts a message for a peer in the response to an open POST from it, in one of several, and POSTs it once none is open", async () => {
    const n2 = await peer();
    const { transport, received, flush } = transportOf({ n2: n2.url });
    const answers = [transport.answer(vote("n2")), transport.answer(vote("n2"))];
    expect(received, "handed to the node at once").toEqual([vote("n2"), vote("n2")]);
    transport.send(reply("n1", { from: "n1", to: "n2" }));
    flush();
    expect((await Promise.all(answers)).flat(), "in exactly one response").toEqual([reply("n1", { from: "n1", to: "n2" })]);
    expect(n2.got).toEqual([]);
    transport.send(reply("n1", { from: "n1", to: "n2", round: 2 }));
    await transport.whenIdle();
    expect(n2.got.map((g) => g.body)).toEqual([{ group: "g1", message: reply("n1", { from: "n1", to: "n2", round: 2 }) }]);
  });

  it("answers nothing when nothing was sent to the POST's sender, and POSTs what is for another peer", async () => {
    const n3 = await peer();
    const { transport, flush } = transportOf({ n2: "http://127.0.0.1:1", n3: n3.url });
    const answer = transport.answer(vote("n2"));
    transport.send(heartbeat("n3"));
    flush();
    expect(await answer).toEqual([]);
    await transport.whenIdle();
    expect(n3.got).toHaveLength(1);
  });

  it.each([
    ["a body that is not JSON", "{", /^n2 at \S+ answered with a body that is not \{"group":"g1","messages":\[\.\.\.\]\}; it is dropped$/, []],
    ["a body of another group", answerWith([reply("n2")], "g2"), /^n2 at \S+ answered with a body that is not \{"group":"g1","messages":\[\.\.\.\]\}; it is dropped$/, []],
    ["a body without a list of messages", JSON.stringify({ group: "g1", messages: reply("n2") }), /answered with a body that is not/, []],
    ["a malformed message", answerWith([reply("n2", { term: "x" }), reply("n2")]), /does not take \(AppendEntriesReply\.term must be a whole number of 0 or more, got "x"\); it is dropped$/, [reply("n2")]],
    ["a message with a bad command", answerWith([{ ...heartbeat("n1"), from: "n2", leaderId: "n2", entries: [{ term: 2, command: 7 }] }, reply("n2")]), /does not take \(AppendEntries\.entries \[0\]\.command must be a string, got 7\)/, [reply("n2")]],
    ["a message from a node that is not a peer", answerWith([reply("n9"), reply("n2")]), /does not take \(n9 is not a peer of n1 \(its peers: n2, n3\)\)/, [reply("n2")]],
    ["a message from another peer than the one answering", answerWith([reply("n3"), reply("n2")]), /does not take \(it is from n3\)/, [reply("n2")]],
    ["a message for another node", answerWith([reply("n2", { to: "n3" }), reply("n2")]), /does not take \(the message is for n3, and this is n1\)/, [reply("n2")]],
  ])("drops %s in a response, saying so once, and takes the good messages beside it", async (_what, body, line, taken) => {
    const n2 = await peer(200, body);
    const { transport, received, lines } = transportOf({ n2: n2.url, n3: "http://127.0.0.1:1" });
    transport.send(heartbeat("n2"));
    await transport.whenIdle();
    transport.send(heartbeat("n2"));
    await transport.whenIdle();
    expect(lines).toEqual([expect.stringMatching(line)]);
    expect(received, "taken in from the two responses").toEqual([...taken, ...taken]);
  });
});

describe("a node cut off", () => {
  it("sends nothing, takes nothing from the response to a POST it sent before, and puts nothing in the response to one it took in", async () => {
    let cut = false;
    const n2 = await peer(200, answerWith([reply("n2")]));
    const { transport, received, flush } = transportOf({ n2: n2.url }, { disconnected: () => cut });
    transport.send(heartbeat("n2"));
    cut = true;
    await transport.whenIdle();
    expect(received, "taken from the response that came after the cut").toEqual([]);
    transport.send(heartbeat("n2"));
    await transport.whenIdle();
    expect(n2.got, "POSTed after the cut").toHaveLength(1);

    cut = false;
    const answer = transport.answer(vote("n2"));
    transport.send(reply("n1", { from: "n1", to: "n2" }));
    cut = true;
    transport.send(reply("n1", { from: "n1", to: "n2", round: 2 }));
    flush();
    expect(await answer, "in the response once cut off").toEqual([]);
    expect(n2.got).toHaveLength(1);
  });
});
