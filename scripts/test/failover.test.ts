import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createManualClock, type ManualClock } from "@lab/service";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { listen } from "@lab/service";
import { send, startCluster, type Cluster, type ClusterOptions } from "../cluster.ts";

/**
 * Failover, as stories told with the harness: the leader goes away, a follower is promoted to
 * lead a new epoch, the others follow it, and the old leader comes back. Every node shares a
 * manual clock and the test drives each fetch (`poll()`), so "the followers had not fetched
 * offset 4 yet" is a line in the test, not a race.
 */
const T0 = 1_700_000_000_000;
let clock: ManualClock;
let cluster: Cluster | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(options: ClusterOptions = {}) {
  clock = createManualClock(T0);
  const lines: string[] = [];
  cluster = await startCluster({ clock, run: false, followers: [{}, {}], logLine: (line) => lines.push(line), ...options });
  return Object.assign(cluster, { lines });
}

function dataDir() {
  const dir = mkdtempSync(join(tmpdir(), "lab-failover-"));
  dirs.push(dir);
  return dir;
}

/** Writes `ids` to the leader and has every follower fetch and apply them. */
async function writeAndShip(c: Cluster, ...ids: string[]) {
  for (const id of ids) expect((await c.createOrder(id)).status).toBe(201);
  await c.poll();
}

const ids = (reply: { body: { events?: { orderId: string }[] } }) => reply.body.events?.map((e) => e.orderId);

describe("a follower is promoted when the leader goes away", () => {
  it("leads a new epoch that continues the log at the same offsets", async () => {
    const c = await start();
    await writeAndShip(c, "o-1", "o-2", "o-3");
    expect((await c.readLeader("o-1")).body.epoch, "the chapter's replies, before any promotion, say nothing of epochs").toBeUndefined();
    await c.leader.stop(); // the leader is gone
    const [f1] = c.followers;

    const promoted = await f1!.promote();
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    expect(promoted.body).toMatchObject({ promoted: true, role: "leader", epoch: 1, head: 3 });

    const write = await c.createOrderAt(f1!.url, "o-4");
    expect(write.status).toBe(201);
    expect(write.body.event.offset, "the new leader's first write takes the next offset").toBe(3);
    expect(write.body.epoch, "and says which leadership wrote it").toBe(1);
    expect((await c.readAt(f1!.url, "o-1")).body.order.status, "it kept what it had").toBe("PENDING");
    const health = await sendHealth(f1!.url);
    expect(health).toMatchObject({ leader: true, role: "leader", epoch: 1, head: 4 });
    expect((await f1!.replication()).body.epochs).toEqual([{ epoch: 1, start: 3, leader: "follower-1", url: f1!.url }]);
    expect(c.lines).toContainEqual(expect.stringMatching(/\[follower-1\] promoted \(POST \/admin\/promote\): leading epoch 1 from offset 3/));
  });

  it("applies what it had received but not yet applied before it takes a write, whatever its lag", async () => {
    const c = await start({ followers: [{ applyLagMs: 60_000 }] });
    await writeAndShip(c, "o-1", "o-2");
    const [f1] = c.followers;
    expect((await f1!.status()).body.appliedOffset, "still within its lag").toBeNull();
    const promoted = await f1!.promote();
    expect(promoted.body).toMatchObject({ role: "leader", epoch: 1, head: 2 });
    expect((await c.readAt(f1!.url, "o-2")).body.order.status).toBe("PENDING");
    expect(c.lines).toContainEqual(expect.stringMatching(/applied the 2 received events still waiting, then leading epoch 1 from offset 2/));
  });

  it("a follower of the old leader follows the new one and continues from where it was, without a resync", async () => {
    const c = await start();
    await writeAndShip(c, "o-1", "o-2", "o-3");
    await c.leader.stop();
    const [f1, f2] = c.followers;
    await f1!.promote();
    await c.createOrderAt(f1!.url, "o-4");

    const followed = await f2!.follow(f1!.url);
    expect(followed.status, JSON.stringify(followed.body)).toBe(200);
    await c.poll();
    const status = (await f2!.status()).body;
    expect(status).toMatchObject({ leaderUrl: f1!.url, appliedOffset: 3, resyncs: 0, truncations: 0, epoch: 1 });
    expect((await f2!.read("o-4")).body.order.status).toBe("PENDING");
    expect((await f1!.replication()).body.followers.map((f: { id: string }) => f.id)).toEqual(["follower-2"]);
  });
});

