import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createManualClock, type ManualClock } from "@lab/service";
import { afterEach, describe, expect, it } from "vitest";
import { startCluster, type Cluster, type ClusterOptions } from "../cluster.ts";
import { until } from "./until.ts";

/**
 * Many followers: the leader's view of them, cascading, and what happens between them. Every
 * node shares a manual clock, so "3 s behind" is a line in the test, not a wait.
 */
const T0 = 1_700_000_000_000;
let clock: ManualClock;
let cluster: Cluster | undefined;

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function start(options: ClusterOptions) {
  clock = createManualClock(T0);
  cluster = await startCluster({ clock, run: false, ...options });
  return cluster;
}

/** Lets `ms` pass and has every follower apply what fell due. */
function elapse(c: Cluster, ms: number) {
  clock.advance(ms);
  for (const f of c.followers) if (f.running) f.applyDue();
}

const rows = async (c: Cluster) => (await c.leader.replication()).body.followers as { id: string; via: string | null; state: string; receivedOffset: number | null; appliedOffset: number | null; lag: { events: number; ms: number } }[];
const statusOf = async (read: Promise<{ status: number; body: any }>) => {
  const reply = await read;
  return reply.status === 404 ? 404 : reply.body.order.status;
};

describe("a leader and two followers, the second 3 s behind", () => {
  const twoFollowers = () => start({ followers: [{ applyLagMs: 0 }, { applyLagMs: 3000 }] });

  it("the leader's /replication shows each follower's received and applied positions and its lag", async () => {
    const c = await twoFollowers();
    await c.createOrder("o-1");
    await c.confirm("o-1");
    await c.poll(); // both fetch; the first applies at once
    await c.poll(); // and report where they are
    expect(await rows(c)).toEqual([
      expect.objectContaining({ id: "follower-1", via: null, state: "streaming", receivedOffset: 1, appliedOffset: 1, lag: { events: 0, ms: 0 } }),
      expect.objectContaining({ id: "follower-2", via: null, state: "streaming", receivedOffset: 1, appliedOffset: null, lag: { events: 2, ms: 0 } }),
    ]);
    elapse(c, 3000);
    await c.poll();
    expect((await rows(c))[1], "follower-2 once its lag has passed").toMatchObject({ appliedOffset: 0, lag: { events: 1, ms: 3000 } });
  });

  it("a reader that alternates between them sees the order go CONFIRMED, then PENDING again", async () => {
    const c = await twoFollowers();
    await c.createOrder("o-1");
    await c.poll();
    elapse(c, 3000);
    await c.confirm("o-1");
    await c.poll();
    const [fast, slow] = c.followers;
    expect(await statusOf(fast!.read("o-1")), "first read, from follower-1").toBe("CONFIRMED");
    expect(await statusOf(slow!.read("o-1")), "second read, from follower-2: back in time").toBe("PENDING");
    // The fix with a token: carry the highest offset seen and ask for it.
    const seen = (await fast!.read("o-1")).body.appliedOffset;
    const waiting = slow!.read("o-1", { minOffset: seen, timeoutMs: 5000 });
    await clock.whenSleeping(1);
    elapse(c, 3000);
    expect((await waiting).body.order.status, "second read with minOffset").toBe("CONFIRMED");
  });

  it("notices a follower that stops fetching: disconnected once not heard from for FOLLOWER_TIMEOUT_MS", async () => {
    const c = await start({ followers: [{}, {}], followerTimeoutMs: 2000 });
    await c.poll();
    await c.followers[1]!.stop();
    clock.advance(2000);
    await c.followers[0]!.poll();
    expect((await rows(c)).map((r) => [r.id, r.state])).toEqual([
      ["follower-1", "streaming"],
      ["follower-2", "streaming"],
    ]);
    clock.advance(1);
    await c.followers[0]!.poll();
    expect((await rows(c)).map((r) => [r.id, r.state])).toEqual([
      ["follower-1", "streaming"],
      ["follower-2", "disconnected"],
    ]);
  });
});

describe("the leader learns of progress within a round trip, not when a long poll ends", () => {
  it("a follower that applies while its fetch is held tells the leader at once", async () => {
    const c = await start({ followers: [{ applyLagMs: 1000, longPollMs: 5000 }], run: true });
    await c.createOrder("o-1");
    await until("follower-1 has received offset 0 and its next fetch is held", async () => {
      const [row] = await rows(c);
      return row?.receivedOffset === 0 && (await c.leaderHealth()).body.followersWaiting === 1 ? true : undefined;
    });
    expect((await rows(c))[0]?.appliedOffset, "not applied yet").toBeNull();
    clock.advance(1000); // the lag passes; the held fetch (5 s) does not end
    const row = await until("the leader shows offset 0 applied", async () => ((await rows(c))[0]?.appliedOffset === 0 ? (await rows(c))[0] : undefined));
    expect(row).toMatchObject({ state: "streaming", lag: { events: 0, ms: 0 } });
    expect((await c.follower.status()).acks, "one progress report besides the fetches").toBe(1);
  });
});

