import { createManualClock } from "@lab/service";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { createDashboard } from "./dashboard.ts";
import { serveDashboards, serveFakeNodes } from "./test-support.ts";
import { ROUND_MS } from "./watcher.ts";

const fakeNode = serveFakeNodes();
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

describe("the dashboard's watching, while the cluster is busy", () => {
  it("asks the follower once a round, though every view of the leader brings a new order; the follower is asked about it in the next round", async () => {
    // On a manual clock the only sleep is the pause between two rounds (the nodes always answer): once it sleeps, the round is in.
    const clock = createManualClock(1_700_000_000_000);
    const leader = await fakeNode(clock, (n) => ({ version: n, role: "leader", epoch: 0, logId: "log-1", events: [{ offset: n, orderId: `o-${n}` }], followers: [] }));
    const follower = await fakeNode(clock, (n) => ({ version: n, role: "follower", epoch: 0, status: { role: "follower", leaderUrl: leader.url, lag: { events: 1 } } }));
    const url = await serve(createDashboard({ leaderUrl: leader.url, followerUrls: [follower.url], clock }));
    const closing = new AbortController();
    await request(`${url}/stream`, { signal: closing.signal }); // a page opens: the watchers start
    await clock.whenSleeping(1); // the first views made the cluster busy, and a first round is in
    const before = [leader.asked.length, follower.asked.length];
    for (let round = 1; round <= 5; round++) {
      clock.advance(ROUND_MS);
      await clock.whenSleeping(1);
    }
    expect([leader.asked.length - before[0]!, follower.asked.length - before[1]!], "requests to the leader and the follower in 5 rounds").toEqual([5, 5]);
    const ids = follower.asked.at(-1)!.query.get("ids")!.split(",");
    expect(ids, "the orders the follower was last asked about").toContain(`o-${leader.asked.length - 1}`);
    expect(ids).not.toContain(`o-${leader.asked.length}`);
    closing.abort();
  });
});
