import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createManualClock } from "@lab/service";
import { afterEach, describe, expect, it } from "vitest";
import { readRaftConfig } from "./config.ts";
import { buildRaftNode } from "./raft-node.ts";
import { startGroup, type Group, type GroupOptions } from "./group.ts";

/**
 * The orders on a Raft group of three real nodes (HTTP on 127.0.0.1, port 0), all on one manual
 * clock: elections happen when the test moves time, and every step waits for a quiet network,
 * not for the wall clock.
 */
const T0 = 1_700_000_000_000;
let group: Group | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await group?.close();
  group = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(options: Omit<GroupOptions, "clock"> = {}) {
  group = await startGroup({ clock: createManualClock(T0), ...options });
  return group;
}
const order = (g: Group, at: string, id: string, consistency = "local") => g.send("GET", `${g.urlOf(at)}/orders/${id}?consistency=${consistency}`);

describe("a group of three elects a leader", () => {
  it("once an election timeout passes; /status shows term, role, votedFor, log length, commitIndex, lastApplied, and the leader each peer's nextIndex and matchIndex", async () => {
    const g = await start();
    expect((await g.status("n1")).role, "before any timeout").toBe("follower");
    const leader = await g.elect();
    expect(leader).toBe("n1");
    await g.advance(50); // a heartbeat: the followers learn the no-op is committed
    expect(await g.status("n1")).toMatchObject({
      ok: true,
      id: "n1",
      role: "leader",
      currentTerm: 1,
      votedFor: "n1",
      leaderId: "n1",
      leaderUrl: g.urlOf("n1"),
      logLength: 1,
      commitIndex: 1,
      lastApplied: 1,
      electionTimeoutMs: { min: 150, max: 300 },
      heartbeatIntervalMs: 50,
      peers: [
        { id: "n2", url: g.urlOf("n2"), nextIndex: 2, matchIndex: 1 },
        { id: "n3", url: g.urlOf("n3"), nextIndex: 2, matchIndex: 1 },
      ],
    });
    const follower = await g.status("n2");
    expect(follower).toMatchObject({ role: "follower", currentTerm: 1, votedFor: "n1", leaderUrl: g.urlOf("n1"), logLength: 1, commitIndex: 1, lastApplied: 1 });
    expect(follower.peers, "a follower's status has no peers' progress").toBeUndefined();
    expect(g.lines.filter((l) => l.startsWith("[n1]") && l.includes("won the election"))).toHaveLength(1);
  });
});

describe("writes", () => {
  it("the leader acknowledges a write once it is committed, and every node applies it", async () => {
    const g = await start();
    const leader = await g.elect();
    const created = await g.send("POST", `${g.urlOf(leader)}/orders`, { id: "o-1" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ ok: true, order: { id: "o-1", status: "PENDING", updatedAt: T0 + 150 }, committed: { index: 2, term: 1 } });
    await g.quiet();
    for (const id of g.ids) expect((await order(g, id, "o-1")).body.order, `o-1 on ${id}`).toEqual(created.body.order);
    const confirmed = await g.send("POST", `${g.urlOf(leader)}/orders/o-1/confirm`);
    expect(confirmed.body).toMatchObject({ order: { status: "CONFIRMED" }, committed: { index: 3 } });
  });

  it("a follower answers 421 NOT_LEADER with the leader's URL, and none before a leader is known", async () => {
    const g = await start();
    const early = await g.send("POST", `${g.urlOf("n2")}/orders`, { id: "o-1" });
    expect(early.status).toBe(421);
    expect(early.body).toMatchObject({ ok: false, code: "NOT_LEADER", leader: null, leaderId: null });
    await g.elect();
    const later = await g.send("POST", `${g.urlOf("n2")}/orders`, { id: "o-1" });
    expect(later.status).toBe(421);
    expect(later.body).toMatchObject({ code: "NOT_LEADER", leader: g.urlOf("n1"), leaderId: "n1" });
    expect(later.body.error).toContain(`send it to the leader, n1 at ${g.urlOf("n1")}`);
    expect((await order(g, "n1", "o-1")).status, "nothing was written").toBe(404);
  });

  it("without a majority, a write is not acknowledged: after COMMIT_TIMEOUT_MS it gets 503, and nobody applied it", async () => {
    const g = await start({ commitTimeoutMs: 1_000 });
    const leader = await g.elect();
    await g.stop("n2");
    await g.stop("n3");
    const write = g.send("POST", `${g.urlOf(leader)}/orders`, { id: "o-1" });
    let answered = false;
    void write.then(() => (answered = true));
    await g.advance(995);
    expect(answered, "answered before the timeout").toBe(false);
    await g.advance(10);
    const reply = await write;
    expect(reply.status).toBe(503);
    expect(reply.body).toMatchObject({ ok: false, code: "COMMIT_TIMEOUT" });
    expect((await order(g, leader, "o-1")).status).toBe(404);
  });

  it("a refusal is committed like any command and answered with its code, changing nothing", async () => {
    const g = await start();
    const leader = await g.elect();
    await g.send("POST", `${g.urlOf(leader)}/orders`, { id: "o-1" });
    const again = await g.send("POST", `${g.urlOf(leader)}/orders`, { id: "o-1" });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: "ORDER_EXISTS", committed: { index: 3 } });
    expect((await g.send("POST", `${g.urlOf(leader)}/orders/nope/cancel`)).status).toBe(404);
    expect((await g.send("POST", `${g.urlOf(leader)}/orders`, { id: "a/b" })).body).toMatchObject({ code: "INVALID_ID" });
  });
});

