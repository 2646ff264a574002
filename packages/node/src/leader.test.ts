import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyEvent, createOrders as createOrderState, type Order, type OrderEvent } from "@lab/orders";
import { createMemoryLog, MAX_EVENTS_LIMIT, openFileLog, type LogEntry, type ReplicationLog } from "@lab/replication";
import { createManualClock, type ManualClock } from "@lab/service";
import type { Express } from "express";
import request from "supertest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLeaderApp } from "./leader.ts";

let log: ReplicationLog<OrderEvent>;
let clock: ManualClock;
let app: Express;

beforeEach(() => {
  log = createMemoryLog<OrderEvent>();
  clock = createManualClock(1000);
  app = createLeaderApp({ log, clock });
});

/** Creates orders through the API, one clock tick (10 ms) apart. */
async function createOrders(...ids: string[]): Promise<void> {
  for (const id of ids) {
    await request(app).post("/orders").send({ id }).expect(201);
    clock.advance(10);
  }
}

/** Everything a request could change: the whole log and the orders the tests use. */
async function snapshot() {
  const read = log.readFrom(0, MAX_EVENTS_LIMIT);
  const orders: Record<string, unknown> = {};
  for (const id of ["o-1", "o-2", "o-3"]) orders[id] = (await request(app).get(`/orders/${id}`)).body;
  return { head: log.head, events: read.ok ? read.entries : read, orders };
}

/** Asserts a JSON error reply `{ok: false, code, error}` with the given status and code. */
function expectError(res: request.Response, status: number, code: string, error?: string | RegExp, label = "the request"): void {
  const what = `${label} -> ${res.status} ${res.text}`;
  expect(res.status, what).toBe(status);
  expect(res.headers["content-type"], `content-type of ${what}`).toMatch(/^application\/json/);
  expect(res.text, `an HTML page leaked: ${what}`).not.toMatch(/<(!doctype|html|body|pre)\b/i);
  expect(res.body, what).toMatchObject({ ok: false, code });
  expect(typeof res.body.error, `error must be a sentence: ${what}`).toBe("string");
  if (error !== undefined) expect(res.body.error, what).toMatch(error);
}

/** Sends a request that must be refused, and checks that it appended nothing and changed no order. */
async function expectRefused(
  send: () => request.Test,
  status: number,
  code: string,
  error?: string | RegExp,
): Promise<request.Response> {
  const before = await snapshot();
  const test = send();
  const res = await test;
  expectError(res, status, code, error, `${test.method} ${test.url.replace(/^http:\/\/[^/]+/, "")}`);
  expect(log.head, "a refused request must not append to the log").toBe(before.head);
  expect(await snapshot(), "a refused request must not change the log or any order").toEqual(before);
  return res;
}

const json = (path: string, body: string) => request(app).post(path).set("Content-Type", "application/json").send(body);

describe("POST /orders -> a new id", () => {
  it("answers 201 with the PENDING order and the OrderCreated event at the clock's time", async () => {
    const res = await request(app).post("/orders").send({ id: "o-1" }).expect("Content-Type", /json/).expect(201);
    expect(res.body).toEqual({
      ok: true,
      leader: true,
      order: { id: "o-1", status: "PENDING", updatedAt: 1000 },
      event: { offset: 0, type: "OrderCreated", orderId: "o-1", at: 1000 },
    });
    expect(log.head).toBe(1);
    await request(app).get("/orders/o-1").expect(200, { ok: true, leader: true, appliedOffset: res.body.event.offset, order: res.body.order });
  });

  it("gives consecutive offsets 0, 1, 2, each with updatedAt === event.at === the clock", async () => {
    for (const [offset, id] of ["o-1", "o-2", "o-3"].entries()) {
      clock.advance(7);
      const { body } = await request(app).post("/orders").send({ id }).expect(201);
      expect(body.event, `event for ${id}`).toEqual({ offset, type: "OrderCreated", orderId: id, at: clock.now() });
      expect(body.order.updatedAt, `updatedAt of ${id}`).toBe(body.event.at);
    }
    expect(log.head).toBe(3);
  });

  it("does not hash its replies into an ETag: a write or a batch of the log is never revalidated", async () => {
    const write = await request(app).post("/orders").send({ id: "o-1" }).expect(201);
    const events = await request(app).get("/events?from=0").expect(200);
    expect(write.headers.etag).toBeUndefined();
    expect(events.headers.etag).toBeUndefined();
  });
});

