import { createManualClock, type ManualClock } from "@lab/service";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../cluster.ts";

/**
 * The chapter's walkthrough as a test: write to the leader, read a stale (or missing) order from
 * the follower, and watch it catch up once APPLY_LAG_MS has passed. The clock is manual, so the
 * test, not the machine's speed, decides when the lag has elapsed.
 */
describe("the chapter: a lagging follower serves stale reads, then catches up", () => {
  let clock: ManualClock;
  let cluster: Cluster;

  beforeEach(async () => {
    clock = createManualClock(1_700_000_000_000);
    cluster = await startCluster({ applyLagMs: 1500, clock, run: false });
  });
  afterEach(() => cluster.close());

  /** Lets `ms` pass and applies whatever fell due. */
  const elapse = (ms: number) => {
    clock.advance(ms);
    cluster.follower.applyDue();
  };

  const followerStatusOf = async (id: string) => {
    const reply = await cluster.readFollower(id);
    return reply.status === 404 ? 404 : reply.body.order.status;
  };

  it("create -> follower 404 -> PENDING after the lag; confirm -> still PENDING -> CONFIRMED after the lag", async () => {
    const created = await cluster.createOrder("o-1");
    expect(created.status, "leader create").toBe(201);
    expect(created.body).toMatchObject({ ok: true, leader: true, order: { id: "o-1", status: "PENDING" }, event: { offset: 0 } });

    await cluster.poll(); // the follower has received the event, its lag starts now
    expect(await followerStatusOf("o-1"), "follower right after the write").toBe(404);
    expect((await cluster.readFollower("o-1")).body.error).toBe("not found (maybe not replicated yet)");

    elapse(1499);
    expect(await followerStatusOf("o-1"), "follower 1 ms before the lag elapses").toBe(404);
    elapse(1);
    expect(await followerStatusOf("o-1"), "follower once the lag has elapsed").toBe("PENDING");

    const confirmed = await cluster.confirm("o-1");
    expect(confirmed.body.order.status, "leader confirm").toBe("CONFIRMED");
    expect((await cluster.readLeader("o-1")).body.order.status, "leader read after its own write").toBe("CONFIRMED");

    await cluster.poll();
    expect(await followerStatusOf("o-1"), "follower right after the confirm (stale)").toBe("PENDING");
    elapse(1500);
    expect(await followerStatusOf("o-1"), "follower after the lag").toBe("CONFIRMED");

    const reply = await cluster.readFollower("o-1");
    expect(reply.body).toMatchObject({ ok: true, follower: true, nextFrom: 2, appliedOffset: 1, applyLagMs: 1500 });
    // The follower replays the leader's time; it never stamps its own.
    expect(reply.body.order.updatedAt).toBe(confirmed.body.event.at);
  });

  it("lag accumulates: five quick writes with a 400 ms lag, the fifth shows after 2 s", async () => {
    cluster = await restartWithLag(400);
    for (let i = 1; i <= 5; i++) await cluster.createOrder(`o-${i}`);
    await cluster.poll(); // all five arrive together

    const visible = async () => {
      const seen = [];
      for (let i = 1; i <= 5; i++) if ((await cluster.readFollower(`o-${i}`)).status === 200) seen.push(`o-${i}`);
      return seen;
    };
    elapse(400);
    expect(await visible(), "after 400 ms").toEqual(["o-1"]);
    elapse(800);
    expect(await visible(), "after 1200 ms").toEqual(["o-1", "o-2", "o-3"]);
    elapse(799);
    expect(await visible(), "after 1999 ms").toEqual(["o-1", "o-2", "o-3", "o-4"]);
    elapse(1);
    expect(await visible(), "after 2000 ms").toEqual(["o-1", "o-2", "o-3", "o-4", "o-5"]);

    const status = (await cluster.followerStatus()).body;
    expect(status).toMatchObject({ nextFrom: 5, appliedOffset: 4, head: 5, pending: 0, lag: { events: 0, ms: 0 } });
  });

  it("reports lag in events and ms while events wait to be applied", async () => {
    await cluster.createOrder("o-1");
    await cluster.confirm("o-1");
    await cluster.createOrder("o-2");
    await cluster.poll();
    elapse(1500);
    const status = (await cluster.followerStatus()).body;
    expect(status).toMatchObject({ nextFrom: 3, appliedOffset: 0, head: 3, pending: 2, leaderReachable: true });
    expect(status.lag).toEqual({ events: 2, ms: 1500 });
  });

  async function restartWithLag(applyLagMs: number) {
    await cluster.close();
    clock = createManualClock(1_700_000_000_000);
    return startCluster({ applyLagMs, clock, run: false });
  }
});
