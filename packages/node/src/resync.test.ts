import type { Order } from "@lab/orders";
import { LeaderReplyError, type SnapshotReply } from "@lab/replication";
import { createManualClock } from "@lab/service";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { createFollower } from "./follower.ts";
import { entry, fakeClient, LOG_ID, reply, snapshotReply } from "./test-support.ts";

const OTHER_LOG = "00000000000000bb";
const mismatch = () => new LeaderReplyError(409, "LOG_ID_MISMATCH", `this leader's log is ${OTHER_LOG}, not ${LOG_ID}`);

describe("follower -> resync from a snapshot", () => {
  it("replaces its state with the snapshot's and follows the new log from its offset", async () => {
    const lines: string[] = [];
    const snapshot = snapshotReply<Order[]>(1, [{ id: "n-1", status: "PENDING", updatedAt: 5 }], OTHER_LOG);
    const client = fakeClient([reply(0, [entry(0, "OrderCreated", "o-1", 1)]), mismatch()]);
    client.scriptSnapshots(snapshot);
    const follower = await createFollower({ client, applyLagMs: 0, pollIntervalMs: 100, clock: createManualClock(), logLine: (l) => lines.push(l) });
    await follower.pollOnce();
    expect(await follower.pollOnce(), "wait after a resync").toBe(0);

    await request(follower.app).get("/orders/o-1").expect(404);
    const { body } = await request(follower.app).get("/orders/n-1").expect(200);
    expect(body.order).toEqual(snapshot.state[0]);
    expect(follower.status()).toMatchObject({ logId: OTHER_LOG, nextFrom: 1, appliedOffset: 0, resyncs: 1 });
    expect({ logId: follower.log.logId, start: follower.log.start, head: follower.log.head }, "its own log is now the snapshot's history").toEqual({ logId: OTHER_LOG, start: 1, head: 1 });
    expect(lines.filter((l) => l.startsWith("resync #1: LOG_ID_MISMATCH"))).toHaveLength(1);
  });

  it("keeps its state, position and log when the snapshot is malformed", async () => {
    const bad = { ...snapshotReply(2, [{ id: "n-1", status: "PENDING", updatedAt: 5 }, null], OTHER_LOG) } as unknown as SnapshotReply<Order[]>;
    const client = fakeClient([reply(0, [entry(0, "OrderCreated", "o-1", 1)]), mismatch()]);
    client.scriptSnapshots(bad);
    const follower = await createFollower({ client, applyLagMs: 0, pollIntervalMs: 100, clock: createManualClock() });
    await follower.pollOnce();
    await follower.pollOnce();

    await request(follower.app).get("/orders/o-1").expect(200);
    await request(follower.app).get("/orders/n-1").expect(404);
    expect(follower.status()).toMatchObject({ logId: LOG_ID, appliedOffset: 0, resyncs: 0 });
    expect({ logId: follower.log.logId, head: follower.log.head }).toEqual({ logId: LOG_ID, head: 1 });
  });
});
