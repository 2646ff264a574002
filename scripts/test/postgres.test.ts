import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPgFollowerApp, createPgLeaderApp, lsnReached, openPool, parseLsn, readStandbyPosition } from "@lab/pg-store";
import { listen, silentLogger } from "@lab/service";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "../cluster.ts";
import { findPostgres } from "../pg/binaries.ts";
import { startLabApps, type LabApps } from "../pg/lab-apps.ts";
import { downPair, postmasterPid, upPair, type Pair } from "../pg/pair.ts";
import { isAlive } from "../pg/run-program.ts";
import { freePort, freePortRange, isPortFree } from "../processes.ts";
import { serverUser } from "../pg/server-user.ts";

/**
 * STORE=postgres against a real primary and standby: one pair for the whole file, on ports the
 * OS picked, in a temporary directory, made the way `pnpm pg:up` makes it but `throwaway`
 * (fsync=off and no syncing in initdb and pg_basebackup: tests only, the data is thrown away).
 * The standby replays each commit LAG_MS after it was made, long enough that a read right after
 * a commit is reliably stale. Waits are on the standby's replay LSN, never on time. Without the
 * server programs the file is skipped, saying why; REQUIRE_POSTGRES=1 (CI) makes that a failure.
 */
const LAG_MS = 2000;
const found = findPostgres();
if (!found.ok && process.env.REQUIRE_POSTGRES) throw new Error(`REQUIRE_POSTGRES is set but PostgreSQL's server programs are missing:\n${found.message}`);
if (!found.ok) console.warn(`PostgreSQL tests skipped: ${found.message.split("\n")[0]} (apt-get install postgresql, brew install postgresql@16, or set PG_BIN)`);

