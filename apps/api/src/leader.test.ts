import type { OrderEvent } from "@lab/orders";
import { createMemoryLog, MAX_EVENTS_LIMIT, type ReplicationLog } from "@lab/replication";
import { createManualClock, type ManualClock } from "@lab/service";
import type { Express } from "express";
import request from "supertest";
import { beforeEach, describe, expect, it } from "vitest";
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
    await request(app).get("/orders/o-1").expect(200, { ok: true, leader: true, order: res.body.order });
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
    await request(app).get("/orders/o-1").expect(200, { ok: true, leader: true, order: res.body.order });
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
    await request(app).get("/events?from=25").expect(200, { ok: true, leader: true, logId: log.logId, start: 0, from: 25, nextFrom: 25, head: 25, events: [] });
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
    await request(app).get("/events").expect(200, { ok: true, leader: true, logId: log.logId, start: 0, from: 0, nextFrom: 0, head: 0, events: [] });
    const res = await expectRefused(() => request(app).get("/events?from=1"), 409, "OFFSET_OUT_OF_RANGE", /no events \(head 0\)/);
    expect(res.body).toMatchObject({ start: 0, head: 0 });
  });
});

describe("GET /health", () => {
  it("reports the leader's head", async () => {
    await request(app).get("/health").expect(200, { ok: true, leader: true, logId: log.logId, start: 0, head: 0 });
    await createOrders("o-1", "o-2");
    await request(app).get("/health").expect(200, { ok: true, leader: true, logId: log.logId, start: 0, head: 2 });
  });
});
