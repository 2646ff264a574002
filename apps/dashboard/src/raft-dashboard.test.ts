import { request } from "undici";
import { describe, expect, it } from "vitest";
import { createDashboard } from "./dashboard.ts";
import { createRaftDashboard } from "./raft-dashboard.ts";
import { serveDashboards } from "./test-support.ts";

const serve = serveDashboards();

/** The Raft view of a group of three that does not answer (port 9): a control it forwards gets 502, one it refuses gets its own error. */
async function start() {
  return serve(createRaftDashboard({ nodeUrls: ["http://127.0.0.1:9", "http://127.0.0.1:9", "http://127.0.0.1:9"] }));
}

async function post(url: string, body?: string, headers: Record<string, string> = {}) {
  const res = await request(url, { method: "POST", headers: body === undefined ? headers : { "content-type": "application/json", ...headers }, body: body ?? null });
  return { status: res.statusCode, body: (await res.body.json()) as { ok?: boolean; code?: string; error?: string } };
}

describe("the Raft view's controls", () => {
  it.each([
    ["/api/nodes/3/disconnect", undefined, 404, "NO_SUCH_NODE"],
    ["/api/nodes/n1/reconnect", undefined, 404, "NO_SUCH_NODE"],
    ["/api/nodes/0/promote", undefined, 404, "NO_SUCH_ROUTE"],
    ["/api/orders", "not json", 400, "INVALID_JSON"],
    ["/api/orders", "[]", 400, "INVALID_BODY"],
    ["/api/orders", JSON.stringify({ id: "o-1" }), 503, "NO_LEADER"],
    ["/api/nodes/0/disconnect", undefined, 502, "NODE_UNREACHABLE"],
  ])("POST %s %s: %i %s, in JSON", async (path, body, status, code) => {
    const url = await start();
    const reply = await post(`${url}${path}`, body);
    expect(reply).toEqual({ status, body: expect.objectContaining({ ok: false, code, error: expect.any(String) }) });
  });

  it.each(["/api/orders", "/api/nodes/0/disconnect", "/api/nodes/0/reconnect"])("%s refuses a page from another site (its Origin), and forwards nothing", async (path) => {
    const url = await start();
    expect(await post(`${url}${path}`, "{}", { origin: "https://example.com" })).toEqual({ status: 403, body: expect.objectContaining({ code: "CROSS_ORIGIN" }) });
  });

  it("serves the Raft page at /, and a JSON 404 for anything else", async () => {
    const url = await start();
    const page = await request(url);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(await page.body.text()).toContain('src="raft.js"');
    const missing = await request(`${url}/api/nope`);
    expect(missing.statusCode).toBe(404);
    expect(await missing.body.json()).toMatchObject({ ok: false, code: "NO_SUCH_ROUTE" });
  });

  it("does not serve the leader-and-followers page, whose stream it does not send (nor the other way round)", async () => {
    const chapters = await request(`${await start()}/index.html`);
    expect(chapters.statusCode).toBe(404);
    expect(await chapters.body.json()).toMatchObject({ ok: false, code: "NO_SUCH_ROUTE", error: expect.stringContaining("raft.html") });
    const raft = await request(`${await serve(createDashboard({ leaderUrl: "http://127.0.0.1:9", followerUrls: [] }))}/raft.html`);
    expect(raft.statusCode).toBe(404);
    expect(await raft.body.json()).toMatchObject({ ok: false, code: "NO_SUCH_ROUTE", error: expect.stringContaining("index.html") });
  });
});
