import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { send } from "../cluster.ts";
import { runDev, runServer, type RunningProcess } from "../processes.ts";
import { until } from "./until.ts";

const appDir = (name: string) => fileURLToPath(new URL(`../../apps/${name}`, import.meta.url));
const LAG_MS = 2000;

/**
 * The chapter's walkthrough with the real processes: `npm run dev` in apps/api and in
 * apps/worker, then its curl steps over HTTP. Ports are chosen by the OS (PORT=0) and read from
 * each process's "listening on" line. Waits are on the follower's own log lines, never on time.
 */
describe("end to end: the two processes as the README starts them", () => {
  const running: RunningProcess[] = [];
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
  });

  it("replays the chapter's curl steps: stale reads from the follower, then fresh ones", async () => {
    const leader = runDev(appDir("api"), { PORT: "0" });
    running.push(leader);
    const [, leaderUrl] = await leader.waitForLine(/\[leader\] listening on (http:\/\/\S+)/);

    const follower = runDev(appDir("worker"), { PORT: "0", LEADER_URL: leaderUrl!, APPLY_LAG_MS: String(LAG_MS) });
    running.push(follower);
    await follower.waitForLine(new RegExp(`\\[follower\\] config: LEADER_URL=${leaderUrl} POLL_INTERVAL_MS=300 APPLY_LAG_MS=${LAG_MS}`));
    const [, followerUrl] = await follower.waitForLine(/\[follower\] listening on (http:\/\/\S+)/);
    const port = new URL(followerUrl!).port;
    expect((await send("GET", `${followerUrl}/status`)).body.followerId, "with no FOLLOWER_ID, named after its port").toBe(`follower-${port}`);

    // curl -X POST http://localhost:3000/orders -H "Content-Type: application/json" -d "{\"id\":\"o-1\"}"
    const created = await send("POST", `${leaderUrl}/orders`, { id: "o-1" });
    expect(created.body).toMatchObject({ ok: true, leader: true, order: { id: "o-1", status: "PENDING" }, event: { offset: 0, type: "OrderCreated" } });

    // curl http://localhost:3001/orders/o-1, right away: not there yet (the follower waits APPLY_LAG_MS per event).
    const early = await send("GET", `${followerUrl}/orders/o-1`);
    expect(early.status, "follower right after the write").toBe(404);
    expect(early.body).toMatchObject({ error: "not found (maybe not replicated yet)", appliedOffset: null });

    // ...and again once the follower says it applied the event.
    const [, lag0] = await follower.waitForLine(/applied offset=0 type=OrderCreated orderId=o-1 lag=(\d+)ms/);
    expect(Number(lag0), "lag of the create, per the follower's log").toBeGreaterThanOrEqual(LAG_MS);
    expect((await send("GET", `${followerUrl}/orders/o-1`)).body.order.status).toBe("PENDING");

    const confirmed = await send("POST", `${leaderUrl}/orders/o-1/confirm`);
    expect(confirmed.body.order.status).toBe("CONFIRMED");
    expect((await send("GET", `${followerUrl}/orders/o-1`)).body.order.status, "follower right after the confirm").toBe("PENDING");
    await follower.waitForLine(/applied offset=1 type=OrderConfirmed orderId=o-1 lag=\d+ms/);
    expect((await send("GET", `${followerUrl}/orders/o-1`)).body.order.status).toBe("CONFIRMED");

    const refused = await send("POST", `${followerUrl}/orders`, { id: "o-2" });
    expect(refused).toMatchObject({ status: 403, body: { code: "READONLY", leader: leaderUrl } });
    expect(leader.lines.filter((l) => l.includes("appended offset=")), "leader log lines").toHaveLength(2);
  }, 30_000);
});

/**
 * Many followers with the real processes: a leader, a follower of it, and a follower of that
 * follower (cascading). Each is `tsx src/server.ts` on a port the OS picks; waits are on their
 * log lines and on the followers' own `?minOffset=` wait, never on time.
 */
describe("end to end: a leader, a follower, and a follower of that follower", () => {
  const running: RunningProcess[] = [];
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
  });

  const start = async (app: "api" | "worker", env: Record<string, string>) => {
    const proc = runServer(appDir(app), { HOST: "127.0.0.1", PORT: "0", DATA_DIR: "", ...env });
    running.push(proc);
    const [, url] = await proc.waitForLine(/\] listening on (http:\/\/\S+)/);
    return url!;
  };

  it.each([
    ["fetching", {}],
    ["each keeping a stream open (STREAM=1)", { STREAM: "1" }],
  ])("a write reaches all three, and the leader's /replication shows both followers, the second through the first: %s", async (_how, mode: Record<string, string>) => {
    const leaderUrl = await start("api", {});
    const middleUrl = await start("worker", { LEADER_URL: leaderUrl, APPLY_LAG_MS: "0", FOLLOWER_ID: "middle", ...mode });
    const lastUrl = await start("worker", { LEADER_URL: middleUrl, APPLY_LAG_MS: "0", FOLLOWER_ID: "last", ...mode });

    const created = await send("POST", `${leaderUrl}/orders`, { id: "o-1" });
    expect(created.status).toBe(201);
    for (const [name, url] of [["middle", middleUrl], ["last", lastUrl]]) {
      const read = await send("GET", `${url}/orders/o-1?minOffset=0&timeoutMs=10000`);
      expect(read.body, `${name} after waiting for offset 0`).toMatchObject({ ok: true, appliedOffset: 0, order: { status: "PENDING" } });
    }

    const rows = await until("the leader sees last's progress through middle", async () => {
      const followers = (await send("GET", `${leaderUrl}/replication`)).body.followers as { id: string; via: string | null; appliedOffset: number | null }[];
      return followers.find((f) => f.id === "last")?.appliedOffset === 0 ? followers : undefined;
    });
    expect(rows.map((f) => [f.id, f.via, f.appliedOffset])).toEqual([
      ["middle", null, 0],
      ["last", "middle", 0],
    ]);
    expect((await send("GET", `${middleUrl}/replication`)).body.followers).toEqual([expect.objectContaining({ id: "last", via: null, state: "streaming" })]);
    expect((await send("GET", `${lastUrl}/status`)).body).toMatchObject({ followerId: "last", upstreamChain: [expect.stringMatching(/^leader-\d+$/), "middle"], writesTo: leaderUrl });
    if (mode.STREAM) expect((await send("GET", `${middleUrl}/status`)).body.stream, "the middle one says it streams").toBe(true);
  }, 30_000);
});