describe("the old leader comes back", () => {
  /** Three orders everywhere, then two more the followers never fetch, then the leader goes away and follower-1 is promoted. */
  async function failOver(options: ClusterOptions = {}) {
    const c = await start(options);
    await writeAndShip(c, "o-1", "o-2", "o-3");
    expect((await c.createOrder("o-4")).status, "acknowledged, not shipped").toBe(201);
    expect((await c.createOrder("o-5")).status).toBe(201);
    await c.leader.stop();
    const [f1, f2] = c.followers;
    await f1!.promote();
    await f2!.follow(f1!.url);
    await c.createOrderAt(f1!.url, "n-1");
    await c.poll();
    return { c, f1: f1!, f2: f2! };
  }

  it("made to follow the new leader, it drops the writes it never shipped, naming each, and then holds the new leader's history", async () => {
    const { c, f1 } = await failOver();
    await c.leader.start(); // back, still thinking it leads epoch 0
    const followed = await c.leader.follow(f1.url);
    expect(followed.status, JSON.stringify(followed.body)).toBe(200);
    expect(followed.body).toMatchObject({ role: "follower", following: f1.url });
    await c.poll(); // told where the histories part: it drops offsets 3 and 4, then resyncs (it had applied them)
    await c.poll();

    expect(c.lines).toContainEqual(expect.stringMatching(/\[leader\] the leader's history never had offsets 3 to 4: dropped 2 events this follower had received \(3 OrderCreated o-4, 4 OrderCreated o-5\)/));
    expect(c.lines).toContainEqual(expect.stringMatching(/\[leader\] resync #1: some of them were applied already/));
    const status = (await c.leader.status()).body;
    expect(status).toMatchObject({ role: "follower", truncations: 1, resyncs: 1, appliedOffset: 3, epoch: 1 });
    expect((await c.readAt(c.leader.url, "o-4")).status, "the lost write is gone from the old leader too").toBe(404);
    expect((await c.readAt(c.leader.url, "n-1")).body.order.status).toBe("PENDING");
    const start = (await c.leader.replication()).body.start;
    expect(ids(await sendEvents(c.leader.url, start)), "the same history as the new leader").toEqual(ids(await sendEvents(f1.url, start)));
  });

  it("without anyone telling it, it takes writes too: two leaders (split brain)", async () => {
    const { c, f1 } = await failOver();
    await c.leader.start();
    expect((await c.createOrder("o-6")).status, "the old leader").toBe(201);
    expect((await c.createOrderAt(f1.url, "n-2")).status, "the new leader").toBe(201);
    const oldLeader = await sendHealth(c.leader.url);
    const newLeader = await sendHealth(f1.url);
    expect([oldLeader.role, oldLeader.epoch, newLeader.role, newLeader.epoch]).toEqual(["leader", 0, "leader", 1]);
    // From offset 3 on, the two logs hold different writes.
    expect(ids(await sendEvents(c.leader.url, 3))).toEqual(["o-4", "o-5", "o-6"]);
    expect(ids(await sendEvents(f1.url, 3))).toEqual(["n-1", "n-2"]);
  });

  it("once a follower of the new epoch fetches from it, it is fenced: writes get 421 NOT_LEADER naming the new leader", async () => {
    const { c, f1, f2 } = await failOver({ followers: [{}, { dataDir: dataDir() }] });
    await c.leader.start();
    // follower-2 restarts with its old LEADER_URL: it has seen epoch 1 and says so.
    await f2.stop();
    await f2.start({ leaderUrl: c.leader.url });
    await c.poll();
    const f2Status = (await f2.status()).body;
    expect(f2Status.upstreamProblem, "it refuses to follow a leader of an older epoch").toMatch(/409 STALE_EPOCH/);

    const refused = await c.createOrder("o-6");
    expect(refused.status).toBe(421);
    expect(refused.body).toMatchObject({ code: "NOT_LEADER", leader: f1.url, epoch: 1, fencedEpoch: 0 });
    expect(refused.body.error).toMatch(new RegExp(`send writes to the leader of epoch 1 at ${f1.url}`));
    expect((await c.readAt(c.leader.url, "o-6")).status, "nothing was appended").toBe(404);
    expect(await sendHealth(c.leader.url)).toMatchObject({ role: "leader", epoch: 0, fencedBy: { epoch: 1, leaderUrl: f1.url } });
    expect(c.lines).toContainEqual(expect.stringMatching(/\[leader\] fenced: follower-2 has seen epoch 1, led from .*; this node leads epoch 0 and takes no more writes/));
  });
});

describe("with DATA_DIR, roles and epochs survive restarts", () => {
  it("a promoted follower restarts as the leader of its epoch; a leader told to follow restarts following", async () => {
    const leaderDir = dataDir();
    const f1Dir = dataDir();
    const c = await start({ leaderDataDir: leaderDir, followers: [{ dataDir: f1Dir }] });
    await writeAndShip(c, "o-1", "o-2");
    const [f1] = c.followers;
    await f1!.promote();
    await c.createOrderAt(f1!.url, "n-1");
    await c.leader.follow(f1!.url);
    await c.poll();

    await f1!.stop();
    await f1!.start(); // LEADER_URL still names the old leader
    expect(await sendHealth(f1!.url)).toMatchObject({ role: "leader", epoch: 1, head: 3 });
    expect((await f1!.replication()).body.epochs).toEqual([{ epoch: 1, start: 2, leader: "follower-1", url: f1!.url }]);
    expect((await c.createOrderAt(f1!.url, "n-2")).body.event.offset).toBe(3);

    await c.leader.restart(); // apps/api would start it as a leader
    expect(c.lines).toContainEqual(expect.stringMatching(/node\.json says this node was made to follow .*: it starts following it, not leading/));
    await c.poll();
    expect((await c.leader.status()).body).toMatchObject({ role: "follower", epoch: 1, appliedOffset: 3 });
    expect((await c.createOrder("o-9")).status, "a follower refuses writes").toBe(403);
  });

  it("a fenced leader stays fenced after a restart", async () => {
    const leaderDir = dataDir();
    const c = await start({ leaderDataDir: leaderDir, followers: [{}, { dataDir: dataDir() }] });
    await writeAndShip(c, "o-1");
    await c.leader.stop();
    const [f1, f2] = c.followers;
    await f1!.promote();
    await f2!.follow(f1!.url);
    await c.poll();
    await c.leader.start();
    await f2!.stop();
    await f2!.start({ leaderUrl: c.leader.url }); // tells the old leader of epoch 1
    await c.poll();
    expect((await c.createOrder("o-2")).status).toBe(421);
    await c.leader.restart();
    expect((await c.createOrder("o-2")).status, "after the restart").toBe(421);
  });
});

describe("bad requests change nothing", () => {
  it("promoting the leader, following itself, a loop, an older epoch, something that is not a node: a clear JSON error each", async () => {
    const c = await start();
    await writeAndShip(c, "o-1");
    const [f1, f2] = c.followers;
    const before = (await f1!.status()).body;

    const promoteLeader = await sendPost(`${c.leader.url}/admin/promote`);
    expect([promoteLeader.status, promoteLeader.body.code]).toEqual([409, "ALREADY_LEADER"]);
    const self = await f1!.follow(f1!.url);
    expect([self.status, self.body.code]).toEqual([409, "REPLICATION_LOOP"]);
    // follower-2 follows follower-1; follower-1 following follower-2 would be a loop.
    await f2!.follow(f1!.url);
    await c.poll();
    const loop = await f1!.follow(f2!.url);
    expect([loop.status, loop.body.code], JSON.stringify(loop.body)).toEqual([409, "REPLICATION_LOOP"]);

    const stranger = express().get("/replication", (_req, res) => void res.json({ hello: "world" }));
    const other = await listen(stranger, { host: "127.0.0.1", port: 0 });
    try {
      const notANode = await f1!.follow(other.url);
      expect([notANode.status, notANode.body.code]).toEqual([400, "NOT_A_LAB_NODE"]);
    } finally {
      await other.close();
    }
    const gone = await f1!.follow("http://127.0.0.1:9");
    expect([gone.status, gone.body.code]).toEqual([502, "UPSTREAM_UNREACHABLE"]);
    for (const body of [{}, { leaderUrl: 5 }, { leaderUrl: "ftp://x" }, { leaderUrl: "http://a b" }, { leaderUrl: `http://${"x".repeat(300)}` }]) {
      const bad = await sendPost(`${f1!.url}/admin/follow`, body);
      expect([bad.status, bad.body.code], JSON.stringify(body)).toEqual([400, "INVALID_BODY"]);
    }
    expect((await f1!.status()).body, "nothing changed").toMatchObject({ role: "follower", leaderUrl: before.leaderUrl, appliedOffset: before.appliedOffset });

    // After a failover, the old leader (epoch 0) is no upstream for a node that has seen epoch 1.
    await c.leader.stop();
    await f1!.promote();
    await c.poll();
    await c.leader.start();
    const older = await f2!.follow(c.leader.url);
    expect([older.status, older.body.code], c.lines.slice(-5).join("\n")).toEqual([409, "STALE_EPOCH"]);
  });
});

const sendHealth = async (url: string) => (await send("GET", `${url}/health`)).body;
const sendEvents = (url: string, from: number) => send("GET", `${url}/events?from=${from}`);
const sendPost = (url: string, body?: unknown) => send("POST", url, body);
