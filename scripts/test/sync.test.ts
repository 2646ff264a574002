import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createManualClock, type ManualClock } from "@lab/service";
import { afterEach, describe, expect, it } from "vitest";
import { send, sendJson, startCluster, type Cluster, type ClusterOptions, type Reply } from "../cluster.ts";
import { until } from "./until.ts";

/**
 * Synchronous replication: what a write waits for. Every node shares a manual clock that moves
 * only when a test says so; the followers run their own loops (long-polling), so a write reaches
 * them, and their reports reach the leader, without any time passing.
 */
const T0 = 1_700_000_000_000;
let clock: ManualClock;
let cluster: Cluster | undefined;
let lines: string[];

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function start(options: ClusterOptions) {
  clock = createManualClock(T0);
  lines = [];
  cluster = await startCluster({ clock, run: true, longPollMs: 5000, batchWaitMs: 50, logLine: (l) => lines.push(l), ...options });
  await until("the follower's fetch is held by the leader", async () => ((await cluster!.leaderHealth()).body.followersWaiting >= cluster!.followers.length ? true : undefined));
  return cluster;
}

/** Resolves once the leader holds `count` writes waiting for followers. */
const writesWaiting = (c: Cluster, count: number) => until(`${count} writes waiting for followers`, async () => ((await watch(c)).replication.writesWaiting === count ? true : undefined));
/** The leader's view as a dashboard sees it: its replication mode and the writes waiting for followers. */
const watch = async (c: Cluster) => (await sendJson("GET", `${c.leader.url}/watch`)).body as { replication: { mode: string; writesWaiting: number }; followers: { id: string; receivedOffset: number | null }[] };

describe("SYNC_ACK=applied: a write is acknowledged only once the follower has applied it", () => {
  it("a thousand writes with APPLY_LAG_MS=500, each read at once from the follower: none stale, none acknowledged before the follower applied it", async () => {
    const lagMs = 500;
    const c = await start({ applyLagMs: lagMs, sync: { replicas: 1, ack: "applied" } });
    let stale = 0;
    let early = 0;
    for (let i = 0; i < 1000; i++) {
      let answer: Reply | undefined;
      const writing = c.createOrder(`s-${i}`).then((reply) => (answer = reply));
      // The follower has received the write and told the leader so, and it still waits: only
      // the lag passing can release it. Acknowledged before that, it was released on "received".
      await until(`write ${i} in the follower's log`, () => (c.followers[0]!.node.log.head > i ? true : undefined));
      const state = await until(`write ${i} acknowledged, or waiting with the follower's receipt reported`, async () => {
        if (answer) return "acknowledged";
        const view = await watch(c);
        return view.replication.writesWaiting === 1 && view.followers[0]?.receivedOffset === i ? "waiting" : undefined;
      });
      if (state === "acknowledged") early++;
      else clock.advance(lagMs);
      const written = await writing;
      expect(written.body.replication, `write ${i}`).toMatchObject({ mode: "sync", required: 1, ack: "applied", followers: ["follower"] });
      if ((await c.readFollower(`s-${i}`)).status !== 200) stale++;
    }
    expect({ stale, early }, "reads on the follower right after the acknowledgement that did not show the write; writes acknowledged before the follower's lag had passed").toEqual({ stale: 0, early: 0 });
  }, 60_000);

  it("puts the follower's APPLY_LAG_MS into the write's latency", async () => {
    const c = await start({ applyLagMs: 500, sync: { replicas: 1, ack: "applied" } });
    const writing = c.createOrder("o-1");
    await writesWaiting(c, 1);
    clock.advance(499);
    expect((await watch(c)).replication.writesWaiting, "still waiting 1 ms before the lag has passed").toBe(1);
    clock.advance(1);
    const written = await writing;
    expect(written.body.replication).toMatchObject({ mode: "sync", followers: ["follower"], waitedMs: 500 });
    expect((await c.readFollower("o-1")).status).toBe(200);
  });
});