describe("POST /orders -> an id that exists", () => {
  it("refuses it with 409 ORDER_EXISTS, shows the existing order and appends nothing", async () => {
    await createOrders("o-1");
    const res = await expectRefused(() => request(app).post("/orders").send({ id: "o-1" }), 409, "ORDER_EXISTS", /o-1 already exists/);
    expect(res.body.order).toEqual({ id: "o-1", status: "PENDING", updatedAt: 1000 });
  });
});

describe("POST /orders/:id/confirm and /cancel -> a PENDING order", () => {
  it.each([
    ["confirm", "CONFIRMED", "OrderConfirmed"],
    ["cancel", "CANCELED", "OrderCanceled"],
  ])("%s moves it to %s with an %s event", async (action, status, type) => {
    await createOrders("o-1");
    clock.advance(490);
    const res = await request(app).post(`/orders/o-1/${action}`).expect(200);
    expect(res.body).toEqual({
      ok: true,
      leader: true,
      order: { id: "o-1", status, updatedAt: 1500 },
      event: { offset: 1, type, orderId: "o-1", at: 1500 },
    });
    await request(app).get("/orders/o-1").expect(200, { ok: true, leader: true, appliedOffset: res.body.event.offset, order: res.body.order });
  });
});

describe("POST /orders/:id/confirm and /cancel -> an order that is no longer PENDING", () => {
  it.each([
    ["cancel", "confirm", "CANCELED"],
    ["confirm", "cancel", "CONFIRMED"],
    ["confirm", "confirm", "CONFIRMED"],
  ])("after %s, %s is 409 INVALID_TRANSITION naming %s, and appends nothing", async (first, second, status) => {
    await createOrders("o-1");
    await request(app).post(`/orders/o-1/${first}`).expect(200);
    const res = await expectRefused(() => request(app).post(`/orders/o-1/${second}`), 409, "INVALID_TRANSITION", `is ${status}`);
    expect(res.body.order).toEqual({ id: "o-1", status, updatedAt: 1010 });
  });
});

describe("POST /orders/:id/confirm, /cancel and GET /orders/:id -> an unknown order", () => {
  it.each(["post /orders/o-9/confirm", "post /orders/o-9/cancel", "get /orders/o-9"])("%s is 404 ORDER_NOT_FOUND", async (line) => {
    await createOrders("o-1");
    const [method, path] = line.split(" ") as ["post" | "get", string];
    await expectRefused(() => request(app)[method](path), 404, "ORDER_NOT_FOUND", "order o-9 not found");
  });
});

