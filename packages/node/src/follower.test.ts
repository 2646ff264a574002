import { LeaderUnreachableError } from "@lab/replication";
import { createManualClock, systemClock, type ManualClock } from "@lab/service";
import request from "supertest";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createFollower, type Follower } from "./follower.ts";
import { entry, fakeClient, flushPromises, LEADER_URL, reply, type FakeClient } from "./test-support.ts";

const LAG_MS = 1500;
const POLL_MS = 300;
const T0 = 1_700_000_000_000;
// The leader wrote these a minute before the follower's clock starts.
const created = entry(0, "OrderCreated", "o-1", T0 - 60_000);
const confirmed = entry(1, "OrderConfirmed", "o-1", T0 - 50_000);
const created2 = entry(2, "OrderCreated", "o-2", T0 - 40_000);

let clock: ManualClock;
let client: FakeClient;
let follower: Follower;

beforeEach(async () => {
  clock = createManualClock(T0);
  client = fakeClient();
  follower = await createFollower({ client, applyLagMs: LAG_MS, pollIntervalMs: POLL_MS, clock });
});

/** One fetch that brings `events` (the leader's head just past them), then lets the lag elapse and applies what is due. */
async function replicate(from: number, events: ReturnType<typeof entry>[]): Promise<void> {
  client.script(reply(from, events));
  await follower.pollOnce();
  clock.advance(LAG_MS);
  follower.applyDue();
}

/** Starts a read and resolves once its handler is blocked on the clock; fails if it answers instead. */
async function startWaitingRead(path: string): Promise<{ answer: Promise<request.Response> }> {
  const answer = request(follower.app).get(path).then((res) => res);
  await Promise.race([
    clock.whenSleeping(1),
    answer.then((res) => {
      throw new Error(`expected GET ${path} to wait, but it answered ${res.status} ${res.text}`);
    }),
  ]);
  return { answer };
}

describe("follower GET /orders/:id -> plain reads", () => {
  it("answers 404 for an order not replicated yet", async () => {
    const res = await request(follower.app).get("/orders/o-1");
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ ok: false, error: "not found (maybe not replicated yet)", follower: true, nextFrom: 0, appliedOffset: null });
  });

  it("serves an applied order with its position, and updatedAt from the event, not the follower's clock", async () => {
    await replicate(0, [created]);
    const res = await request(follower.app).get("/orders/o-1");
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      ok: true,
      follower: true,
      nextFrom: 1,
      appliedOffset: 0,
      applyLagMs: LAG_MS,
      order: { id: "o-1", status: "PENDING", updatedAt: created.at },
    });
  });

  it("does not serve a received event before its lag elapses", async () => {
    client.script(reply(0, [created]));
    await follower.pollOnce();
    clock.advance(LAG_MS - 1);
    follower.applyDue();
    expect((await request(follower.app).get("/orders/o-1")).status, "read 1 ms before the lag elapses").toBe(404);
  });

  it.each(["-o-1", "a".repeat(65), "o%201"])("refuses the bad id %j with 400", async (id) => {
    const res = await request(follower.app).get(`/orders/${id}`);
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ ok: false, code: "INVALID_ID" });
  });

  it("answers 404 JSON for an unknown route", async () => {
    const res = await request(follower.app).get("/nope");
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ ok: false, code: "NO_SUCH_ROUTE" });
  });
});

describe("follower GET /orders/:id?minOffset= -> read your writes", () => {
  it("answers at once when the offset is already applied, even with timeoutMs=0", async () => {
    await replicate(0, [created]);
    const res = await request(follower.app).get("/orders/o-1?minOffset=0&timeoutMs=0");
    expect(res.status, res.text).toBe(200);
    expect(res.body.order.status).toBe("PENDING");
  });

  it("waits until the offset is applied, then answers with the fresh state", async () => {
    await replicate(0, [created]);
    const { answer } = await startWaitingRead("/orders/o-1?minOffset=1&timeoutMs=5000");
    await replicate(1, [confirmed]);
    const res = await answer;
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ appliedOffset: 1, order: { status: "CONFIRMED", updatedAt: confirmed.at } });
    expect(clock.sleeping, "sleeps left behind by the answered read").toBe(0);
  });

  it("answers 504 NOT_YET_APPLIED with its position and the leader's URL when the wait times out", async () => {
    await replicate(0, [created]);
    const { answer } = await startWaitingRead("/orders/o-1?minOffset=1&timeoutMs=500");
    clock.advance(500);
    const res = await answer;
    expect(res.status, res.text).toBe(504);
    expect(res.body).toMatchObject({ ok: false, code: "NOT_YET_APPLIED", appliedOffset: 0, minOffset: 1, leader: LEADER_URL });
    expect(res.body.error).toContain(LEADER_URL);
  });

  it.each(["minOffset=-1", "minOffset=abc", "minOffset=0&timeoutMs=-1", "minOffset=0&timeoutMs=abc", "minOffset=0&timeoutMs=30001"])(
    "refuses ?%s with 400 INVALID_PARAMETER",
    async (query) => {
      const res = await request(follower.app).get(`/orders/o-1?${query}`);
      expect(res.status, res.text).toBe(400);
      expect(res.body).toMatchObject({ ok: false, code: "INVALID_PARAMETER" });
      expect(clock.sleeping, "a refused read must not wait").toBe(0);
    },
  );
});