/** Resolves once the standby has replayed `lsn`, asking every 10 ms: the condition, not a guess at how long it takes. */
async function replayed(standby: pg.Pool, lsn: string, withinMs = LAG_MS + 10_000) {
  const target = parseLsn(lsn)!;
  const until = Date.now() + withinMs;
  for (;;) {
    const at = await readStandbyPosition(standby);
    if (lsnReached(at.appliedLsn, target)) return at;
    if (Date.now() > until) throw new Error(`the standby replayed up to ${at.appliedLsn}, not ${lsn}, within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Asks `check` every 10 ms until it returns something; fails naming `what` after `withinMs`. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, withinMs = 10_000): Promise<T> {
  const until = Date.now() + withinMs;
  for (;;) {
    const got = await check();
    if (got !== undefined) return got;
    if (Date.now() > until) throw new Error(`not within ${withinMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.skipIf(!found.ok)("STORE=postgres on a real primary and standby", () => {
  let pair: Pair | undefined;
  let apps: LabApps;
  let dir: string;
  const user = serverUser(() => {});

  beforeAll(async () => {
    if (!found.ok) return;
    const primaryPort = await freePortRange(2);
    const standbyPort = primaryPort + 1;
    dir = mkdtempSync(join(tmpdir(), "lab-pg-"));
    pair = await upPair({ dir, primaryPort, standbyPort, applyLagMs: LAG_MS, throwaway: true }, found.binaries, () => {});
    apps = await startLabApps(pair, { syncTimeoutMs: 2000 });
  }, 60_000);

  afterAll(async () => {
    await apps?.close();
    if (pair && existsSync(pair.dir)) await downPair(pair.dir, pair.binDir, user, () => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  // The three stories below each wait for the standby's delay: they run side by side (each on its
  // own orders, asserting nothing about the others' offsets), to keep the file under 15 s.
  it.concurrent("the chapter's stale read comes from the standby itself: missing, then PENDING; confirmed, still PENDING, then CONFIRMED", async () => {
    const created = await send("POST", `${apps.leaderUrl}/orders`, { id: "o-1" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ok: true, leader: true, order: { id: "o-1", status: "PENDING" }, event: { type: "OrderCreated", orderId: "o-1" }, lsn: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/) });

    const early = await send("GET", `${apps.followerUrl}/orders/o-1`);
    expect(early.status, "follower right after the commit").toBe(404);
    expect(early.body).toMatchObject({ code: "ORDER_NOT_FOUND", error: "not found (maybe not replicated yet)", follower: true });
    expect(lsnReached(early.body.appliedLsn, parseLsn(created.body.lsn)!), "the standby's replay LSN, right after the commit").toBe(false);

    await replayed(apps.standby, created.body.lsn);
    const fresh = (await send("GET", `${apps.followerUrl}/orders/o-1`)).body;
    expect(fresh).toMatchObject({ ok: true, follower: true, applyLagMs: LAG_MS, order: { status: "PENDING" } });
    expect(fresh.appliedOffset, "the follower's appliedOffset covers the create").toBeGreaterThanOrEqual(created.body.event.offset);
    expect(fresh.nextFrom).toBe(fresh.appliedOffset + 1);

    const confirmed = await send("POST", `${apps.leaderUrl}/orders/o-1/confirm`);
    expect(confirmed.body).toMatchObject({ order: { status: "CONFIRMED" }, event: { type: "OrderConfirmed" } });
    expect(confirmed.body.event.offset).toBeGreaterThan(created.body.event.offset);
    const onLeader = (await send("GET", `${apps.leaderUrl}/orders/o-1`)).body;
    expect(onLeader.order.status, "the leader right after its own write").toBe("CONFIRMED");
    expect(onLeader.appliedOffset).toBeGreaterThanOrEqual(confirmed.body.event.offset);
    expect((await send("GET", `${apps.followerUrl}/orders/o-1`)).body.order.status, "follower right after the confirm").toBe("PENDING");
    await replayed(apps.standby, confirmed.body.lsn);
    expect((await send("GET", `${apps.followerUrl}/orders/o-1`)).body.order.status).toBe("CONFIRMED");
  }, 15_000);

  it.concurrent("?minOffset= with the write's LSN (or its offset) holds the read until the standby has replayed it; too short a wait is a 504 with its position", async () => {
    const created = await send("POST", `${apps.leaderUrl}/orders`, { id: "o-2" });
    const canceled = await send("POST", `${apps.leaderUrl}/orders/o-2/cancel`);
    const offset = canceled.body.event.offset;
    const tooShort = await send("GET", `${apps.followerUrl}/orders/o-2?minOffset=${offset}&timeoutMs=200`);
    expect(tooShort.status).toBe(504);
    expect(tooShort.body).toMatchObject({ code: "NOT_YET_APPLIED", minOffset: String(offset), waitedMs: 200, leader: apps.leaderUrl });
    expect(tooShort.body.appliedOffset ?? -1, "the standby's position in the 504").toBeLessThan(offset);

    const began = Date.now();
    const read = await send("GET", `${apps.followerUrl}/orders/o-2?minOffset=${created.body.lsn}&timeoutMs=10000`);
    expect(read.status).toBe(200);
    expect(lsnReached(read.body.appliedLsn, parseLsn(created.body.lsn)!), `appliedLsn ${read.body.appliedLsn} at least the write's ${created.body.lsn}`).toBe(true);
    expect(Date.now() - began, "the read waited for the standby's delay").toBeGreaterThan(LAG_MS / 2);
    const byOffset = await send("GET", `${apps.followerUrl}/orders/o-2?minOffset=${offset}&timeoutMs=10000`);
    expect(byOffset.body.order.status).toBe("CANCELED");
    expect(byOffset.body.appliedOffset).toBeGreaterThanOrEqual(offset);
  }, 15_000);

  it.concurrent("/status says what the standby has received and applied, in the lab's names next to PostgreSQL's", async () => {
    const created = await send("POST", `${apps.leaderUrl}/orders`, { id: "o-3" });
    const target = parseLsn(created.body.lsn)!;
    // Received (the walreceiver flushed it) but not applied (recovery_min_apply_delay holds it).
    const held = await eventually("the standby receives the write", async () => {
      const s = (await send("GET", `${apps.followerUrl}/status`)).body;
      return lsnReached(s.receivedLsn, target) ? s : undefined;
    });
    expect(lsnReached(held.appliedLsn, target), "applied while the delay holds it").toBe(false);
    expect(held.lag.bytes, "WAL received, not yet replayed").toBeGreaterThan(0);
    expect(held).toMatchObject({ ok: true, follower: true, store: "postgres", applyLagMs: LAG_MS, leaderReachable: true, writesTo: apps.leaderUrl });
    expect(held.postgres).toMatchObject({ pg_is_in_recovery: true, recovery_min_apply_delay: "2s", pg_last_wal_receive_lsn: held.receivedLsn, pg_last_wal_replay_lsn: held.appliedLsn, pg_stat_wal_receiver: { status: "streaming" } });

    await replayed(apps.standby, created.body.lsn);
    const after = (await send("GET", `${apps.followerUrl}/status`)).body;
    expect(after.appliedOffset).toBeGreaterThanOrEqual(created.body.event.offset);
    expect(after.nextFrom).toBe(after.appliedOffset + 1);
    expect(after.postgres.pg_last_wal_replay_lsn).toBe(after.appliedLsn);
    expect(after.lastAppliedAt, "pg_last_xact_replay_timestamp: the commit's own time, on the primary").toBeGreaterThanOrEqual(created.body.event.at);
  }, 15_000);

  it("/replication on the leader is pg_stat_replication in the lab's terms: the standby streaming, its positions reaching the head", async () => {
    const { headLsn } = (await send("GET", `${apps.leaderUrl}/health`)).body;
    await replayed(apps.standby, headLsn);
    // The standby reports its positions every wal_receiver_status_interval (1 s): wait for the report.
    const rows = await eventually("pg_stat_replication shows the head replayed", async () => {
      const body = (await send("GET", `${apps.leaderUrl}/replication`)).body;
      return lsnReached(body.followers[0]?.appliedLsn ?? null, parseLsn(headLsn)!) ? body : undefined;
    });
    expect(rows).toMatchObject({ ok: true, leader: true, store: "postgres", chain: [expect.stringMatching(/^leader-\d+$/)] });
    expect(rows.followers).toHaveLength(1);
    const standby = rows.followers[0];
    expect(standby).toMatchObject({ id: "standby", via: null, state: "streaming", sync: "async", slot: { name: "standby", active: true } });
    for (const lsn of [standby.sentLsn, standby.writtenLsn, standby.receivedLsn]) expect(lsnReached(lsn, parseLsn(standby.appliedLsn)!), `sent >= written >= received >= applied (${lsn} vs ${standby.appliedLsn})`).toBe(true);
    expect(standby.postgres).toMatchObject({ application_name: "standby", state: "streaming", replay_lsn: standby.appliedLsn, flush_lsn: standby.receivedLsn, sent_lsn: standby.sentLsn });
    expect(standby.lastHeardAt, "reply_time, in ms").toBeGreaterThan(Date.now() - 60_000);
    // Caught up with the head, the follower's own /status says it has no lag.
    expect((await send("GET", `${apps.followerUrl}/status`)).body).toMatchObject({ lag: { bytes: 0, ms: 0 }, receivedLsn: headLsn, appliedLsn: headLsn });
  }, 15_000);

  it("bad input is a JSON 4xx and writes nothing; the follower refuses writes", async () => {
    const before = (await send("GET", `${apps.leaderUrl}/health`)).body;
    for (const [method, path, body, status, code] of [
      ["POST", "/orders", {}, 400, "INVALID_ID"],
      ["POST", "/orders", { id: "bad id" }, 400, "INVALID_ID"],
      ["POST", "/orders", { id: "o-1" }, 409, "ORDER_EXISTS"],
      ["POST", "/orders/o-1/cancel", undefined, 409, "INVALID_TRANSITION"],
      ["POST", "/orders/nope/confirm", undefined, 404, "ORDER_NOT_FOUND"],
    ] as const) {
      const reply = await send(method, `${apps.leaderUrl}${path}`, body);
      expect([reply.status, reply.body.code], `${method} ${path} ${JSON.stringify(body)}`).toEqual([status, code]);
    }
    expect((await send("GET", `${apps.leaderUrl}/health`)).body, "the head after refused writes").toMatchObject({ head: before.head, headLsn: before.headLsn });
    expect((await send("GET", `${apps.followerUrl}/orders/o-1?minOffset=0/xyz`)).body).toMatchObject({ code: "INVALID_PARAMETER", parameter: "minOffset" });
    expect(await send("POST", `${apps.followerUrl}/orders`, { id: "o-9" })).toMatchObject({ status: 403, body: { code: "READONLY", leader: apps.leaderUrl } });
  });

  it("pg:down's teardown leaves no process and no port behind", async () => {
    await apps.close();
    const p = pair!;
    const pids = [postmasterPid(p.primary.dataDir), postmasterPid(p.standby.dataDir)];
    expect(pids.every((pid) => pid !== undefined), "both postmasters were running").toBe(true);
    const stopped = await downPair(p.dir, p.binDir, user, () => {});
    expect(stopped.sort()).toEqual([...pids].sort());
    for (const pid of pids) expect(isAlive(pid!), `postmaster ${pid} after pg:down`).toBe(false);
    for (const port of [p.primary.port, p.standby.port]) expect(await isPortFree(port), `port ${port} after pg:down`).toBe(true);
    expect(existsSync(p.dir), "the pair's directory").toBe(false);
    if (existsSync("/proc")) {
      // Every process of a server is the postmaster's child; none names the data directory once it is gone.
      const left = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry) && readCmdline(entry).includes(p.dir));
      expect(left, "processes still naming the pair's directory").toEqual([]);
    }
  }, 30_000);
});

function readCmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** No server needed: a primary or standby that does not answer is a 503 naming it, quickly, not a hang. */
describe("STORE=postgres with its server down", () => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it("the leader answers 503 PRIMARY_UNAVAILABLE and the follower 503 STANDBY_UNAVAILABLE, naming the server", async () => {
    const deadPort = await freePort(); // free: nothing listens there
    const url = `postgres://lab@127.0.0.1:${deadPort}/lab`;
    const primary = openPool(url, "primary", silentLogger);
    const standby = openPool(url, "standby", silentLogger);
    const leader = await listen(createPgLeaderApp({ pool: primary, url, nodeId: "leader", syncTimeoutMs: 1000 }), { host: "127.0.0.1", port: 0 });
    const follower = await listen(createPgFollowerApp({ pool: standby, url, followerId: "follower", leaderUrl: leader.url }), { host: "127.0.0.1", port: 0 });
    closers.push(() => leader.close(), () => follower.close(), () => primary.end(), () => standby.end());

    const write = await send("POST", `${leader.url}/orders`, { id: "o-1" });
    expect(write).toMatchObject({ status: 503, body: { ok: false, code: "PRIMARY_UNAVAILABLE", server: "primary", at: `127.0.0.1:${deadPort}/lab` } });
    expect(write.body.error).toContain(`the PostgreSQL primary at 127.0.0.1:${deadPort}/lab does not answer`);
    expect((await send("GET", `${leader.url}/replication`)).body.code).toBe("PRIMARY_UNAVAILABLE");
    for (const path of ["/orders/o-1", "/orders/o-1?minOffset=0/1", "/status"]) {
      expect((await send("GET", `${follower.url}${path}`)).body, path).toMatchObject({ code: "STANDBY_UNAVAILABLE", server: "standby" });
    }
  });
});
