import { createMemoryLog, type ReplicationLog } from "@lab/replication";
import { createManualClock, jsonErrorHandler, notFoundRoute, type ManualClock } from "@lab/service";
import express, { type Express } from "express";
import request from "supertest";
import { beforeEach, describe, expect, it } from "vitest";
import { serveLog, type ServingNode } from "./serve-log.ts";

const LOG_ID = "00000000000000aa";
const TIMEOUT_MS = 3000;

let clock: ManualClock;
let log: ReplicationLog<{ n: number }>;
let node: ServingNode & { ready: boolean; upstream: string[] };
let app: Express;

/** A follower named "middle" (below "leader") serving a log of 5 events. */
beforeEach(() => {
  clock = createManualClock(1000);
  log = createMemoryLog<{ n: number }>({ logId: LOG_ID });
  for (let n = 0; n < 5; n++) log.append({ n });
  node = {
    id: "middle",
    ready: true,
    upstream: ["leader"],
    role: () => "follower",
    chain: () => [...node.upstream, "middle"],
    notReady: () => (node.ready ? undefined : "middle has not reached its upstream yet"),
    stalenessMs: () => 40,
    leaderUrl: () => "http://leader.test:3000",
  };
  const served = serveLog({ log, clock, node, followerTimeoutMs: TIMEOUT_MS, snapshot: () => ({ offset: log.head, state: ["s"] }) });
  app = express();
  app.use(served.router);
  app.use(notFoundRoute);
  app.use(jsonErrorHandler(() => {}));
});

const replication = async () => (await request(app).get("/replication").expect(200)).body;

/** Sends a request that must be refused, and checks that the node's view of its followers did not change. */
async function expectRefused(send: () => request.Test, status: number, code: string, error?: RegExp): Promise<request.Response> {
  const before = await replication();
  const res = await send();
  expect(res.status, res.text).toBe(status);
  expect(res.body).toMatchObject({ ok: false, code });
  if (error) expect(res.body.error).toMatch(error);
  expect(await replication(), "a refused request must not change what the node knows of its followers").toEqual(before);
  return res;
}

describe("GET /events -> as a follower's progress report", () => {
  it("answers with who answered and where it sits in the chain, how long it held the fetch and how stale its head may be", async () => {
    const { body } = await request(app).get(`/events?from=3&follower=f-1&applied=2&logId=${LOG_ID}`).expect(200);
    expect(body).toMatchObject({ ok: true, follower: true, nodeId: "middle", chain: ["leader", "middle"], leaderUrl: "http://leader.test:3000", from: 3, nextFrom: 5, head: 5, heldMs: 0, stalenessMs: 40 });
    expect(body.leader, "a follower does not call itself the leader").toBeUndefined();
  });

  it("records the follower's received and applied positions", async () => {
    await request(app).get("/events?from=3&follower=f-1&applied=2").expect(200);
    expect((await replication()).followers).toEqual([
      expect.objectContaining({ id: "f-1", via: null, state: "streaming", receivedOffset: 2, appliedOffset: 1, lag: { events: 3, ms: 0 }, fetches: 1 }),
    ]);
  });

  it("shows a held fetch as waiting, and how long it was held", async () => {
    const held = request(app).get("/events?from=5&follower=f-1&applied=5&waitMs=5000").then((r) => r);
    await clock.whenSleeping(1);
    expect((await replication()).followers[0]).toMatchObject({ id: "f-1", state: "streaming", waiting: true });
    clock.advance(5000);
    expect((await held).body).toMatchObject({ events: [], heldMs: 5000 });
    expect((await replication()).followers[0]).toMatchObject({ waiting: false });
  });

  it("holds a fetch that asks for a batch batchWaitMs, with the events that came meanwhile; not when a full reply is ready", async () => {
    const held = request(app).get("/events?from=3&follower=f-1&applied=3&waitMs=5000&batchWaitMs=50&limit=10").then((r) => r);
    await clock.whenSleeping(1);
    log.append({ n: 5 }); // a write while the fetch is held for a batch
    clock.advance(50);
    expect((await held).body, "the two events it asked for, and the one that came").toMatchObject({ from: 3, nextFrom: 6, heldMs: 50 });
    const full = await request(app).get("/events?from=3&follower=f-1&applied=3&waitMs=5000&batchWaitMs=50&limit=2");
    expect(full.body, "a full reply was ready: no reason to wait").toMatchObject({ nextFrom: 5, heldMs: 0 });
  });

  it("lists the followers a follower reports below it", async () => {
    const below = JSON.stringify([["f-2", "f-1", "streaming", 5, 4]]);
    await request(app).get(`/events?from=5&follower=f-1&applied=5&downstream=${encodeURIComponent(below)}`).expect(200);
    expect((await replication()).followers.map((f: { id: string; via: string | null }) => [f.id, f.via])).toEqual([
      ["f-1", null],
      ["f-2", "f-1"],
    ]);
  });
});