describe("follower writes -> refused as READONLY", () => {
  const writes: [string, (t: ReturnType<typeof request>) => request.Test][] = [
    ["POST /orders", (t) => t.post("/orders").send({ id: "o-9" })],
    ["POST /orders/o-1/confirm", (t) => t.post("/orders/o-1/confirm")],
    ["PUT /orders/o-1", (t) => t.put("/orders/o-1").send({ status: "CANCELED" })],
    ["PATCH /orders/o-1", (t) => t.patch("/orders/o-1").send({ status: "CANCELED" })],
    ["DELETE /orders/o-1", (t) => t.delete("/orders/o-1")],
    ["DELETE /anything", (t) => t.delete("/anything")],
  ];

  it.each(writes)("%s -> 403 naming the leader, nothing changed", async (_name, send) => {
    await replicate(0, [created]);
    const before = { status: follower.status(), order: (await request(follower.app).get("/orders/o-1")).body, fetches: client.calls.length };
    const res = await send(request(follower.app));
    expect(res.status, res.text).toBe(403);
    expect(res.body).toMatchObject({ ok: false, code: "READONLY", leader: LEADER_URL });
    expect(res.body.error).toContain(LEADER_URL);
    const after = { status: follower.status(), order: (await request(follower.app).get("/orders/o-1")).body, fetches: client.calls.length };
    expect(after, "state after a refused write").toEqual(before);
  });
});

describe("follower GET /status -> replication position", () => {
  const status = async () => (await request(follower.app).get("/status").expect(200)).body;

  it("reports nothing known before the first fetch", async () => {
    expect(await status()).toMatchObject({
      nextFrom: 0,
      appliedOffset: null,
      head: null,
      pending: 0,
      lag: { events: null, ms: null },
      leaderReachable: null,
      applyLagMs: LAG_MS,
      pollIntervalMs: POLL_MS,
    });
  });

  it("separates received from applied as events are applied one lag apart", async () => {
    client.script(reply(0, [created, confirmed, created2]));
    await follower.pollOnce();
    expect(await status(), "after receiving 3").toMatchObject({ nextFrom: 3, appliedOffset: null, head: 3, pending: 3, leaderReachable: true, lag: { events: 3, ms: 60_000 } });

    clock.advance(LAG_MS);
    follower.applyDue();
    expect(await status(), "after applying 1 of 3").toMatchObject({ appliedOffset: 0, pending: 2, lag: { events: 2, ms: 50_000 + LAG_MS } });

    clock.advance(2 * LAG_MS);
    follower.applyDue();
    expect(await status(), "after applying all").toMatchObject({ nextFrom: 3, appliedOffset: 2, head: 3, pending: 0, lag: { events: 0, ms: 0 } });
  });

  it("counts events the leader has but the follower has not fetched yet in lag.events", async () => {
    client.script(reply(0, [created, confirmed], 5));
    await follower.pollOnce();
    clock.advance(2 * LAG_MS);
    follower.applyDue();
    expect(await status(), "after applying 2 of the leader's 5").toMatchObject({ nextFrom: 2, appliedOffset: 1, head: 5, pending: 0, lag: { events: 3 } });
  });

  it("reports the leader unreachable while serving what it applied", async () => {
    await replicate(0, [created]);
    client.script(new LeaderUnreachableError(LEADER_URL, "ECONNREFUSED"));
    await follower.pollOnce();
    expect(await status()).toMatchObject({ leaderReachable: false, appliedOffset: 0, head: 1 });
    expect((await request(follower.app).get("/orders/o-1")).status).toBe(200);
  });
});

describe("follower log lines -> what it applied", () => {
  it("says each event it applies in a line of its own, and a burst of more than five in one line", async () => {
    const lines: string[] = [];
    // No lag: what a fetch brings is applied in one go, as under load.
    follower = await createFollower({ client, applyLagMs: 0, pollIntervalMs: POLL_MS, clock, logLine: (line) => lines.push(line) });
    const applied = () => lines.filter((line) => line.startsWith("applied"));

    await replicate(0, [created, confirmed]);
    expect(applied()).toEqual([
      "applied offset=0 type=OrderCreated orderId=o-1 lag=60000ms",
      "applied offset=1 type=OrderConfirmed orderId=o-1 lag=50000ms",
    ]);

    // Seven written a second apart, the newest 10 s before the clock's start, applied LAG_MS after it.
    const burst = Array.from({ length: 7 }, (_, i) => entry(2 + i, "OrderCreated", `o-${2 + i}`, T0 - 16_000 + i * 1000));
    lines.length = 0;
    await replicate(2, burst);
    expect(applied()).toEqual([`applied offset=2..8 (7 events, the last type=OrderCreated orderId=o-8) lag=${10_000 + LAG_MS}..${16_000 + LAG_MS}ms`]);
  });
});

describe("follower start/stop -> background loops", () => {
  afterEach(() => vi.useRealTimers());

  it("replicates in the background and stops, aborting the in-flight fetch and leaving no sleep", async () => {
    client.script(reply(0, [created, confirmed]), "hang");
    follower.start();
    await clock.whenSleeping(2); // the receive loop waits POLL_MS; the apply loop waits for offset 0's lag
    clock.advance(LAG_MS);
    await client.whenCalled(2); // the second fetch hangs until aborted
    await clock.whenSleeping(1); // the apply loop waits for offset 1's lag
    expect(follower.status().appliedOffset, "applied by the loop").toBe(0);

    await follower.stop();
    expect(client.aborted, "in-flight fetches aborted").toBe(1);
    expect(clock.sleeping, "sleeps left after stop").toBe(0);
    await follower.stop(); // a second stop is harmless
  });

  it("clears its real timers on stop", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    follower = await createFollower({ client, applyLagMs: LAG_MS, pollIntervalMs: POLL_MS, clock: systemClock });
    client.script(reply(0, []));
    follower.start();
    await client.whenCalled(1);
    await flushPromises();
    expect(vi.getTimerCount(), "timers while the receive loop waits").toBe(1);
    await follower.stop();
    expect(vi.getTimerCount(), "timers left after stop").toBe(0);
  });
});
