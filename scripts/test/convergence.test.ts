import { afterEach, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../cluster.ts";

/**
 * Many clients at once, valid and invalid writes mixed, the follower replicating all along:
 * afterwards the follower's state equals the leader's, order by order. A seeded generator keeps
 * the operations the same on every run; the interleaving is whatever the machine makes of it.
 */
describe("convergence under concurrent writes", () => {
  let cluster: Cluster;
  afterEach(() => cluster.close());

  it("3,200 random operations from 16 clients: the follower ends equal to the leader", async () => {
    cluster = await startCluster({ applyLagMs: 0, pollIntervalMs: 5 });
    const random = seeded(42);
    const ids = Array.from({ length: 400 }, (_, i) => `o-${i}`);
    const pick = () => ids[Math.floor(random() * ids.length)]!;
    const statuses = { ok: 0, refused: 0 };

    const client = async (operations: number) => {
      for (let i = 0; i < operations; i++) {
        const roll = random();
        const reply =
          roll < 0.4 ? await cluster.createOrder(pick()) : roll < 0.7 ? await cluster.confirm(pick()) : roll < 0.95 ? await cluster.cancel(pick()) : await cluster.createOrder("");
        if (reply.status < 300) statuses.ok++;
        else if (reply.status === 400 || reply.status === 404 || reply.status === 409) statuses.refused++;
        else throw new Error(`unexpected reply ${reply.status}: ${JSON.stringify(reply.body)}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, () => client(200)));

    expect(statuses.ok + statuses.refused).toBe(3200);
    expect(statuses.refused, "some operations were invalid").toBeGreaterThan(100);
    expect(cluster.log.head, "one event per accepted write").toBe(statuses.ok);

    await cluster.expectCaughtUp();
    for (const id of ids) {
      const [leader, follower] = await Promise.all([cluster.readLeader(id), cluster.readFollower(id)]);
      expect(follower.status, `${id}: follower status code`).toBe(leader.status);
      if (leader.status === 200) expect(follower.body.order, `${id}: follower order`).toEqual(leader.body.order);
    }
  });
});

/** A small deterministic random generator (mulberry32), so the operations are the same each run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