describe("POST /orders -> a body that is not a JSON object with a valid id", () => {
  beforeEach(() => createOrders("o-1"));

  it("refuses malformed JSON with 400 INVALID_JSON and appends nothing", async () => {
    await expectRefused(() => json("/orders", '{"id": "o-2"'), 400, "INVALID_JSON");
  });

  it.each([
    ["[]", "INVALID_BODY"],
    ['"x"', "INVALID_JSON"],
    ["42", "INVALID_JSON"],
    ["null", "INVALID_JSON"],
  ])("refuses the body %s with 400 %s and appends nothing", async (body, code) => {
    await expectRefused(() => json("/orders", body), 400, code);
  });

  it.each([
    ["{}", "id is required"],
    ['{"id":""}', "id must not be empty"],
    ['{"id":42}', "id must be a string, got number"],
    ['{"id":"a/b"}', "id must be 1-64 characters"],
    [JSON.stringify({ id: "x".repeat(65) }), "id must be 1-64 characters"],
  ])("refuses %s with 400 INVALID_ID (%s) and appends nothing", async (body, error) => {
    await expectRefused(() => json("/orders", body), 400, "INVALID_ID", error);
  });

  it("refuses form data with 415 UNSUPPORTED_MEDIA_TYPE and appends nothing", async () => {
    await expectRefused(() => request(app).post("/orders").type("form").send({ id: "o-2" }), 415, "UNSUPPORTED_MEDIA_TYPE", /Content-Type/);
  });

  it("refuses text/plain JSON with 415 UNSUPPORTED_MEDIA_TYPE and appends nothing", async () => {
    const send = () => request(app).post("/orders").set("Content-Type", "text/plain").send('{"id":"o-2"}');
    await expectRefused(send, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("refuses a request with no body at all with 400 and appends nothing", async () => {
    await expectRefused(() => request(app).post("/orders"), 400, "INVALID_BODY");
  });

  it("refuses an empty JSON body with 400 INVALID_ID and appends nothing", async () => {
    await expectRefused(() => json("/orders", ""), 400, "INVALID_ID", "id is required");
  });

  it("refuses a body over 1024 bytes with 413 BODY_TOO_LARGE and appends nothing", async () => {
    const send = () => request(app).post("/orders").send({ id: "o-2", note: "x".repeat(1024) });
    await expectRefused(send, 413, "BODY_TOO_LARGE", /1024-byte/);
  });
});

describe("/orders/:id routes -> an invalid id in the path", () => {
  beforeEach(() => createOrders("o-1"));

  it.each([
    ["post", "/orders/-o-1/confirm"],
    ["post", "/orders/a%2Fb/cancel"],
    ["post", "/orders/%20/confirm"],
    ["post", `/orders/${"x".repeat(65)}/confirm`],
    ["get", "/orders/..%2Fo-1"],
  ] as const)("%s %s is 400 INVALID_ID and appends nothing", async (method, path) => {
    await expectRefused(() => request(app)[method](path), 400, "INVALID_ID", "id must be 1-64 characters");
  });

  it.each([
    ["get", "/orders/%E0%A4%A"],
    ["post", "/orders/%E0%A4%A/confirm"],
  ] as const)("%s %s (a malformed %%-escape) is a JSON 400 and appends nothing", async (method, path) => {
    await expectRefused(() => request(app)[method](path), 400, "BAD_REQUEST");
  });
});

describe("unknown routes and methods", () => {
  beforeEach(() => createOrders("o-1"));

  it.each([
    ["get", "/nope"],
    ["delete", "/orders/o-1"],
    ["put", "/orders/o-1"],
    ["get", "/orders"],
    ["post", "/orders/o-1/ship"],
    ["post", "/events"],
  ] as const)("%s %s is 404 NO_SUCH_ROUTE as JSON and changes nothing", async (method, path) => {
    await expectRefused(() => request(app)[method](path), 404, "NO_SUCH_ROUTE", `no route for ${method.toUpperCase()} ${path}`);
  });
});

describe("GET /events -> a log of 25 events", () => {
  const ids = Array.from({ length: 25 }, (_, i) => `o-${i + 1}`);
  beforeEach(() => createOrders(...ids));

  it("reads from offset 0 by default, every event in the chapter's shape", async () => {
    const { body } = await request(app).get("/events").expect(200);
    expect(body).toMatchObject({ ok: true, leader: true, from: 0, nextFrom: 25, head: 25 });
    expect(body.events).toHaveLength(25);
    expect(body.events[3]).toEqual({ offset: 3, type: "OrderCreated", orderId: "o-4", at: 1030 });
  });

  it("treats from as inclusive, with consecutive offsets", async () => {
    const { body } = await request(app).get("/events?from=7&limit=3").expect(200);
    expect(body.events.map((e: { offset: number }) => e.offset)).toEqual([7, 8, 9]);
    expect(body).toMatchObject({ from: 7, nextFrom: 10, head: 25 });
  });

  it("pages through with limit=10 as 10, 10, 5, then an empty page at the head", async () => {
    const sizes: number[] = [];
    const seen: string[] = [];
    let from = 0;
    for (let page = 0; page < 4; page++) {
      const { body } = await request(app).get(`/events?from=${from}&limit=10`).expect(200);
      expect(body, `page ${page}`).toMatchObject({ ok: true, leader: true, from, head: 25 });
      expect(body.nextFrom, `page ${page}: nextFrom`).toBe(from + body.events.length);
      sizes.push(body.events.length);
      seen.push(...body.events.map((e: OrderEvent) => e.orderId));
      from = body.nextFrom;
    }
    expect(sizes).toEqual([10, 10, 5, 0]);
    expect(seen).toEqual(ids);
  });

  it("answers from === head with no events and nextFrom === head", async () => {
    await request(app)
      .get("/events?from=25")
      .expect(200, { ok: true, leader: true, nodeId: "leader", chain: ["leader"], logId: log.logId, start: 0, from: 25, nextFrom: 25, head: 25, heldMs: 0, stalenessMs: 0, events: [] });
  });

  it("refuses from > head with 409 OFFSET_OUT_OF_RANGE, giving start and head", async () => {
    const res = await expectRefused(() => request(app).get("/events?from=26"), 409, "OFFSET_OUT_OF_RANGE", /offsets 0 to 24/);
    expect(res.body).toMatchObject({ start: 0, head: 25 });
  });

  it.each([
    ["from", "from=-1"],
    ["from", "from=abc"],
    ["from", "from=1.5"],
    ["from", "from=1e3"],
    ["from", "from="],
    ["from", "from=1&from=2"],
    ["limit", "limit=0"],
    ["limit", "limit=-1"],
    ["limit", "limit=abc"],
    ["limit", `limit=${MAX_EVENTS_LIMIT + 1}`],
  ])("refuses %s in ?%s with 400 INVALID_PARAMETER naming it", async (parameter, query) => {
    const res = await expectRefused(() => request(app).get(`/events?${query}`), 400, "INVALID_PARAMETER", new RegExp(`^${parameter} `));
    expect(res.body.parameter).toBe(parameter);
  });
});

describe("GET /events -> an empty log", () => {
  it("answers from=0 with no events, and refuses from=1 with 409 naming head 0", async () => {
    await request(app)
      .get("/events")
      .expect(200, { ok: true, leader: true, nodeId: "leader", chain: ["leader"], logId: log.logId, start: 0, from: 0, nextFrom: 0, head: 0, heldMs: 0, stalenessMs: 0, events: [] });
    const res = await expectRefused(() => request(app).get("/events?from=1"), 409, "OFFSET_OUT_OF_RANGE", /no events \(head 0\)/);
    expect(res.body).toMatchObject({ start: 0, head: 0 });
  });
});

describe("GET /health", () => {
  it("reports the leader's head", async () => {
    await request(app).get("/health").expect(200, { ok: true, leader: true, nodeId: "leader", role: "leader", epoch: 0, logId: log.logId, start: 0, head: 0, followersWaiting: 0 });
    await createOrders("o-1", "o-2");
    await request(app).get("/health").expect(200, { ok: true, leader: true, nodeId: "leader", role: "leader", epoch: 0, logId: log.logId, start: 0, head: 2, followersWaiting: 0 });
  });
});

/** Replaces the leader with one over `newLog` (the module's `log` and `app`, which the helpers use). */
function useLog(newLog: ReplicationLog<OrderEvent>): void {
  log = newLog;
  app = createLeaderApp({ log, clock });
}

/** A hex log id that is surely not this leader's: its own with the first digit changed. */
const otherLogId = () => (log.logId[0] === "0" ? "1" : "0") + log.logId.slice(1);

const byId = (a: Order, b: Order) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe("GET /events -> the log's identity and start", () => {
  it("carries logId (the log's own) and start 0 for a log that has dropped nothing", async () => {
    await createOrders("o-1", "o-2");
    const { body } = await request(app).get("/events").expect(200);
    expect(log.logId).toMatch(/^[0-9a-f]{16}$/);
    expect(body).toMatchObject({ ok: true, leader: true, logId: log.logId, start: 0, head: 2 });
  });

  it("carries the start the log holds after retention", async () => {
    useLog(createMemoryLog<OrderEvent>({ retain: 2, logId: "00c0ffee" }));
    await createOrders("o-1", "o-2", "o-3");
    const { body } = await request(app).get("/events?from=1").expect(200);
    expect(body).toMatchObject({ ok: true, leader: true, logId: "00c0ffee", start: 1, from: 1, nextFrom: 3, head: 3 });
  });
});

describe("GET /events -> ?logId= of another log", () => {
  beforeEach(() => createOrders("o-1", "o-2", "o-3"));

  it.each([
    ["a 16-digit id", () => otherLogId()],
    ["a short hex id", () => "abc"],
  ])("refuses %s with 409 LOG_ID_MISMATCH, giving the leader's logId, start and head", async (_what, id) => {
    const other = id();
    expect(other).not.toBe(log.logId);
    const res = await expectRefused(() => request(app).get(`/events?from=1&logId=${other}`), 409, "LOG_ID_MISMATCH", /\/snapshot/);
    expect(res.body).toMatchObject({ logId: log.logId, start: 0, head: 3 });
    expect(res.body.events, "a refusal carries no events").toBeUndefined();
  });
});

describe("GET /events -> ?logId= of the leader's own log", () => {
  it("answers 200 with the events", async () => {
    await createOrders("o-1", "o-2");
    const { body } = await request(app).get(`/events?from=1&logId=${log.logId}`).expect(200);
    expect(body).toMatchObject({ ok: true, logId: log.logId, from: 1, nextFrom: 2, head: 2 });
    expect(body.events).toEqual([{ offset: 1, type: "OrderCreated", orderId: "o-2", at: 1010 }]);
  });
});

describe("GET /events -> ?logId= that is not a log id", () => {
  beforeEach(() => createOrders("o-1"));

  it.each([
    ["not hex", () => "logId=NOT-HEX"],
    ["upper-case hex", () => `logId=${log.logId.toUpperCase().replace(/^[0-9]/, "A")}`],
    ["empty", () => "logId="],
    ["longer than 64 digits", () => `logId=${"a".repeat(65)}`],
    ["repeated", () => `logId=${log.logId}&logId=${log.logId}`],
  ])("refuses a logId that is %s with 400 INVALID_PARAMETER naming logId", async (_what, query) => {
    const res = await expectRefused(() => request(app).get(`/events?${query()}`), 400, "INVALID_PARAMETER", /^logId /);
    expect(res.body.parameter).toBe("logId");
  });
});

describe("GET /events -> retain: 5 after 12 orders", () => {
  beforeEach(async () => {
    useLog(createMemoryLog<OrderEvent>({ retain: 5 }));
    await createOrders(...Array.from({ length: 12 }, (_, i) => `o-${i + 1}`));
  });

  it.each([3, 0, 6])("refuses ?from=%i (discarded) with 409 OFFSET_OUT_OF_RANGE, start 7, and a pointer to /snapshot", async (from) => {
    const res = await expectRefused(() => request(app).get(`/events?from=${from}`), 409, "OFFSET_OUT_OF_RANGE", /\/snapshot/);
    expect(res.body).toMatchObject({ logId: log.logId, start: 7, head: 12 });
  });

  it("answers ?from=7 (the oldest offset held) with the last 5 events", async () => {
    const { body } = await request(app).get(`/events?from=7&logId=${log.logId}`).expect(200);
    expect(body).toMatchObject({ ok: true, leader: true, logId: log.logId, start: 7, from: 7, nextFrom: 12, head: 12 });
    expect(body.events.map((e: LogEntry<OrderEvent>) => [e.offset, e.orderId])).toEqual([
      [7, "o-8"],
      [8, "o-9"],
      [9, "o-10"],
      [10, "o-11"],
      [11, "o-12"],
    ]);
  });
});

describe("GET /snapshot -> a leader with orders", () => {
  it("answers {ok, leader, logId, offset: head, state} with every order exactly as GET /orders/:id shows it", async () => {
    await createOrders("o-1", "o-2", "o-3", "o-4");
    await request(app).post("/orders/o-1/confirm").expect(200);
    clock.advance(5);
    await request(app).post("/orders/o-2/cancel").expect(200);
    await request(app).post("/orders/o-3/confirm").expect(200);
    expect(log.head).toBe(7);

    const res = await request(app).get("/snapshot").expect("Content-Type", /^application\/json/).expect(200);
    expect(Object.keys(res.body).sort()).toEqual(["chain", "leader", "logId", "nodeId", "offset", "ok", "state"]);
    expect(res.body).toMatchObject({ ok: true, leader: true, logId: log.logId, offset: log.head });
    const state = res.body.state as Order[];
    expect(state.map((o) => o.id).sort(), "every order, each once").toEqual(["o-1", "o-2", "o-3", "o-4"]);
    for (const order of state) {
      const { body } = await request(app).get(`/orders/${order.id}`).expect(200);
      expect(order, `order ${order.id} in the snapshot`).toEqual(body.order);
    }
    expect(state.find((o) => o.id === "o-2"), "the snapshot shows the latest change").toEqual({ id: "o-2", status: "CANCELED", updatedAt: 1045 });
  });
});

describe("GET /snapshot -> an empty leader", () => {
  it("answers offset 0 and an empty state", async () => {
    await request(app).get("/snapshot").expect(200, { ok: true, leader: true, nodeId: "leader", chain: ["leader"], logId: log.logId, offset: 0, state: [] });
  });
});

describe("GET /snapshot -> taken while writes are in flight", () => {
  it("holds exactly the events before its offset: replaying the log up to it rebuilds the same state", async () => {
    useLog(createMemoryLog<OrderEvent>({ retain: 1_000_000 }));
    const ids = Array.from({ length: 10 }, (_, i) => `o-${i + 1}`);
    await createOrders(...ids.slice(0, 5));

    // Each request starts when `.then` is called, so writes and snapshots go out interleaved.
    const writes: Promise<request.Response>[] = [];
    const snapshots: Promise<request.Response>[] = [];
    for (const [i, id] of ids.entries()) {
      const write = i < 5 ? request(app).post(`/orders/${id}/${i % 2 ? "cancel" : "confirm"}`) : request(app).post("/orders").send({ id });
      writes.push(write.then((res) => res));
      if (i % 3 === 0) snapshots.push(request(app).get("/snapshot").then((res) => res));
    }
    const [written, taken] = await Promise.all([Promise.all(writes), Promise.all(snapshots)]);
    for (const res of written) expect([200, 201], res.text).toContain(res.status);
    expect(log.head).toBe(15);

    for (const { status, body } of taken) {
      expect(status).toBe(200);
      const read = log.readFrom(0, body.offset);
      if (!read.ok) throw new Error(`cannot read the log up to ${body.offset}: ${JSON.stringify(read)}`);
      expect(read.entries, `the log must hold the ${body.offset} events the snapshot covers`).toHaveLength(body.offset);
      const rebuilt = createOrderState();
      for (const event of read.entries) applyEvent(rebuilt, event);
      expect([...(body.state as Order[])].sort(byId), `snapshot at offset ${body.offset} vs the log replayed to it`).toEqual([...rebuilt.values()].sort(byId));
    }
  });
});

describe("GET /snapshot -> events applied but not yet durable", () => {
  it("covers them (offset is the applied head, not the durable one) and is held until they are durable", async () => {
    // A log on a slow disk: appends are applied at once but become durable only when the test says.
    const inner = createMemoryLog<OrderEvent>();
    let durableHead = 0;
    const waiting: { offset: number; resolve: () => void }[] = [];
    let onWait = () => {};
    const slowDisk = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === "head") return durableHead;
        if (prop === "whenDurable") {
          return (offset: number) =>
            offset < durableHead
              ? Promise.resolve()
              : new Promise<void>((resolve) => {
                  waiting.push({ offset, resolve });
                  onWait();
                });
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const waits = (count: number) =>
      new Promise<void>((resolve) => {
        onWait = () => {
          if (waiting.length >= count) resolve();
        };
        onWait();
      });
    useLog(slowDisk);

    const post = request(app).post("/orders").send({ id: "o-1" }).then((res) => res);
    await Promise.race([
      waits(1), // the write path is waiting for offset 0 to be durable
      post.then((res) => {
        throw new Error(`the write was acknowledged without waiting for its event to be durable: ${res.status} ${res.text}`);
      }),
    ]);
    expect(log.head, "the event is applied but not durable").toBe(0);
    const snapshot = request(app).get("/snapshot").then((res) => res);
    await Promise.race([
      waits(2),
      snapshot.then((res) => {
        throw new Error(`the snapshot was sent before the events it covers were durable: ${res.text}`);
      }),
    ]);
    expect(waiting.map((w) => w.offset), "the snapshot waits for the last event it covers").toEqual([0, 0]);

    durableHead = 1;
    for (const w of waiting.splice(0)) w.resolve();
    const [created, taken] = await Promise.all([post, snapshot]);
    expect(created.status, created.text).toBe(201);
    expect(taken.body).toEqual({ ok: true, leader: true, nodeId: "leader", chain: ["leader"], logId: log.logId, offset: 1, state: [{ id: "o-1", status: "PENDING", updatedAt: 1000 }] });
  });
});

describe("POST /orders -> a leader over a file log", () => {
  let dir: string;
  let fileLog: ReplicationLog<OrderEvent> | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "lab-"));
  });

  afterEach(async () => {
    await fileLog?.close();
    fileLog = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens the log file, rebuilding orders from it; returns what it replayed. */
  async function openLeaderLog(file: string) {
    const orders = createOrderState();
    const replayed: LogEntry<OrderEvent>[] = [];
    const opened = await openFileLog<OrderEvent>({ file, replay: (entry) => (replayed.push(entry), applyEvent(orders, entry)) });
    return { log: opened, orders, replayed };
  }

  it("acknowledges only once the event is durable: a crash right after the 201 loses nothing", async () => {
    const file = join(dir, "log.jsonl");
    const first = await openLeaderLog(file);
    fileLog = first.log;
    const leader = createLeaderApp({ log: first.log, orders: first.orders, clock });

    const res = await request(leader).post("/orders").send({ id: "o-1" }).expect(201);
    // What the disk holds at the moment of the acknowledgment, as a crash would leave it.
    const headAtAck = first.log.head;
    copyFileSync(file, join(dir, "crash.jsonl"));
    const event = { offset: 0, type: "OrderCreated", orderId: "o-1", at: 1000 };
    expect(res.body.event).toEqual(event);
    expect(headAtAck, "the event must be durable (inside head) when the 201 is sent").toBe(1);

    const crashed = await openLeaderLog(join(dir, "crash.jsonl"));
    await crashed.log.close();
    expect(crashed.replayed, "the file as it was at the acknowledgment must hold the event").toEqual([event]);

    await first.log.close();
    fileLog = undefined;
    const reopened = await openLeaderLog(file);
    fileLog = reopened.log;
    expect(reopened.replayed, "reopening the file replays the acknowledged event").toEqual([event]);
    expect(reopened.log.logId).toBe(first.log.logId);
    const restarted = createLeaderApp({ log: reopened.log, orders: reopened.orders, clock });
    await request(restarted).get("/orders/o-1").expect(200, { ok: true, leader: true, appliedOffset: 0, order: { id: "o-1", status: "PENDING", updatedAt: 1000 } });
    const next = await request(restarted).post("/orders/o-1/confirm").expect(200);
    expect(next.body.event.offset, "the restarted leader continues the offsets").toBe(1);
  });
});

describe("GET /events?waitMs -> long-polling", () => {
  it("holds a caught-up request until the next event is appended, then answers with it", async () => {
    await createOrders("o-1");
    const pending = request(app).get("/events?from=1&waitMs=5000").then((r) => r);
    await clock.whenSleeping(1); // the request waits on the leader's clock
    await request(app).post("/orders").send({ id: "o-2" }).expect(201);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ from: 1, nextFrom: 2, head: 2, events: [{ offset: 1, orderId: "o-2" }] });
  });

  it("answers with no events once waitMs has passed", async () => {
    const pending = request(app).get("/events?from=0&waitMs=2000").then((r) => r);
    await clock.whenSleeping(1);
    clock.advance(2000);
    const res = await pending;
    expect(res.body).toMatchObject({ ok: true, from: 0, nextFrom: 0, head: 0, events: [] });
  });

  it("does not wait when there is something to read", async () => {
    await createOrders("o-1");
    const res = await request(app).get("/events?from=0&waitMs=30000").expect(200);
    expect(res.body.events).toHaveLength(1);
  });

  it("checks the log identity before waiting", async () => {
    await expectRefused(() => request(app).get("/events?from=0&logId=0123456789abcdef&waitMs=5000"), 409, "LOG_ID_MISMATCH");
  });

  it.each(["-1", "abc", "30001", "1.5"])("refuses waitMs=%s with 400 INVALID_PARAMETER", async (value) => {
    const res = await expectRefused(() => request(app).get(`/events?waitMs=${value}`), 400, "INVALID_PARAMETER", /waitMs/);
    expect(res.body.parameter).toBe("waitMs");
  });
});

describe("GET /watch -> what a dashboard watches", () => {
  it("answers the newest events, the followers and the orders asked for, with a version", async () => {
    await createOrders("o-1", "o-2");
    const { body } = await request(app).get("/watch?ids=o-1,o-9").expect(200);
    expect(body).toMatchObject({ ok: true, role: "leader", head: 2, followers: [], orders: { "o-1": { status: "PENDING" }, "o-9": null } });
    expect(body.events.map((e: OrderEvent & { offset: number }) => e.offset)).toEqual([0, 1]);
  });

  it("holds a watcher that has the current version until the next write", async () => {
    const { version } = (await request(app).get("/watch")).body;
    const held = request(app).get(`/watch?version=${version}&waitMs=30000`).then((r) => r);
    await clock.whenSleeping(1);
    await createOrders("o-1");
    const next = (await held).body;
    expect(next.version).toBeGreaterThan(version);
    expect(next.head).toBe(1);
  });
});
