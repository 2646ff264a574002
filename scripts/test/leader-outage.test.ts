import { createManualClock, type ManualClock } from "@lab/service";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../cluster.ts";

describe("leader down: the follower keeps serving, backs off, and catches up when the leader is back", () => {
  let clock: ManualClock;
  let cluster: Cluster;
  let lines: string[];

  beforeEach(async () => {
    clock = createManualClock(1_700_000_000_000);
    lines = [];
    cluster = await startCluster({ applyLagMs: 0, pollIntervalMs: 300, clock, run: false, logLine: (l) => lines.push(l) });
  });
  afterEach(() => cluster.close());

  it("serves what it has, logs the outage once, retries with capped backoff, resumes where it stopped", async () => {
    await cluster.createOrder("o-1");
    await cluster.createOrder("o-2");
    await cluster.poll();
    expect((await cluster.readFollower("o-2")).body.order.status).toBe("PENDING");

    await cluster.leader.stop();
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const wait = await cluster.follower.pollOnce();
      waits.push(wait);
      clock.advance(wait); // as the follower's loop would sleep
    }
    expect(waits, "backoff between failed polls").toEqual([300, 600, 1200, 2400, 4800, 5000, 5000, 5000]);
    const outageLines = lines.filter((l) => l.includes("unreachable"));
    expect(outageLines, "outage log lines for 8 failed polls").toHaveLength(1);
    expect(outageLines[0]).toContain(cluster.leader.url);

    // Reads keep working from what was applied.
    expect((await cluster.readFollower("o-1")).status).toBe(200);
    const status = (await cluster.followerStatus()).body;
    expect(status).toMatchObject({ leaderReachable: false, appliedOffset: 1, nextFrom: 2 });

    await cluster.leader.start();
    await cluster.confirm("o-1");
    await cluster.poll();
    expect(lines.filter((l) => l.includes("answers again")), "recovery log lines").toEqual([
      "[follower] leader answers again after 24.3 s (8 failed polls); resuming from offset 2",
    ]);
    expect((await cluster.readFollower("o-1")).body.order.status).toBe("CONFIRMED");
    expect((await cluster.followerStatus()).body).toMatchObject({ leaderReachable: true, appliedOffset: 2, head: 3 });
  });
});
