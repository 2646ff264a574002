import { createReadYourWritesClient } from "@lab/replication";
import { createManualClock, type ManualClock } from "@lab/service";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../cluster.ts";

/** Exercise B: reading your own writes from a lagging follower. */
describe("read-your-writes", () => {
  let clock: ManualClock;
  let cluster: Cluster;

  beforeEach(async () => {
    clock = createManualClock(1_700_000_000_000);
    cluster = await startCluster({ applyLagMs: 1500, clock, run: false });
  });
  afterEach(() => cluster.close());

  const session = (stickyMs = 5000) =>
    createReadYourWritesClient({ leaderUrl: cluster.leader.url, followerUrl: cluster.follower.url, stickyMs, now: clock.now });

  it("reads from the leader for stickyMs after its own write, from the follower afterwards", async () => {
    const me = session(5000);
    await me.write("/orders", { id: "o-1" });
    await cluster.poll();

    const soon = await me.read("/orders/o-1");
    expect(soon).toMatchObject({ servedBy: "leader", status: 200 });
    // The same read straight from the follower would have been stale:
    expect((await cluster.readFollower("o-1")).status).toBe(404);

    clock.advance(5000);
    cluster.follower.applyDue();
    const later = await me.read("/orders/o-1");
    expect(later).toMatchObject({ servedBy: "follower", status: 200 });
  });

  it("the time window is only a guess: a follower lagging longer than stickyMs still serves a stale read", async () => {
    const me = session(1000);
    await me.write("/orders", { id: "o-1" });
    await cluster.poll();
    clock.advance(1000); // the window has closed, the 1500 ms lag has not
    expect(await me.read("/orders/o-1")).toMatchObject({ servedBy: "follower", status: 404 });
  });

  it("minOffset: the follower waits until it has applied the session's write, then answers", async () => {
    const me = session();
    await me.write("/orders", { id: "o-1" });
    expect(me.lastWriteOffset).toBe(0);
    await cluster.poll();

    const reading = me.readWithMinOffset("/orders/o-1", { timeoutMs: 2000 });
    await clock.whenSleeping(1); // the follower holds the read, waiting for offset 0
    clock.advance(1500);
    cluster.follower.applyDue();
    expect(await reading).toMatchObject({ servedBy: "follower", status: 200, body: { order: { status: "PENDING" } } });
  });

  it("minOffset: a follower that cannot catch up in time answers 504 with its position, and the session reads the leader", async () => {
    const me = session();
    await me.write("/orders", { id: "o-1" });
    await cluster.poll();

    const direct = cluster.readFollower("o-1", { minOffset: 0, timeoutMs: 500 });
    await clock.whenSleeping(1);
    clock.advance(500);
    const refused = await direct;
    expect(refused.status).toBe(504);
    expect(refused.body).toMatchObject({ ok: false, code: "NOT_YET_APPLIED", minOffset: 0, appliedOffset: null, nextFrom: 1, leader: cluster.leader.url });

    const reading = me.readWithMinOffset("/orders/o-1", { timeoutMs: 500 });
    await clock.whenSleeping(1);
    clock.advance(500);
    expect(await reading).toMatchObject({ servedBy: "leader", status: 200 });
  });
});
