import { request } from "undici";
import { describe, expect, it } from "vitest";
import { createDashboard } from "./dashboard.ts";
import { serveDashboards } from "./test-support.ts";

const serve = serveDashboards();

/** A dashboard watching nothing that answers (port 9): a control it forwards gets 502, one it refuses gets its own error. */
async function start() {
  return serve(createDashboard({ leaderUrl: "http://127.0.0.1:9", followerUrls: ["http://127.0.0.1:9"] }));
}

async function post(url: string, headers: Record<string, string>) {
  const res = await request(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ id: "o-1" }) });
  return { status: res.statusCode, body: (await res.body.json()) as { code?: string } };
}

describe("the dashboard's controls", () => {
  it.each(["/api/orders", "/api/nodes/1/restart", "/api/nodes/1/promote"])("%s refuses a page from another site (its Origin), and forwards nothing", async (path) => {
    const url = await start();
    const refused = await post(`${url}${path}`, { origin: "https://example.com" });
    expect(refused).toEqual({ status: 403, body: expect.objectContaining({ code: "CROSS_ORIGIN" }) });
  });

  it("takes its own page's requests, and curl's (no Origin)", async () => {
    const url = await start();
    for (const headers of [{ origin: url }, {}] as Record<string, string>[]) {
      const forwarded = await post(`${url}/api/orders`, headers);
      expect(forwarded.status, "forwarded to a leader that does not answer").toBe(502);
    }
  });
});