describe("a reply rides back in the response to the message it answers", () => {
  it("while a write commits, the followers POST the leader nothing: each AppendEntriesReply comes back in the response to its AppendEntries", async () => {
    const posts = new Map<string, number>();
    let counting = false;
    const g = await start({ onRequest: (id, req) => void (counting && req.url === "/raft/messages" && posts.set(id, (posts.get(id) ?? 0) + 1)) });
    const leader = await g.elect();
    await g.quiet();
    counting = true;
    expect((await g.send("POST", `${g.urlOf(leader)}/orders`, { id: "o-1" })).status).toBe(201);
    await g.quiet();
    expect((await g.status("n3")).commitIndex, "the followers learnt of the commit too").toBe(2);
    expect(posts.get(leader) ?? 0, "POSTs to the leader's /raft/messages").toBe(0);
    for (const id of ["n2", "n3"]) expect(posts.get(id), `AppendEntries POSTed to ${id}: the entry, then its commit`).toBeGreaterThanOrEqual(2);
  });

  it("200 {group, messages} with what the node sent back; 204 when it sent nothing", async () => {
    const g = await start();
    await g.elect();
    await g.quiet();
    const { group } = await g.status("n1");
    const heartbeat = { type: "AppendEntries", from: "n1", to: "n2", term: 1, leaderId: "n1", prevLogIndex: 1, prevLogTerm: 1, entries: [], leaderCommit: 1, round: 77 };
    const answered = await g.send("POST", `${g.urlOf("n2")}/raft/messages`, { group, message: heartbeat });
    expect(answered.status).toBe(200);
    expect(answered.body).toEqual({ group, messages: [{ type: "AppendEntriesReply", from: "n2", to: "n1", term: 1, success: true, matchIndex: 1, conflictIndex: 0, conflictTerm: 0, round: 77 }] });
    const reply = { type: "AppendEntriesReply", from: "n2", to: "n1", term: 1, success: true, matchIndex: 1, conflictIndex: 0, conflictTerm: 0, round: 0 };
    expect((await g.send("POST", `${g.urlOf("n1")}/raft/messages`, { group, message: reply })).status, "a reply asks for nothing back").toBe(204);
  });
});

