import { createManualClock, type ManualClock } from "@lab/service";
import request from "supertest";
import { beforeEach, describe, expect, it } from "vitest";
import { createFollower, type Follower } from "./follower.ts";
import { entry, fakeClient, flushPromises, reply, type FakeClient } from "./test-support.ts";

const T0 = 1_700_000_000_000;
let clock: ManualClock;
let client: FakeClient;
let follower: Follower;
let restarts: number;

beforeEach(async () => {
  clock = createManualClock(T0);
  client = fakeClient();
  restarts = 0;
  follower = await createFollower({ client, applyLagMs: 3000, pollIntervalMs: 300, clock, restart: async () => void restarts++ });
});

const post = (path: string, body?: object) => (body === undefined ? request(follower.app).post(path) : request(follower.app).post(path).send(body));

/** Sends an admin request that must be refused, and checks that the follower's status did not change. */
async function expectRefused(send: () => request.Test, status: number, code: string) {
  const before = follower.status();
  const res = await send();
  expect(res.status, res.text).toBe(status);
  expect(res.body).toMatchObject({ ok: false, code });
  expect(follower.status(), "a refused admin request changes nothing").toEqual(before);
}

describe("POST /admin/apply-lag", () => {
  it("changes APPLY_LAG_MS for what is already waiting: an event received under 3 s applies at once under 0", async () => {
    client.script(reply(0, [entry(0, "OrderCreated", "o-1", T0)]));
    await follower.pollOnce();
    expect(follower.status().appliedOffset).toBeNull();
    const res = await post("/admin/apply-lag", { applyLagMs: 0 }).expect(200);
    expect(res.body).toMatchObject({ applyLagMs: 0 });
    follower.applyDue();
    expect(follower.status().appliedOffset).toBe(0);
    expect((await request(follower.app).get("/orders/o-1")).body.applyLagMs).toBe(0);
  });

  it.each([[{}], [{ applyLagMs: -1 }], [{ applyLagMs: "5" }], [{ applyLagMs: 600_001 }], [{ applyLagMs: 1.5 }]])("refuses %j with 400", async (body) => {
    await expectRefused(() => post("/admin/apply-lag", body), 400, "INVALID_BODY");
  });
});

describe("POST /admin/pause and /admin/resume: the link to the upstream", () => {
  it("hold: no fetch leaves until the link opens again, then it goes", async () => {
    await post("/admin/pause", { mode: "hold" }).expect(200, /"link":"held"/);
    client.script(reply(0, [entry(0, "OrderCreated", "o-1", T0)]));
    const polling = follower.pollOnce();
    await flushPromises();
    expect(client.calls, "fetches while the link is held").toHaveLength(0);
    await post("/admin/resume").expect(200, /"link":"open"/);
    await polling;
    expect(client.calls).toHaveLength(1);
  });

  it("drop: fetches fail at once as unreachable, and the follower backs off", async () => {
    await post("/admin/pause", { mode: "drop" }).expect(200, /"link":"dropped"/);
    expect(await follower.pollOnce(), "backs off").toBe(300);
    expect(follower.status()).toMatchObject({ leaderReachable: false, upstreamProblem: expect.stringMatching(/link dropped by \/admin\/pause/) });
    expect(client.calls, "nothing sent").toHaveLength(0);
  });

  it("refuses a mode that is neither hold nor drop", async () => {
    await expectRefused(() => post("/admin/pause", { mode: "slow" }), 400, "INVALID_BODY");
  });

  it("hold with no body at all", async () => {
    await post("/admin/pause").expect(200, /"link":"held"/);
  });
});

describe("POST /admin/restart", () => {
  it("restarts the follower through what it was given", async () => {
    await post("/admin/restart").expect(200, { ok: true, restarted: true });
    expect(restarts).toBe(1);
  });

  it("answers 501 where the follower cannot restart itself", async () => {
    follower = await createFollower({ client, applyLagMs: 0, pollIntervalMs: 300, clock });
    await expectRefused(() => post("/admin/restart"), 501, "NOT_IMPLEMENTED");
  });
});

describe("admin routes -> a follower bound elsewhere than loopback", () => {
  it.each(["/admin/apply-lag", "/admin/pause", "/admin/resume", "/admin/restart"])("%s answers 403 ADMIN_LOOPBACK_ONLY and changes nothing", async (path) => {
    follower = await createFollower({ client, applyLagMs: 3000, pollIntervalMs: 300, clock, adminAllowed: false, restart: async () => void restarts++ });
    await expectRefused(() => post(path, { applyLagMs: 0 }), 403, "ADMIN_LOOPBACK_ONLY");
    expect(restarts).toBe(0);
  });
});

describe("admin routes -> a request a web page sent (it carries an Origin)", () => {
  it.each(["/admin/promote", "/admin/follow", "/admin/apply-lag", "/admin/pause", "/admin/resume", "/admin/restart"])("%s answers 403 ADMIN_LOOPBACK_ONLY and changes nothing", async (path) => {
    // A page on any site can make the browser POST to localhost without a body; the Origin header gives it away.
    await expectRefused(() => request(follower.app).post(path).set("Origin", "https://example.com"), 403, "ADMIN_LOOPBACK_ONLY");
    expect(restarts).toBe(0);
  });
});

describe("GET /watch", () => {
  it("answers the follower's view and its version at once, and holds a watcher that has it until something changes", async () => {
    const first = (await request(follower.app).get("/watch?ids=o-1").expect(200)).body;
    expect(first).toMatchObject({ ok: true, role: "follower", status: { appliedOffset: null }, orders: { "o-1": null } });
    const held = request(follower.app).get(`/watch?version=${first.version}&waitMs=30000&ids=o-1`).then((r) => r);
    await clock.whenSleeping(1);
    client.script(reply(0, [entry(0, "OrderCreated", "o-1", T0)]));
    await follower.pollOnce();
    const next = (await held).body;
    expect(next.version, "a new version").toBeGreaterThan(first.version);
    expect(next.status).toMatchObject({ nextFrom: 1, pending: 1 });
  });

  it("does not move its version on a fetch that changed nothing (a heartbeat)", async () => {
    client.script(reply(0, []), reply(0, []));
    await follower.pollOnce();
    await flushPromises();
    const before = (await request(follower.app).get("/watch")).body.version;
    await follower.pollOnce();
    await flushPromises();
    expect((await request(follower.app).get("/watch")).body.version).toBe(before);
  });

  it.each(["ids=a%20b", `ids=${Array.from({ length: 21 }, (_, i) => `o-${i}`).join(",")}`, "version=x", "waitMs=60001"])("refuses ?%s with 400", async (query) => {
    const res = await request(follower.app).get(`/watch?${query}`);
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ code: "INVALID_PARAMETER" });
  });

  it("moves its version, and says so in the view, when the link is cut", async () => {
    const before = (await request(follower.app).get("/watch")).body.version;
    await post("/admin/pause", { mode: "drop" }).expect(200);
    await flushPromises();
    const view = (await request(follower.app).get("/watch")).body;
    expect(view.version).toBeGreaterThan(before);
    expect(view.status.link).toBe("dropped");
  });
});