describe("cascading: follower-2 replicates through follower-1", () => {
  const chain = (extra: ClusterOptions = {}) => start({ followers: [{ applyLagMs: 0 }, { applyLagMs: 0, upstream: 0 }], ...extra });

  it("a write reaches follower-2 through follower-1, and each node lists the followers below it", async () => {
    const c = await chain();
    await c.createOrder("o-1");
    await c.poll(); // follower-1 fetches from the leader, then follower-2 from follower-1
    expect(await statusOf(c.followers[1]!.read("o-1"))).toBe("PENDING");
    await c.poll(); // follower-2 reports to follower-1 that it applied offset 0 ...
    await c.poll(); // ... and follower-1 passes that on (with no long poll held, fetches carry the news)
    expect((await rows(c)).map((r) => [r.id, r.via, r.appliedOffset])).toEqual([
      ["follower-1", null, 0],
      ["follower-2", "follower-1", 0],
    ]);
    const middle = (await c.followers[0]!.replication()).body;
    expect(middle).toMatchObject({ follower: true, nodeId: "follower-1", chain: ["leader", "follower-1"], upstream: { url: c.leader.url, chain: ["leader"] } });
    expect(middle.followers).toEqual([expect.objectContaining({ id: "follower-2", via: null, appliedOffset: 0 })]);
    expect((await c.followers[1]!.status()).body).toMatchObject({ upstreamChain: ["leader", "follower-1"], writesTo: c.leader.url });
  });

  it("a write sent to follower-2 is refused with 403 READONLY naming the leader's URL, not follower-1's", async () => {
    const c = await chain();
    await c.poll();
    await c.poll();
    const reply = await fetch(`${c.followers[1]!.url}/orders`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"id":"o-9"}' });
    expect(reply.status).toBe(403);
    expect(await reply.json()).toMatchObject({ code: "READONLY", leader: c.leader.url, error: expect.stringContaining(`to the leader at ${c.leader.url}`) });
  });

  it("a leader restarted without its log resyncs the whole chain", async () => {
    const lines: string[] = [];
    const c = await chain({ logLine: (l) => lines.push(l) });
    for (const id of ["o-1", "o-2", "o-3"]) await c.createOrder(id);
    await c.poll();
    await c.leader.restart();
    await c.createOrder("n-1");
    await c.poll(); // follower-1 resyncs from the leader, then follower-2 from follower-1
    await c.poll();
    for (const f of c.followers) {
      expect(await statusOf(f.read("o-1")), `${f.id} after the resync`).toBe(404);
      expect(await statusOf(f.read("n-1")), `${f.id} after the resync`).toBe("PENDING");
    }
    expect(lines.filter((l) => / resync #1: LOG_ID_MISMATCH/.test(l)).map((l) => l.split(" ")[0])).toEqual(["[follower-1]", "[follower-2]"]);
    expect(lines.find((l) => l.startsWith("[follower-2] resync"))).toMatch(/loaded the upstream's snapshot of log [0-9a-f]{16} at offset 1 \(1 orders\)/);
  });

  it("follower-1 restarted with DATA_DIR keeps its log: follower-2 continues through it without a resync", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lab-middle-"));
    try {
      const c = await start({ followers: [{ dataDir: dir }, { upstream: 0 }] });
      for (const id of ["o-1", "o-2"]) await c.createOrder(id);
      await c.poll();
      await c.followers[0]!.stop();
      await c.createOrder("o-3");
      await c.followers[0]!.start();
      expect((await c.followers[0]!.replication()).body, "its log read back from disk").toMatchObject({ start: 0, head: 2 });
      await c.poll();
      await c.poll();
      expect(await statusOf(c.followers[1]!.read("o-3"))).toBe("PENDING");
      expect((await c.followers[1]!.status()).body).toMatchObject({ resyncs: 0, appliedOffset: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("retention works through the chain: follower-2, too far behind follower-1, resyncs from follower-1's snapshot", async () => {
    const lines: string[] = [];
    const c = await start({ followers: [{ retainEvents: 3 }, { upstream: 0 }], logLine: (l) => lines.push(l) });
    await c.createOrder("o-0");
    await c.poll();
    await c.followers[1]!.stop();
    for (let i = 1; i <= 10; i++) await c.createOrder(`o-${i}`);
    await c.followers[0]!.poll();
    expect((await c.followers[0]!.replication()).body, "follower-1 keeps its last 3").toMatchObject({ start: 8, head: 11 });
    await c.followers[1]!.start();
    await c.followers[1]!.poll();
    expect(lines.find((l) => l.startsWith("[follower-2] resync #1"))).toMatch(/OFFSET_OUT_OF_RANGE: offset 0 is not in log .* which holds offsets 8 to 10; resync from \/snapshot; loaded the upstream's snapshot/);
    expect(await statusOf(c.followers[1]!.read("o-10"))).toBe("PENDING");
  });
});

describe("loops are refused with a message, not a hang", () => {
  it("a follower pointed at itself says so in its status and log, and backs off", async () => {
    const lines: string[] = [];
    const c = await start({ followers: [{ upstream: 0 }], logLine: (l) => lines.push(l) });
    expect(await c.followers[0]!.poll(), "backs off").toBe(300);
    expect((await c.followers[0]!.status()).body.upstreamProblem).toMatch(/409 REPLICATION_LOOP: follower-1 cannot follow itself/);
    expect(lines).toEqual([expect.stringMatching(/^\[follower-1\] upstream refused to send events \(409 REPLICATION_LOOP/)]);
  });

  it("two followers pointed at each other find the loop within two rounds", async () => {
    const c = await start({ followers: [{ upstream: 1 }, { upstream: 0 }] });
    await c.poll();
    await c.poll();
    for (const f of c.followers) expect((await f.status()).body.upstreamProblem, f.id).toMatch(/loop/);
    expect((await c.followers[0]!.status()).body.upstreamProblem).toMatch(/follower-1 -> follower-2 -> follower-1|REPLICATION_LOOP/);
  });
});

describe("bounded staleness: ?maxStalenessMs=N", () => {
  it("an idle, healthy pair answers maxStalenessMs=1000: the follower hears from the leader every long poll", async () => {
    const c = await start({ followers: [{ longPollMs: 500 }], run: true });
    await c.createOrder("o-1");
    await until("the follower's next fetch is held", async () => ((await c.leaderHealth()).body.followersWaiting === 1 ? true : undefined));
    for (let i = 0; i < 5; i++) {
      clock.advance(500); // a heartbeat: the held fetch ends empty and is renewed
      await until("the renewed fetch is held", async () => ((await c.leaderHealth()).body.followersWaiting === 1 ? true : undefined));
    }
    const reply = await c.readFollower("o-1", { maxStalenessMs: 1000 });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.stalenessMs).toBeLessThanOrEqual(500);
  });

  it("a follower 3 s behind answers 503 TOO_STALE, saying how stale it may be", async () => {
    const c = await start({ applyLagMs: 3000 });
    await c.createOrder("o-1");
    await c.poll();
    clock.advance(3000);
    await c.confirm("o-1");
    await c.poll(); // offset 0 applied; the confirm waits its lag
    clock.advance(1000);
    const reply = await c.readFollower("o-1", { maxStalenessMs: 1000 });
    expect(reply.status).toBe(503);
    expect(reply.body).toMatchObject({ code: "TOO_STALE", maxStalenessMs: 1000, stalenessMs: 4000, leader: c.leader.url });
    expect(reply.body.error).toMatch(/can only vouch for writes acknowledged more than 4000 ms ago, not 1000 ms/);
    expect((await c.readFollower("o-1", { maxStalenessMs: 5000 })).body, "a looser bound is answered").toMatchObject({ stalenessMs: 4000, order: { status: "PENDING" } });
  });

  it("a follower whose leader is down can vouch for less and less, then refuses", async () => {
    const c = await start({});
    await c.createOrder("o-1");
    await c.poll();
    expect((await c.readFollower("o-1", { maxStalenessMs: 1000 })).status).toBe(200);
    await c.leader.stop();
    clock.advance(600);
    await c.poll(); // fails: nothing new is proven
    expect((await c.readFollower("o-1", { maxStalenessMs: 1000 })).body.stalenessMs).toBe(600);
    clock.advance(401);
    expect((await c.readFollower("o-1", { maxStalenessMs: 1000 })).body).toMatchObject({ code: "TOO_STALE", stalenessMs: 1001 });
  });

  it("refuses maxStalenessMs=abc with 400 INVALID_PARAMETER", async () => {
    const c = await start({});
    expect((await c.readFollower("o-1", { maxStalenessMs: "abc" as unknown as number })).body).toMatchObject({ code: "INVALID_PARAMETER", parameter: "maxStalenessMs" });
  });
});
