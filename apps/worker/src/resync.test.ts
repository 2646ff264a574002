import type { Order, OrderEvent } from "@lab/orders";
import { LeaderReplyError, type EventsReply, type LogClient, type SnapshotReply } from "@lab/replication";
import { createManualClock } from "@lab/service";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { createFollower } from "./follower.ts";
import { entry, LEADER_URL, reply } from "./test-support.ts";

/** A client whose fetches and snapshots are scripted, in order. */
function scriptedClient(events: (EventsReply<OrderEvent> | Error)[], snapshots: SnapshotReply<Order[]>[]): LogClient<OrderEvent, Order[]> {
  return {
    leaderUrl: LEADER_URL,
    fetchEvents: async () => {
      const next = events.shift();
      if (!next) throw new Error("no reply scripted");
      if (next instanceof Error) throw next;
      return next;
    },
    fetchSnapshot: async () => {
      const next = snapshots.shift();
      if (!next) throw new Error("no snapshot scripted");
      return next;
    },
    close: async () => {},
  };
}

const mismatch = () => new LeaderReplyError(409, "LOG_ID_MISMATCH", "this leader's log is b, not log-test");

describe("follower -> resync from a snapshot", () => {
  it("replaces its state with the snapshot's and follows the new log from its offset", async () => {
    const lines: string[] = [];
    const snapshot: SnapshotReply<Order[]> = { ok: true, leader: true, logId: "b", offset: 1, state: [{ id: "n-1", status: "PENDING", updatedAt: 5 }] };
    const client = scriptedClient([reply(0, [entry(0, "OrderCreated", "o-1", 1)]), mismatch()], [snapshot]);
    const follower = createFollower({ client, applyLagMs: 0, pollIntervalMs: 100, clock: createManualClock(), logLine: (l) => lines.push(l) });
    await follower.pollOnce();
    follower.applyDue();
    expect(await follower.pollOnce(), "wait after a resync").toBe(0);

    await request(follower.app).get("/orders/o-1").expect(404);
    const { body } = await request(follower.app).get("/orders/n-1").expect(200);
    expect(body.order).toEqual(snapshot.state[0]);
    expect(follower.status()).toMatchObject({ logId: "b", nextFrom: 1, appliedOffset: 0, resyncs: 1 });
    expect(lines.filter((l) => l.startsWith("resync #1: LOG_ID_MISMATCH"))).toHaveLength(1);
  });

  it("keeps its state and position when the snapshot is malformed", async () => {
    const bad = { ok: true, leader: true, logId: "b", offset: 2, state: [{ id: "n-1", status: "PENDING", updatedAt: 5 }, null] } as unknown as SnapshotReply<Order[]>;
    const client = scriptedClient([reply(0, [entry(0, "OrderCreated", "o-1", 1)]), mismatch()], [bad]);
    const follower = createFollower({ client, applyLagMs: 0, pollIntervalMs: 100, clock: createManualClock() });
    await follower.pollOnce();
    follower.applyDue();
    await follower.pollOnce();

    await request(follower.app).get("/orders/o-1").expect(200);
    await request(follower.app).get("/orders/n-1").expect(404);
    expect(follower.status()).toMatchObject({ logId: "log-test", appliedOffset: 0, resyncs: 0 });
  });
});
