import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { send } from "../cluster.ts";
import { runServer, type RunningProcess } from "../processes.ts";

const appDir = (name: string) => fileURLToPath(new URL(`../../apps/${name}`, import.meta.url));

/**
 * Failover with the real processes, each with a DATA_DIR: writes flow, the leader is killed with
 * SIGKILL, the follower that has received the most is promoted, the other follows it, and the
 * old leader, started again on its DATA_DIR, is made to follow the new one. Every write the new
 * leader acknowledged is on all three at the end; every write the old leader acknowledged and
 * the new one never had is one it dropped, by name, when it rejoined.
 */
describe("end to end: failover after a SIGKILL", () => {
  const running: RunningProcess[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const start = async (app: "api" | "worker", env: Record<string, string>) => {
    const proc = runServer(appDir(app), { HOST: "127.0.0.1", PORT: "0", ...env });
    running.push(proc);
    const [, url] = await proc.waitForLine(/\] listening on (http:\/\/\S+)/);
    return { proc, url: url! };
  };
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "lab-failover-e2e-"));
    dirs.push(dir);
    return dir;
  };

  it("the promoted follower takes over at the same offsets; the old leader rejoins, dropping exactly the writes it never shipped", async () => {
    const leaderDir = dataDir();
    const leader = await start("api", { DATA_DIR: leaderDir });
    const followerEnv = (id: string) => ({ LEADER_URL: leader.url, APPLY_LAG_MS: "0", FOLLOWER_ID: id, DATA_DIR: dataDir() });
    const startFollower = async (id: string) => {
      const env = followerEnv(id);
      return { env, ...(await start("worker", env)) };
    };
    const f1 = await startFollower("f1");
    const f2 = await startFollower("f2");

    // Writes flow, one after another, until the leader is killed in the middle of them.
    const acknowledgedByOld: string[] = [];
    let writing = true;
    let fifty!: () => void;
    const fiftyAcknowledged = new Promise<void>((resolve) => (fifty = resolve));
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const reply = await send("POST", `${leader.url}/orders`, { id: `o-${i}` }).catch(() => undefined);
        if (reply?.status === 201 && acknowledgedByOld.push(`o-${i}`) === 50) fifty();
        if (!reply) return;
      }
    })();
    await fiftyAcknowledged;
    await leader.proc.kill();
    writing = false;
    await writer;

    const positions = await Promise.all([f1, f2].map(async (f) => ({ f, received: (await send("GET", `${f.url}/status`)).body.nextFrom as number })));
    const [promoted, other] = positions.sort((a, b) => b.received - a.received).map((p) => p.f);
    const promotion = await send("POST", `${promoted!.url}/admin/promote`);
    expect(promotion.body, "promoted").toMatchObject({ role: "leader", epoch: 1 });
    const epochBegan = promotion.body.head as number;
    expect((await send("POST", `${other!.url}/admin/follow`, { leaderUrl: promoted!.url })).status).toBe(200);
    const next = await send("POST", `${promoted!.url}/orders`, { id: "n-1" });
    expect(next.body.event.offset, "the new epoch continues the offsets").toBe(epochBegan);

    // The old leader comes back on its DATA_DIR (as a leader: nobody has told it) and is made to follow.
    const back = await start("api", { DATA_DIR: leaderDir });
    const rejoined = await send("POST", `${back.url}/admin/follow`, { leaderUrl: promoted!.url });
    expect(rejoined.status, JSON.stringify(rejoined.body)).toBe(200);
    for (const node of [back, other!]) {
      const read = await send("GET", `${node.url}/orders/n-1?minOffset=${epochBegan}&timeoutMs=10000`);
      expect(read.body, `n-1 on ${node.url}: ${JSON.stringify((await send("GET", `${node.url}/status`)).body)}`).toMatchObject({ ok: true, order: { status: "PENDING" } });
    }

    const lost: string[] = [];
    for (const id of acknowledgedByOld) if ((await send("GET", `${promoted!.url}/orders/${id}`)).status === 404) lost.push(id);
    const dropLine = back.proc.lines.find((l) => /dropped \d+ events? this follower had received/.test(l));
    const dropped = [...(dropLine ?? "").matchAll(/\d+ OrderCreated (\S+?)[,)]/g)].map((m) => m[1]);
    expect(lost.every((id) => dropped.includes(id)), `lost ${lost.join(" ")}; dropped: ${dropLine}`).toBe(true);
    for (const id of dropped) expect((await send("GET", `${promoted!.url}/orders/${id}`)).status, `${id}, dropped, was never in the new history`).toBe(404);
    for (const node of [back, other!]) {
      for (const id of acknowledgedByOld.filter((id) => !lost.includes(id)).slice(-5)) {
        expect((await send("GET", `${node.url}/orders/${id}`)).status, `${id} on ${node.url}`).toBe(200);
      }
    }

    // The new leader, killed and started again on its DATA_DIR, still leads epoch 1.
    await promoted!.proc.kill();
    const again = await start("worker", promoted!.env); // LEADER_URL still names the old leader
    expect((await send("GET", `${again.url}/health`)).body).toMatchObject({ role: "leader", epoch: 1 });
    await again.proc.waitForLine(/node\.json says this node was promoted: it starts as the leader/);
  }, 60_000);
});
