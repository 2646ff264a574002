import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpTransport, RAFT_MESSAGES_PATH } from "./http-transport.ts";
import type { Envelope } from "./messages.ts";

/** A peer on 127.0.0.1, port 0, answering every POST with `answer.status` (and `answer.error`) and recording what came. */
async function peer(status = 204, error?: string) {
  const answer = { status, error };
  const got: { url: string; body: unknown }[] = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      got.push({ url: req.url!, body: JSON.parse(text) });
      res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.error ? JSON.stringify({ ok: false, error: answer.error }) : undefined);
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

const heartbeat = (to: string): Envelope<string> => ({ type: "AppendEntries", from: "n1", to, term: 2, leaderId: "n1", prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, round: 1 });

describe("Raft messages over HTTP", () => {
  it("POSTs each message with its group to the peer's /raft/messages", async () => {
    const n2 = await peer();
    const transport = createHttpTransport<string>({ group: "g1", urls: new Map([["n2", n2.url]]) });
    transports.push(transport);
    transport.send(heartbeat("n2"));
    await transport.whenIdle();
    expect(n2.got).toEqual([{ url: RAFT_MESSAGES_PATH, body: { group: "g1", message: heartbeat("n2") } }]);
  });

  it("says once that a peer is unreachable, not once a message", async () => {
    const n2 = await peer();
    await n2.close();
    const lines: string[] = [];
    const transport = createHttpTransport<string>({ group: "g1", urls: new Map([["n2", n2.url]]), logLine: (l) => lines.push(l) });
    transports.push(transport);
    for (let i = 0; i < 3; i++) transport.send(heartbeat("n2"));
    await transport.whenIdle();
    expect(lines).toEqual([expect.stringMatching(/^n2 at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\); its messages are dropped until it answers$/)]);
  });

  it("says what a peer that refuses a message answered, and when it answers again", async () => {
    const n2 = await peer(409, "this node is in group g2");
    const lines: string[] = [];
    const transport = createHttpTransport<string>({ group: "g1", urls: new Map([["n2", n2.url]]), logLine: (l) => lines.push(l) });
    transports.push(transport);
    transport.send(heartbeat("n2"));
    transport.send(heartbeat("n2"));
    await transport.whenIdle();
    n2.answer.status = 204;
    n2.answer.error = undefined;
    transport.send(heartbeat("n2"));
    await transport.whenIdle();
    expect(lines).toEqual([expect.stringMatching(/^n2 at \S+ refused AppendEntries: 409 this node is in group g2$/), "n2 answers again"]);
  });
});
