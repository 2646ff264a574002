import { createReadSession, type ReadGuarantee, type SessionReply } from "@lab/replication";
import { createManualClock, type ManualClock } from "@lab/service";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../cluster.ts";

/**
 * Where a read goes, by the guarantee its session asks for. A leader, a follower with no lag
 * ("fast") and one 3 s behind ("slow"); o-1 was created long ago and has just been confirmed,
 * so the fast follower says CONFIRMED and the slow one still PENDING.
 */
let clock: ManualClock;
let cluster: Cluster;

beforeEach(async () => {
  clock = createManualClock(1_700_000_000_000);
  cluster = await startCluster({ clock, run: false, followers: [{ id: "fast", applyLagMs: 0 }, { id: "slow", applyLagMs: 3000 }] });
  await cluster.createOrder("o-1");
  await cluster.poll();
  elapse(3000);
  await cluster.confirm("o-1");
  await cluster.poll();
});
afterEach(() => cluster.close());

function elapse(ms: number) {
  clock.advance(ms);
  for (const f of cluster.followers) f.applyDue();
}

const [FAST, SLOW] = [0, 1];
const session = (guarantee: ReadGuarantee, options: { maxStalenessMs?: number; timeoutMs?: number; stickTo?: number } = {}) =>
  createReadSession({ leaderUrl: cluster.leader.url, followerUrls: cluster.followers.map((f) => f.url), guarantee, ...options });
const who = (reply: SessionReply) => (reply.url === cluster.leader.url ? "leader" : cluster.followers.find((f) => f.url === reply.url)!.id);
const seen = (reply: SessionReply) => `${who(reply)}:${(reply.body as { order?: { status: string } }).order?.status ?? reply.status}`;

describe("read session -> any replica", () => {
  it("takes the followers in turn, and so goes back in time: CONFIRMED, then PENDING", async () => {
    const s = session("any");
    expect([seen(await s.read("/orders/o-1")), seen(await s.read("/orders/o-1"))]).toEqual(["fast:CONFIRMED", "slow:PENDING"]);
  });
});

describe("read session -> sticky", () => {
  it("always reads the same follower: stale, but never older than before", async () => {
    const s = session("sticky", { stickTo: SLOW });
    expect([seen(await s.read("/orders/o-1")), seen(await s.read("/orders/o-1"))]).toEqual(["slow:PENDING", "slow:PENDING"]);
  });
});

describe("read session -> monotonic reads", () => {
  it("after seeing offset 1 on the fast follower, waits on the slow one until it has applied it", async () => {
    const s = session("monotonic-reads", { timeoutMs: 5000 });
    expect(seen(await s.read("/orders/o-1"))).toBe("fast:CONFIRMED");
    expect(s.highestSeen).toBe(1);
    const second = s.read("/orders/o-1");
    await clock.whenSleeping(1); // the slow follower holds the read
    elapse(3000);
    expect(seen(await second)).toBe("slow:CONFIRMED");
  });

  it("reads the leader when the follower cannot catch up within timeoutMs", async () => {
    const s = session("monotonic-reads", { timeoutMs: 500 });
    await s.read("/orders/o-1");
    const second = s.read("/orders/o-1");
    await clock.whenSleeping(1); // the slow follower holds the read
    clock.advance(500);
    expect(seen(await second)).toBe("leader:CONFIRMED");
  });
});

describe("read session -> read your writes", () => {
  it("never reads older than its own last write, on whichever follower it lands", async () => {
    const s = session("read-your-writes", { timeoutMs: 10_000 });
    expect(seen(await s.read("/orders/o-1")), "no write yet: any follower will do").toBe("fast:CONFIRMED");
    await s.write("/orders", { id: "o-2" });
    await cluster.poll();
    const read = s.read("/orders/o-2"); // lands on the slow follower, which waits for offset 2 (due after the confirm's lag, then its own)
    await clock.whenSleeping(1);
    elapse(6000);
    expect(seen(await read)).toBe("slow:PENDING");
  });
});

describe("read session -> bounded staleness", () => {
  it("skips a follower that cannot prove it is fresh enough, then falls back to the leader", async () => {
    const s = session("bounded-staleness", { maxStalenessMs: 1000 });
    clock.advance(500);
    expect(seen(await s.read("/orders/o-1")), "fast proves 500 ms").toBe("fast:CONFIRMED");
    expect(seen(await s.read("/orders/o-1")), "slow cannot (offset 1 not applied): the fast one answers").toBe("fast:CONFIRMED");
    clock.advance(600);
    expect(seen(await s.read("/orders/o-1")), "nobody heard from the leader for 1.1 s").toBe("leader:CONFIRMED");
  });
});