describe("reads say what they guarantee", () => {
  it("linearizable (the default) on the leader, after confirming it still leads; 421 on a follower, which answers local reads marked as possibly stale", async () => {
    const g = await start();
    const leader = await g.elect();
    await g.send("POST", `${g.urlOf(leader)}/orders`, { id: "o-1" });
    const read = await g.send("GET", `${g.urlOf(leader)}/orders/o-1`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ ok: true, order: { id: "o-1" }, consistency: "linearizable", node: "n1", readIndex: 2 });
    expect(read.body.guarantee).toMatch(/confirmed with a majority that it still leads/);

    const onFollower = await g.send("GET", `${g.urlOf("n2")}/orders/o-1`);
    expect(onFollower.status).toBe(421);
    expect(onFollower.body).toMatchObject({ code: "NOT_LEADER", leader: g.urlOf(leader) });
    const local = await order(g, "n2", "o-1");
    expect(local.body).toMatchObject({ consistency: "local", node: "n2", role: "follower" });
    expect(local.body.guarantee).toMatch(/possibly stale/);
    expect((await g.send("GET", `${g.urlOf("n2")}/orders/o-1?consistency=eventual`)).status).toBe(400);
  });

  it("a leader cut off from the others never answers a linearizable read; it steps down, and refuses it", async () => {
    const g = await start({ commitTimeoutMs: 1_000 });
    const leader = await g.elect();
    await g.send("POST", `${g.urlOf(leader)}/orders`, { id: "o-1" });
    await g.stop("n2");
    await g.stop("n3");
    const read = g.send("GET", `${g.urlOf(leader)}/orders/o-1`);
    await g.advance(400); // past checkQuorum: it has heard from nobody for an election timeout
    const reply = await read;
    expect(reply.status, JSON.stringify(reply.body)).toBe(421);
    expect(reply.body).toMatchObject({ ok: false, code: "NOT_LEADER", leader: null });
    expect((await order(g, leader, "o-1")).status, "the order is there, locally").toBe(200);
  });
});

describe("Raft messages from the wire", () => {
  const vote = (from: string, to: string, term = 9) => ({ type: "RequestVote", from, to, term, candidateId: from, lastLogIndex: 99, lastLogTerm: 9 });

  it.each([
    ["not JSON", () => "not json", 400, "INVALID_JSON"],
    ["without its group", () => ({ message: vote("n2", "n1") }), 409, "GROUP_MISMATCH"],
    ["of another group", () => ({ group: "0123456789ab", message: vote("n2", "n1") }), 409, "GROUP_MISMATCH"],
    ["malformed", (group: string) => ({ group, message: { ...vote("n2", "n1"), term: "x" } }), 400, "INVALID_MESSAGE"],
    ["from an unknown peer", (group: string) => ({ group, message: vote("n9", "n1") }), 403, "UNKNOWN_PEER"],
    ["for another node", (group: string) => ({ group, message: vote("n2", "n3") }), 400, "NOT_THIS_NODE"],
  ])("a message %s gets a JSON 4xx and changes nothing", async (_what, body, status, code) => {
    const g = await start();
    await g.elect();
    const before = await g.status("n1");
    const reply = await g.send("POST", `${g.urlOf("n1")}/raft/messages`, body(before.group), { "content-type": "application/json" });
    expect(reply.status).toBe(status);
    expect(reply.body).toMatchObject({ ok: false, code });
    const after = await g.status("n1");
    expect({ term: after.currentTerm, votedFor: after.votedFor, role: after.role, logLength: after.logLength }).toEqual({ term: before.currentTerm, votedFor: before.votedFor, role: before.role, logLength: before.logLength });
  });

  it("a node started with another member list is refused by the others, and says so", async () => {
    const g = await start();
    await g.elect();
    const reply = await g.send("POST", `${g.urlOf("n1")}/raft/messages`, { group: "0123456789ab", message: vote("n2", "n1") });
    expect(reply.body.error).toMatch(/^this node is n1 in group \w{12} \(n1=http:\/\/127\.0\.0\.1:\d+,.*\), and the message is of group "0123456789ab": the nodes were started with different RAFT_PEERS$/);
  });
});