describe("SYNC_ACK=received with the follower down", () => {
  it("SYNC_ON_TIMEOUT=error: 504 REPLICATION_TIMEOUT after SYNC_TIMEOUT_MS, and the write is still in the leader's log", async () => {
    const c = await start({ sync: { replicas: 1, ack: "received", timeoutMs: 1000, onTimeout: "error" } });
    await c.stopFollower();
    const writing = c.createOrder("o-1");
    await writesWaiting(c, 1);
    clock.advance(1000);
    const refused = await writing;
    expect(refused.status).toBe(504);
    expect(refused.body).toMatchObject({ code: "REPLICATION_TIMEOUT", event: { offset: 0 }, replication: { mode: "sync", required: 1, followers: [] } });
    expect(refused.body.error).toMatch(/NOT rolled back: it is in the leader's log at offset 0, readable on the leader now/);
    expect((await c.readLeader("o-1")).body.order.status, "a timeout is not a rollback").toBe("PENDING");
    await c.startFollower();
    await c.expectCaughtUp();
    expect((await c.readFollower("o-1")).status, "it reaches the follower once it is back").toBe(200);
  });

  it("SYNC_ON_TIMEOUT=async: acknowledged as asynchronous, logged once; synchronous again, logged once, when the follower catches up", async () => {
    const c = await start({ sync: { replicas: 1, ack: "received", timeoutMs: 1000, onTimeout: "async" } });
    await c.stopFollower();
    const writing = c.createOrder("o-1");
    await writesWaiting(c, 1);
    clock.advance(1000);
    expect((await writing).body.replication).toMatchObject({ mode: "async", degraded: true, followers: [] });
    expect((await c.createOrder("o-2")).body.replication, "degraded: the next write does not wait").toMatchObject({ mode: "async", degraded: true, waitedMs: 0 });
    expect(lines.filter((l) => l.includes("acknowledging writes asynchronously"))).toHaveLength(1);

    await c.startFollower();
    await c.expectCaughtUp(); // it fetched both events in one reply ...
    clock.advance(50); // ... so it pauses BATCH_WAIT_MS before the fetch that reports it has them
    await until("the leader is synchronous again", async () => ((await watch(c)).replication.mode === "sync" ? true : undefined));
    expect(lines.filter((l) => l.includes("writes are synchronous again"))).toEqual([expect.stringMatching(/1 follower has caught up \(received offset 1\): writes are synchronous again/)]);
    expect((await c.createOrder("o-3")).body.replication).toMatchObject({ mode: "sync", followers: ["follower"] });
  });

  it("a follower that was down when the write came, started while it waits, releases it once it has caught up", async () => {
    const c = await start({ sync: { replicas: 1, ack: "received", timeoutMs: 10_000 } });
    await c.stopFollower();
    const writing = c.createOrder("o-1");
    await writesWaiting(c, 1);
    await c.startFollower();
    expect((await writing).body.replication).toMatchObject({ mode: "sync", followers: ["follower"], waitedMs: 0 });
  });
});

describe("SYNC_ACK=applied: a follower killed and restarted while a synchronous write waits", () => {
  it.each([
    ["in memory (no DATA_DIR): it fetches the write again", false],
    ["with a DATA_DIR: it reads the write back from its log on disk", true],
  ])("%s, applies it APPLY_LAG_MS after it is back, and that report releases the write", async (_how, withDataDir) => {
    const dataDir = withDataDir ? mkdtempSync(join(tmpdir(), "lab-sync-restart-")) : undefined;
    try {
      const c = await start({ applyLagMs: 500, followerDataDir: dataDir, sync: { replicas: 1, ack: "applied", timeoutMs: 10_000 } });
      // Its own connection: stopping the follower drops the cluster's shared ones, and this write must outlive that.
      let answer: Reply | undefined;
      void send("POST", `${c.leader.url}/orders`, { id: "o-1" }).then(
        (reply) => (answer = reply),
        (err: Error) => (answer = { status: 0, body: { error: `the write's connection failed: ${err.message}` } }),
      );
      const receivedNotApplied = async () => {
        const status = (await c.followerStatus()).body;
        return status.nextFrom === 1 && status.appliedOffset === null ? true : undefined;
      };
      await until("the follower has received o-1 but not applied it", receivedNotApplied);

      await c.stopFollower();
      clock.advance(600); // past the lag it had when it stopped: nothing applies o-1 while it is down
      expect((await watch(c)).replication.writesWaiting, "the write while the follower is down").toBe(1);
      await c.startFollower();
      await until("the restarted follower has o-1 again, not applied", receivedNotApplied);
      const resumed = lines.filter((l) => l.startsWith("[follower] resumed from checkpoint"));
      expect(resumed, "how the follower came back").toEqual(withDataDir ? [expect.stringMatching(/offset 0, 0 orders, 1 received events to apply$/)] : []);
      clock.advance(499);
      expect((await watch(c)).replication.writesWaiting, "1 ms before its lag has passed since it is back").toBe(1);
      expect(answer, "the write is not answered before the follower has applied it").toBeUndefined();
      clock.advance(1);

      const written = await until("the write is answered once the restarted follower reports o-1 applied", () => answer);
      expect(written.status, `write: got ${written.status} ${JSON.stringify(written.body)}, want 201`).toBe(201);
      expect(written.body.replication).toMatchObject({ mode: "sync", required: 1, ack: "applied", followers: ["follower"], waitedMs: 1100 });
      expect((await c.readFollower("o-1")).status, "a read on the follower right after the acknowledgement").toBe(200);
    } finally {
      await cluster?.close();
      cluster = undefined;
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("group acknowledgement", () => {
  it("sixteen writes arriving together wait on the same follower reports, not one round trip each", async () => {
    const c = await start({ sync: { replicas: 1, ack: "received" } });
    const before = (await c.followerStatus()).body;
    const writes = await Promise.all(Array.from({ length: 16 }, (_, i) => c.createOrder(`g-${i}`)));
    for (const w of writes) expect(w.body.replication).toMatchObject({ mode: "sync" });
    const after = (await c.followerStatus()).body;
    const requests = after.fetches - before.fetches + (after.acks - before.acks);
    expect(requests, "follower requests that acknowledged 16 writes").toBeLessThanOrEqual(6);
  });
});

describe("POST /wait (Redis's WAIT) on an asynchronous leader", () => {
  it("answers once the follower has the offset, with the count and who", async () => {
    const c = await start({});
    const written = await c.createOrder("o-1");
    expect(written.body.replication, "an asynchronous leader's replies keep the chapter's shape").toBeUndefined();
    const waited = await c.wait({ offset: written.body.event.offset, replicas: 1, timeoutMs: 5000 });
    expect(waited.body).toMatchObject({ ok: true, offset: 0, ack: "received", required: 1, replicas: 1, followers: ["follower"], timedOut: false });
  });

  it("answers with the count it reached when the time runs out", async () => {
    const c = await start({});
    await c.stopFollower();
    await c.createOrder("o-1");
    const waiting = c.wait({ offset: 0, replicas: 1, timeoutMs: 2000, ack: "applied" });
    await until("the WAIT is held", async () => ((await watch(c)).replication.writesWaiting === 1 ? true : undefined));
    clock.advance(2000);
    expect((await waiting).body).toMatchObject({ replicas: 0, followers: [], timedOut: true, waitedMs: 2000 });
  });

  it.each([
    [{ offset: 5, replicas: 1, timeoutMs: 10 }, /offset 5 is not in this node's log yet/],
    [{ offset: 0, replicas: 0, timeoutMs: 10 }, /replicas must be a whole number from 1 to 100/],
    [{ offset: 0, replicas: 1, timeoutMs: 60_001 }, /timeoutMs must be at most 60000/],
    [{ offset: 0, replicas: 1, timeoutMs: 10, ack: "maybe" }, /ack must be "received" or "applied"/],
    [{ offset: "0", replicas: 1, timeoutMs: 10 }, /offset must be a whole number/],
  ])("refuses %j with 400", async (body, message) => {
    const c = await start({});
    await c.createOrder("o-1");
    const refused = await c.wait(body as never);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(message);
  });
});

describe("MIN_REPLICAS_TO_WRITE", () => {
  it("refuses writes with 503 NOT_ENOUGH_REPLICAS, appending nothing, while too few followers are heard from", async () => {
    const c = await start({ sync: { minReplicas: 1, maxLagMs: 1000 } });
    expect((await c.createOrder("o-1")).status, "the follower's fetch is held: it is heard from").toBe(201);
    await c.stopFollower();
    clock.advance(1001);
    const refused = await c.createOrder("o-2");
    expect(refused).toMatchObject({ status: 503, body: { code: "NOT_ENOUGH_REPLICAS", heard: [], required: 1 } });
    expect(c.log.head, "nothing appended").toBe(1);
    await c.startFollower();
    await until("the follower is heard from again", async () => ((await c.createOrder("o-2")).status === 201 ? true : undefined), 200);
  });
});
