import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyEvent, createOrders } from "@lab/orders";
import { afterEach, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../cluster.ts";

/**
 * What happens when a node restarts or falls behind. The follower is driven by hand (`poll()`),
 * so "within one poll" is literal.
 */
describe("restarts, retention and resync", () => {
  let cluster: Cluster | undefined;
  let lines: string[];
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "lab-restarts-"));
    dirs.push(dir);
    return dir;
  };
  const start = async (options: Parameters<typeof startCluster>[0] = {}) => {
    lines = [];
    cluster = await startCluster({ run: false, logLine: (l) => lines.push(l), ...options });
    return cluster;
  };
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Every order of the leader's snapshot, compared one by one with what the follower serves. */
  const expectFollowerEqualsLeader = async (c: Cluster, alsoAbsent: string[] = []) => {
    const snapshot = (await c.leaderSnapshot()).body;
    for (const order of snapshot.state) {
      const got = await c.readFollower(order.id);
      expect(got.body.order, `follower's ${order.id}`).toEqual(order);
    }
    for (const id of alsoAbsent) expect((await c.readFollower(id)).status, `follower's ${id}, which the leader does not have`).toBe(404);
    expect(c.follower.status()).toMatchObject({ appliedOffset: snapshot.offset - 1, logId: snapshot.logId });
  };

  it("leader restarted without DATA_DIR: within one poll the follower holds exactly what the new leader holds", async () => {
    const c = await start();
    for (let i = 1; i <= 5; i++) await c.createOrder(`old-${i}`);
    await c.poll();
    const oldLogId = c.follower.status().logId;
    expect(c.follower.status().appliedOffset).toBe(4);

    await c.leader.restart(); // an empty leader with a new log identity
    expect(c.log.logId).not.toBe(oldLogId);
    for (let i = 1; i <= 3; i++) await c.createOrder(`new-${i}`);

    await c.poll();
    await expectFollowerEqualsLeader(c, ["old-1", "old-5"]);
    expect(c.follower.status()).toMatchObject({ resyncs: 1, nextFrom: 3 });
    expect(lines.filter((l) => l.includes("resync")), "resync log lines").toEqual([
      expect.stringMatching(/^\[follower\] resync #1: LOG_ID_MISMATCH: .*loaded the leader's snapshot of log [0-9a-f]{16} at offset 3 \(3 orders\)/),
    ]);

    // And replication simply goes on from the snapshot's offset.
    await c.confirm("new-1");
    await c.poll();
    expect((await c.readFollower("new-1")).body.order.status).toBe("CONFIRMED");
  });

  it("leader restarted with DATA_DIR: same log, same offsets, no resync, nothing lost", async () => {
    const c = await start({ leaderDataDir: tempDir() });
    for (let i = 1; i <= 5; i++) await c.createOrder(`o-${i}`);
    await c.poll();
    const logId = c.log.logId;

    await c.leader.restart();
    expect(c.log.logId, "log identity after restart").toBe(logId);
    expect(c.log.head, "head after restart").toBe(5);
    expect((await c.readLeader("o-5")).status, "an acknowledged write, after restart").toBe(200);

    await c.confirm("o-1");
    await c.poll();
    await expectFollowerEqualsLeader(c);
    expect(c.follower.status().resyncs).toBe(0);
  });

  it("a fresh follower whose leader has already discarded the start of its log bootstraps from a snapshot, then tails the log", async () => {
    const c = await start({ retainEvents: 10 });
    await c.stopFollower();
    for (let i = 1; i <= 30; i++) await c.createOrder(`o-${i}`);
    expect(c.log.start, "the leader's retained start").toBe(20);

    await c.startFollower();
    await c.poll();
    await expectFollowerEqualsLeader(c);
    expect(c.follower.status().resyncs).toBe(1);
    expect(lines.some((l) => /resync #1: OFFSET_OUT_OF_RANGE: offset 0 is not in log/.test(l)), "the resync says why").toBe(true);

    await c.createOrder("o-31");
    await c.poll();
    expect((await c.readFollower("o-31")).status, "an order written after the bootstrap").toBe(200);
  });

  it("a follower stopped while the leader writes past its retained window catches up through a snapshot", async () => {
    const c = await start({ retainEvents: 10, followerDataDir: tempDir() });
    for (let i = 1; i <= 5; i++) await c.createOrder(`o-${i}`);
    await c.poll();
    await c.stopFollower(); // saves its checkpoint at offset 5

    for (let i = 6; i <= 40; i++) await c.createOrder(`o-${i}`);
    await c.startFollower();
    expect(lines.filter((l) => l.includes("resumed from checkpoint")), "resumed from its checkpoint").toEqual([expect.stringContaining("offset 5, 5 orders")]);
    await c.poll();
    await expectFollowerEqualsLeader(c);
    expect(c.follower.status().resyncs).toBe(1);
  });

  it("a follower restarted with DATA_DIR resumes from its checkpoint: nothing applied twice, nothing skipped", async () => {
    const c = await start({ followerDataDir: tempDir() });
    for (let i = 1; i <= 5; i++) await c.createOrder(`o-${i}`);
    await c.poll();
    await c.confirm("o-1");
    await c.poll();
    await c.stopFollower();

    await c.cancel("o-2");
    await c.startFollower();
    expect(c.follower.status()).toMatchObject({ appliedOffset: 5, nextFrom: 6 }); // where it stopped
    await c.poll();
    await expectFollowerEqualsLeader(c);
    // Applying an event twice would have failed (an order created twice), and stopped the follower.
    expect(c.follower.status()).toMatchObject({ resyncs: 0, appliedOffset: 6 });
    expect(c.follower.status().error).toBeUndefined();
  });

  it("every snapshot taken during a write load holds exactly the log up to its offset", async () => {
    const c = await start({ leaderDataDir: tempDir() });
    const writes = Array.from({ length: 200 }, (_, i) => (i % 3 === 2 ? c.confirm(`o-${i - 2}`) : c.createOrder(`o-${i}`)));
    const snapshots = Array.from({ length: 10 }, () => c.leaderSnapshot());
    await Promise.all(writes);
    const read = c.log.readFrom(0, 10_000);
    if (!read.ok) throw new Error("the log should hold every event");
    for (const { body } of await Promise.all(snapshots)) {
      const replayed = createOrders();
      for (const e of read.entries.slice(0, body.offset)) applyEvent(replayed, e);
      expect(body.state, `snapshot at offset ${body.offset}`).toEqual([...replayed.values()]);
    }
  });
});