describe("a node cut off from the others (POST /admin/disconnect, /admin/reconnect)", () => {
  it("takes no Raft message (503 DISCONNECTED) and sends none, still answers clients, falls behind, and catches up once reconnected", async () => {
    const g = await start();
    const leader = await g.elect();
    const cut = await g.disconnect("n3");
    expect(cut.body).toMatchObject({ ok: true, id: "n3", disconnected: true, preVote: true });
    expect((await g.disconnect("n3")).body.disconnected, "asked twice").toBe(true);
    expect(g.lines.filter((l) => l.startsWith("[n3] disconnected (POST /admin/disconnect)")), "one line, however often asked").toHaveLength(1);
    const refused = await g.send("POST", `${g.urlOf("n3")}/raft/messages`, "not even read", { "content-type": "application/json" });
    expect(refused).toMatchObject({ status: 503, body: { ok: false, code: "DISCONNECTED" } });

    expect((await g.send("POST", `${g.urlOf(leader)}/orders`, { id: "o-1" })).status, "committed by the other two").toBe(201);
    await g.advance(100);
    expect((await order(g, "n3", "o-1")).status, "n3 has not got it: a local read there is stale").toBe(404);
    expect(await g.status("n3")).toMatchObject({ currentTerm: 1, logLength: 1 });
    await g.advance(1_000); // election timeouts pass: with pre-vote it asks, is not heard, and stays in term 1
    expect(await g.status("n3")).toMatchObject({ currentTerm: 1, role: "pre-candidate" });

    expect((await g.reconnect("n3")).body.disconnected).toBe(false);
    await g.advance(100);
    expect(await g.status("n3")).toMatchObject({ role: "follower", leaderId: leader, currentTerm: 1, logLength: 2, lastApplied: 2 });
    expect((await order(g, "n3", "o-1")).status).toBe(200);
  });

  it("refuses a request a web page sent (its Origin), and stays as it was", async () => {
    const g = await start();
    await g.elect();
    for (const action of ["disconnect", "reconnect"]) {
      const reply = await g.send("POST", `${g.urlOf("n3")}/admin/${action}`, undefined, { origin: "https://example.com" });
      expect(reply, action).toMatchObject({ status: 403, body: { ok: false, code: "ADMIN_LOOPBACK_ONLY" } });
    }
    expect((await g.status("n3")).disconnected).toBe(false);
  });

  it("with PRE_VOTE=false, a node cut off stands for election at every timeout, so its term races ahead", async () => {
    const g = await start({ env: { PRE_VOTE: "false" } });
    await g.elect();
    expect((await g.disconnect("n3")).body).toMatchObject({ preVote: false, disconnected: true });
    await g.advance(1_000);
    const away = await g.status("n3");
    expect(away.role).toBe("candidate");
    expect(away.currentTerm, "after 1 s of 285 ms timeouts").toBe(1 + 3);
    expect(g.lines.filter((l) => l.startsWith("[n3]") && l.includes("standing for election"))).toHaveLength(3);
  });
});

describe("failover", () => {
  function dataDir() {
    const dir = mkdtempSync(join(tmpdir(), "raft-app-"));
    dirs.push(dir);
    return dir;
  }

  it("the leader stops: another is elected, no acknowledged write is missing, and the old one, restarted from DATA_DIR, catches up", async () => {
    const g = await start({ dataDir: dataDir() });
    const first = await g.elect();
    for (const id of ["o-1", "o-2", "o-3"]) expect((await g.send("POST", `${g.urlOf(first)}/orders`, { id })).status).toBe(201);
    await g.stop(first);
    const second = await g.elect();
    expect(second).not.toBe(first);
    const status = await g.status(second);
    expect(status.currentTerm).toBeGreaterThan(1);
    expect((await g.send("POST", `${g.urlOf(second)}/orders`, { id: "o-4" })).status).toBe(201);
    for (const id of ["o-1", "o-2", "o-3", "o-4"]) expect((await g.send("GET", `${g.urlOf(second)}/orders/${id}`)).status, id).toBe(200);

    await g.restart(first);
    expect((await g.status(first)).logLength, "its log, read back from DATA_DIR").toBe(4);
    await g.advance(100);
    const back = await g.status(first);
    expect(back).toMatchObject({ role: "follower", leaderId: second, currentTerm: status.currentTerm, logLength: status.logLength + 1, lastApplied: status.logLength + 1 });
    for (const id of ["o-1", "o-4"]) expect((await order(g, first, id)).status, `${id} on the restarted node`).toBe(200);
    expect(g.lines.filter((l) => l.startsWith(`[${first}]`)).at(-1), "its line on learning of the new term").toBe(`[${first}] term ${status.currentTerm}: following leader ${second}`);
  });

  it("a node whose DATA_DIR holds another group's state refuses to start, saying whose it is", async () => {
    const dir = dataDir();
    const g = await start({ dataDir: dir });
    await g.elect();
    await g.close();
    group = undefined;
    const other = "n1=http://127.0.0.1:4100,n2=http://127.0.0.1:4101,n3=http://127.0.0.1:4102";
    const config = readRaftConfig({ RAFT_ID: "n1", RAFT_PEERS: other, DATA_DIR: join(dir, "n1") });
    expect(() => buildRaftNode(config, { clock: createManualClock(T0), logLine: () => {} })).toThrow(
      new RegExp(`^DATA_DIR .*n1 holds the Raft state of node n1 in group \\w{12}, but this is node n1 in group ${config.group}: give each node its own DATA_DIR`),
    );
  });
});