describe("GET /events -> refusals that change nothing", () => {
  it.each([
    ["an empty follower", "follower="],
    ["a follower id with a space", "follower=a%20b"],
    ["a follower id of 65 characters", `follower=${"f".repeat(65)}`],
    ["applied past from", "from=2&follower=f-1&applied=3"],
    ["applied that is not a number", "from=2&follower=f-1&applied=x"],
    ["batchWaitMs that is not a number", "follower=f-1&applied=0&batchWaitMs=soon"],
    ["downstream that is not JSON", "follower=f-1&applied=0&downstream=%5B"],
    ["downstream rows of the wrong shape", `follower=f-1&applied=0&downstream=${encodeURIComponent('[["f-2"]]')}`],
    ["downstream with an unknown state", `follower=f-1&applied=0&downstream=${encodeURIComponent('[["f-2","f-1","asleep",0,0]]')}`],
  ])("%s: 400 INVALID_PARAMETER", async (_what, query) => {
    await expectRefused(() => request(app).get(`/events?${query}`), 400, "INVALID_PARAMETER");
  });

  it("refuses a follower that names this node itself: 409 REPLICATION_LOOP", async () => {
    const res = await expectRefused(() => request(app).get("/events?follower=middle&applied=0"), 409, "REPLICATION_LOOP", /middle cannot follow itself/);
    expect(res.body).toMatchObject({ nodeId: "middle", chain: ["leader", "middle"] });
  });

  it("refuses a follower this node reads from, directly or further up: 409 REPLICATION_LOOP naming the chain", async () => {
    node.upstream = ["leader", "top"];
    await expectRefused(() => request(app).get("/events?follower=top&applied=0"), 409, "REPLICATION_LOOP", /top is upstream of middle \(leader -> top -> middle\)/);
    await expectRefused(() => request(app).get("/events?follower=leader&applied=0"), 409, "REPLICATION_LOOP");
  });

  it("answers 503 NOT_READY, with its chain, while it has no log to serve", async () => {
    node.ready = false;
    node.upstream = [];
    const res = await expectRefused(() => request(app).get("/events?follower=f-1&applied=0"), 503, "NOT_READY", /has not reached its upstream/);
    expect(res.body).toMatchObject({ follower: true, nodeId: "middle", chain: ["middle"] });
    await expectRefused(() => request(app).get("/snapshot"), 503, "NOT_READY");
  });

  it("refuses another log's id with 409 LOG_ID_MISMATCH naming this follower's log", async () => {
    const res = await expectRefused(() => request(app).get("/events?logId=00000000000000bb&follower=f-1&applied=0"), 409, "LOG_ID_MISMATCH", /this follower's log is 00000000000000aa/);
    expect(res.body).toMatchObject({ logId: LOG_ID, start: 0, head: 5 });
  });
});

describe("GET /snapshot", () => {
  it("answers the state and its offset, and marks the follower that asked as resyncing", async () => {
    await request(app).get("/events?from=5&follower=f-1&applied=5").expect(200);
    const { body } = await request(app).get("/snapshot?follower=f-1").expect(200);
    expect(body).toEqual({ ok: true, follower: true, nodeId: "middle", chain: ["leader", "middle"], leaderUrl: "http://leader.test:3000", logId: LOG_ID, offset: 5, state: ["s"] });
    expect((await replication()).followers[0]).toMatchObject({ id: "f-1", state: "resyncing", appliedOffset: null });
  });
});

describe("POST /replication/ack", () => {
  const ack = (body: unknown) => request(app).post("/replication/ack").send(body as object);

  it("records a follower's progress between fetches", async () => {
    await request(app).get("/events?from=5&follower=f-1&applied=3").expect(200);
    await ack({ follower: "f-1", logId: LOG_ID, received: 5, applied: 5, downstream: [["f-2", "f-1", "streaming", 5, 5]] }).expect(200, {
      ok: true,
      follower: true,
      nodeId: "middle",
      chain: ["leader", "middle"],
      leaderUrl: "http://leader.test:3000",
    });
    expect((await replication()).followers).toEqual([
      expect.objectContaining({ id: "f-1", appliedOffset: 4, lag: { events: 0, ms: 0 } }),
      expect.objectContaining({ id: "f-2", via: "f-1", appliedOffset: 4 }),
    ]);
  });

  it.each([
    ["no follower", { logId: LOG_ID, received: 1, applied: 1 }, 400, "INVALID_PARAMETER"],
    ["no logId", { follower: "f-1", received: 1, applied: 1 }, 400, "INVALID_BODY"],
    ["a negative position", { follower: "f-1", logId: LOG_ID, received: -1, applied: 0 }, 400, "INVALID_BODY"],
    ["a position that is a string", { follower: "f-1", logId: LOG_ID, received: "5", applied: 0 }, 400, "INVALID_BODY"],
    ["applied past received", { follower: "f-1", logId: LOG_ID, received: 2, applied: 3 }, 400, "INVALID_BODY"],
    ["received past the head", { follower: "f-1", logId: LOG_ID, received: 6, applied: 0 }, 409, "OFFSET_OUT_OF_RANGE"],
    ["another log", { follower: "f-1", logId: "00000000000000bb", received: 1, applied: 1 }, 409, "LOG_ID_MISMATCH"],
    ["this node as the follower", { follower: "middle", logId: LOG_ID, received: 1, applied: 1 }, 409, "REPLICATION_LOOP"],
    ["a bad downstream", { follower: "f-1", logId: LOG_ID, received: 1, applied: 1, downstream: "x" }, 400, "INVALID_PARAMETER"],
  ])("refuses %s, changing nothing", async (_what, body, status, code) => {
    await expectRefused(() => ack(body), status, code);
  });

  it("refuses a body that is not JSON with 415, and malformed JSON with 400", async () => {
    await expectRefused(() => request(app).post("/replication/ack").type("text/plain").send("follower=f-1"), 415, "UNSUPPORTED_MEDIA_TYPE");
    await expectRefused(() => request(app).post("/replication/ack").type("json").send("{"), 400, "INVALID_JSON");
  });
});

describe("GET /events -> across leaderships (epochs)", () => {
  /** This node's log: epoch 1 wrote offsets 0-2, epoch 2 offsets 3-4. */
  const withEpochs = async () => {
    log = createMemoryLog<{ n: number }>({ logId: LOG_ID, epochs: [{ epoch: 1, start: 0 }, { epoch: 2, start: 3 }] });
    for (let n = 0; n < 5; n++) log.append({ n });
    const served = serveLog({ log, clock, node, followerTimeoutMs: TIMEOUT_MS, snapshot: () => ({ offset: log.head, state: [] }) });
    app = express();
    app.use(served.router);
    app.use(jsonErrorHandler(() => {}));
  };

  it("says its latest epoch and its history in every reply, and in its snapshot", async () => {
    await withEpochs();
    const { body } = await request(app).get("/events?from=5").expect(200);
    expect(body).toMatchObject({ epoch: 2, epochs: [{ epoch: 1, start: 0 }, { epoch: 2, start: 3 }] });
    expect((await request(app).get("/snapshot")).body.epochs).toEqual([{ epoch: 1, start: 0 }, { epoch: 2, start: 3 }]);
  });

  it("tells a follower whose log goes past the end of its epoch here where to cut it: 409 DIVERGED", async () => {
    await withEpochs();
    // The follower followed the leader of epoch 1 and received up to offset 5: offsets 3-5 never existed here in epoch 1.
    const res = await expectRefused(() => request(app).get("/events?from=6&epoch=1&follower=f-1&applied=6"), 409, "DIVERGED", /epoch 1 ends at offset 3 in this log, but the follower's log goes on to 5: drop offsets 3 to 5/);
    expect(res.body).toMatchObject({ truncateTo: 3, epoch: 2 });
  });

  it("serves a follower of an older epoch whose log is a prefix of this one, with no resync", async () => {
    await withEpochs();
    const { body } = await request(app).get("/events?from=3&epoch=1").expect(200);
    expect(body.events.map((e: { offset: number }) => e.offset)).toEqual([3, 4]);
  });

  it("refuses a follower that has seen a newer leadership than this node: 409 STALE_EPOCH", async () => {
    await withEpochs();
    await expectRefused(() => request(app).get("/events?from=5&epoch=3"), 409, "STALE_EPOCH", /latest leadership is epoch 2, but the follower has seen epoch 3: this node was replaced/);
  });
});
