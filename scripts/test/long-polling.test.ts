import { createManualClock, type ManualClock } from "@lab/service";
import { afterEach, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../cluster.ts";
import { until } from "./until.ts";

/**
 * Long-polling against the chapter's plain polling. Both nodes share a manual clock that the
 * test never advances unless it says so: what arrives without time passing arrived because the
 * leader pushed it down a waiting request, not because a poll came round.
 */
describe("long-polling", () => {
  let clock: ManualClock;
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  const T0 = 1_700_000_000_000;
  const start = async (longPollMs: number, batchWaitMs = 0) => {
    clock = createManualClock(T0);
    cluster = await startCluster({ clock, applyLagMs: 0, pollIntervalMs: 300, longPollMs, batchWaitMs, run: true });
    return cluster;
  };

  /** Resolves once the follower has applied `offset`; fails the test (instead of hanging) if it does not within 5 s of real time. */
  const applied = async (c: Cluster, offset: number) => {
    let timer: NodeJS.Timeout | undefined;
    const ok = await c.follower.waitForApplied(offset, new Promise((resolve) => (timer = setTimeout(resolve, 5000))));
    clearTimeout(timer);
    return ok;
  };

  it("a write reaches a long-polling follower with no time passing", async () => {
    const c = await start(5000);
    await waitUntilLeaderHolds(c, 1); // the follower's fetch is waiting on the leader
    await c.createOrder("o-1");
    expect(await applied(c, 0), "applied offset 0").toBe(true);
    expect(clock.now(), "time passed on the manual clock").toBe(T0);
    expect((await c.readFollower("o-1")).status).toBe(200);
  });

  it("with the chapter's polling the same write waits for the next poll", async () => {
    const c = await start(0);
    await clock.whenSleeping(1); // the follower has polled once (nothing yet) and sleeps its poll interval
    await c.createOrder("o-1");
    expect((await c.readFollower("o-1")).status, "before the poll interval has passed").toBe(404);
    clock.advance(300);
    expect(await applied(c, 0), "applied offset 0 after one poll interval").toBe(true);
  });

  it("a long poll that sees nothing ends after waitMs and is renewed at once", async () => {
    const c = await start(5000);
    await waitUntilLeaderHolds(c, 1);
    clock.advance(5000); // the wait runs out: the leader answers with no events
    await waitUntilLeaderHolds(c, 1); // and the follower asks again without sleeping
    await c.createOrder("o-1");
    expect(await applied(c, 0)).toBe(true);
  });

  it("under a stream of writes it fetches in batches: after a reply of several events, the leader holds its next fetch batchWaitMs", async () => {
    const c = await start(5000, 20);
    await c.stopFollower();
    await c.createOrder("o-1");
    await c.createOrder("o-2"); // two writes since the last fetch: the next reply brings both
    await c.startFollower();
    expect(await applied(c, 1), "applied offsets 0 and 1").toBe(true);
    await clock.whenSleeping(1); // something waits on the clock: the leader, holding the next fetch for a batch
    expect((await c.leaderHealth()).body.followersWaiting, "fetches waiting at the head for a new event").toBe(0);
    expect((await c.leader.replication()).body.followers[0], "the fetch held for a batch").toMatchObject({ id: "follower", waiting: true });
    await c.createOrder("o-3");
    expect((await c.readFollower("o-3")).status, "before batchWaitMs has passed").toBe(404);
    clock.advance(20);
    expect(await applied(c, 2), "applied offset 2 once batchWaitMs passed").toBe(true);
    expect((await c.followerStatus()).body.fetches, "fetches in all").toBe(2);
  });

  it("a waiting request ends when the follower stops, and when the leader shuts down", async () => {
    const c = await start(5000);
    await waitUntilLeaderHolds(c, 1);
    await c.stopFollower(); // aborts its fetch
    await waitUntilLeaderHolds(c, 0);

    await c.startFollower();
    await waitUntilLeaderHolds(c, 1);
    await c.leader.stop(); // resolves only once every connection, the waiting one too, has closed
  });
});

/** Resolves once the leader holds `count` waiting requests (asking its /health after each turn of the event loop). */
function waitUntilLeaderHolds(c: Cluster, count: number) {
  return until(`the leader holds ${count} waiting requests`, async () => ((await c.leaderHealth()).body.followersWaiting === count ? true : undefined));
}
