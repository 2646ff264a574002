import { readStandbyPosition, readStandbys, setApplyLag } from "@lab/pg-store";
import type pg from "pg";
import { send } from "../cluster.ts";
import { findPostgres } from "./binaries.ts";
import { runCommand } from "./command.ts";
import { startLabApps, type LabApps } from "./lab-apps.ts";
import { downPair, inspectPair, postmasterPid, upPair, type Pair } from "./pair.ts";
import { runProgram } from "./run-program.ts";
import { serverUser } from "./server-user.ts";
import { readPairSettings } from "./settings.ts";

/**
 * `pnpm pg:tour`: the chapter and its exercises against a real PostgreSQL primary and standby,
 * through the lab's own routes (STORE=postgres). Each step prints the lab's term, PostgreSQL's
 * term, and what was observed. It uses the pair `pnpm pg:up` started, or starts one (and stops
 * it at the end). `--lags 0,500,3000` changes exercise A's sweep.
 */
runCommand("pg:tour", async (log) => {
  const lags = readLags(process.argv.slice(2));
  const settings = readPairSettings(process.env);
  const state = inspectPair(settings.dir);
  let pair: Pair;
  let ours = false;
  if (state.kind === "running") pair = state.pair;
  else {
    if (state.kind === "stale") throw new Error(`${state.why}: run pnpm pg:down first`);
    const found = findPostgres();
    if (!found.ok) throw new Error(found.message);
    log(`no pair running in ${settings.dir}: starting one for the tour (it stops it at the end)`);
    pair = await upPair(settings, found.binaries, () => {});
    ours = true;
  }
  const apps = await startLabApps(pair, { syncTimeoutMs: 2000 });
  const user = serverUser(() => {});
  const pgCtl = (args: string[]) => runProgram(pair.binDir, "pg_ctl", args, { user, home: pair.dir });
  try {
    log(`${pair.version}; primary ${pair.primary.url}, standby ${pair.standby.url}; the lab's leader at ${apps.leaderUrl}, its follower at ${apps.followerUrl}`);
    await staleRead(apps, pair.applyLagMs);
    await lagSweep(apps, lags);
    await setLag(apps, pair.applyLagMs);
    await readYourWrites(apps, pair.applyLagMs);
    await synchronous(apps, pair, pgCtl);
    console.log("\nNot run here: promotion. The lab's POST /admin/promote is PostgreSQL's pg_promote() (or pg_ctl promote) on the standby: it stops replaying, and begins timeline 2, the lab's epoch 1 (docs/postgres.md).");
  } finally {
    await apps.close();
    if (ours) await downPair(pair.dir, pair.binDir, user, () => {});
  }
});

const run = `tour-${Date.now().toString(36)}`; // order ids of this run, so a second tour on the same pair does not collide
let nextId = 0;
const newId = () => `${run}-${nextId++}`;
const step = (title: string, lab: string, postgres: string) => console.log(`\n== ${title} ==\nlab:        ${lab}\nPostgreSQL: ${postgres}`);
const observed = (text: string) => console.log(`observed:   ${text}`);
const create = async (apps: LabApps, id: string) => {
  const reply = await send("POST", `${apps.leaderUrl}/orders`, { id });
  if (reply.status !== 201) throw new Error(`POST /orders ${id}: got ${reply.status} ${JSON.stringify(reply.body)}, want 201`);
  return reply.body as { event: { offset: number }; lsn: string };
};

/** Sets the standby's delay, and waits until a new session there reports it (pg_reload_conf is asynchronous). */
async function setLag(apps: LabApps, ms: number) {
  await setApplyLag(apps.standby, ms);
  for (let i = 0; i < 500; i++) {
    const { rows } = await apps.standby.query<{ setting: string }>("SELECT setting FROM pg_settings WHERE name = 'recovery_min_apply_delay'");
    if (Number(rows[0]!.setting) === ms) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the standby did not take recovery_min_apply_delay=${ms}ms within 5 s of pg_reload_conf()`);
}

/** Reads the order on the follower every `everyMs` until `done(reply)`; returns when (ms after `since`) and how many reads before were stale. */
async function watchFollower(apps: LabApps, id: string, since: number, done: (r: { status: number; body: any }) => boolean, everyMs = 100) {
  let stale = 0;
  for (;;) {
    const reply = await send("GET", `${apps.followerUrl}/orders/${id}`);
    if (done(reply)) return { afterMs: Date.now() - since, stale };
    stale++;
    await new Promise((r) => setTimeout(r, everyMs)); // the reader's pace, as exercise A's reader polls every 100 ms
  }
}

async function staleRead(apps: LabApps, lagMs: number) {
  step("1. The chapter's stale read", `a follower applying each event APPLY_LAG_MS=${lagMs} after the leader wrote it`, `a hot standby with recovery_min_apply_delay = '${lagMs}ms': it receives the WAL at once, replays each commit ${lagMs} ms after it was made`);
  const id = newId();
  const written = await create(apps, id);
  const at = Date.now();
  const right = await send("GET", `${apps.followerUrl}/orders/${id}`);
  const standby = await readStandbyPosition(apps.standby);
  observed(`POST /orders -> offset ${written.event.offset}, commit at lsn ${written.lsn}; GET on the follower right after -> ${right.status} ${right.body.code ?? right.body.order?.status} (pg_last_wal_replay_lsn() ${standby.appliedLsn}, behind the commit)`);
  const seen = await watchFollower(apps, id, at, (r) => r.status === 200);
  observed(`the follower shows it ${seen.afterMs} ms after the write, ${seen.stale} stale reads before: PostgreSQL's own standby served them`);
}

function readLags(args: string[]): number[] {
  const i = args.indexOf("--lags");
  if (i < 0) return [0, 500, 3000];
  const lags = (args[i + 1] ?? "").split(",").map((s) => Number(s.trim()));
  if (lags.length === 0 || lags.some((n) => !Number.isInteger(n) || n < 0 || n > 60_000)) throw new Error(`--lags takes a comma list of whole ms from 0 to 60000, such as 0,500,3000; got ${JSON.stringify(args[i + 1] ?? "")}`);
  return lags;
}

async function lagSweep(apps: LabApps, lags: number[]) {
  step("2. Exercise A: change APPLY_LAG_MS", `APPLY_LAG_MS=${lags.join(", ")}: create an order, confirm it a second later, a reader polls the follower every 100 ms`, "ALTER SYSTEM SET recovery_min_apply_delay on the standby, then SELECT pg_reload_conf(): no restart");
  console.log("recovery_min_apply_delay | order visible after | confirm visible after | stale reads");
  console.log("-------------------------|---------------------|-----------------------|------------");
  for (const lag of lags) {
    await setLag(apps, lag);
    const id = newId();
    await create(apps, id);
    const createdAt = Date.now();
    const seenCreate = watchFollower(apps, id, createdAt, (r) => r.status === 200);
    await new Promise((r) => setTimeout(r, 1000)); // exercise A's pause between the create and the confirm
    const confirm = await send("POST", `${apps.leaderUrl}/orders/${id}/confirm`);
    if (confirm.status !== 200) throw new Error(`confirm ${id}: got ${confirm.status}, want 200`);
    const confirmedAt = Date.now();
    const seenConfirm = await watchFollower(apps, id, confirmedAt, (r) => r.body.order?.status === "CONFIRMED");
    const c = await seenCreate;
    console.log(`${`${lag} ms`.padStart(24)} | ${`${c.afterMs} ms`.padStart(19)} | ${`${seenConfirm.afterMs} ms`.padStart(21)} | ${`${c.stale + seenConfirm.stale}`.padStart(11)}`);
  }
  observed("each commit is replayed its delay after it was made (recovery_min_apply_delay counts from the commit's timestamp), so the confirm does not wait for the create's delay first: lag does not accumulate as it does in the lab's follower, which waits APPLY_LAG_MS per event in turn");
}

async function readYourWrites(apps: LabApps, lagMs: number) {
  step("3. Exercise B: read your own write by its position", "every write reply carries event.offset; GET /orders/:id?minOffset=<offset> holds the read until the follower has applied it", "the reply's lsn (pg_current_wal_lsn() after COMMIT); the follower waits until pg_last_wal_replay_lsn() >= that LSN (PostgreSQL 15 has no wait function: it asks every 10 ms)");
  const id = newId();
  const written = await create(apps, id);
  const plain = await send("GET", `${apps.followerUrl}/orders/${id}`);
  const started = Date.now();
  const waited = await send("GET", `${apps.followerUrl}/orders/${id}?minOffset=${written.lsn}&timeoutMs=${lagMs + 5000}`);
  observed(`plain read right after the write -> ${plain.status} ${plain.body.code ?? ""}; with ?minOffset=${written.lsn} -> ${waited.status} ${waited.body.order?.status} after ${Date.now() - started} ms (appliedLsn ${waited.body.appliedLsn})`);
  const other = newId();
  const w2 = await create(apps, other);
  const tooShort = await send("GET", `${apps.followerUrl}/orders/${other}?minOffset=${w2.event.offset}&timeoutMs=300`);
  observed(`?minOffset=${w2.event.offset} (the lab's offset) with timeoutMs=300 -> ${tooShort.status} ${tooShort.body.code}: "${tooShort.body.error}"`);
}

async function synchronous(apps: LabApps, pair: Pair, pgCtl: (args: string[]) => Promise<string>) {
  step(
    "4. Synchronous replication: SYNC_REPLICAS=1 SYNC_ACK=applied",
    "a write is acknowledged once its follower has applied it; with the follower stopped, a write waits SYNC_TIMEOUT_MS, then 504 REPLICATION_TIMEOUT, not rolled back",
    "synchronous_standby_names = 'standby' and synchronous_commit = remote_apply on the primary (ALTER SYSTEM + pg_reload_conf)",
  );
  const primary = apps.primary;
  await primary.query("ALTER SYSTEM SET synchronous_standby_names = 'standby'");
  await primary.query("ALTER SYSTEM SET synchronous_commit = 'remote_apply'");
  await primary.query("SELECT pg_reload_conf()");
  try {
    await waitFor("pg_stat_replication to show the standby as sync", async () => (await readStandbys(primary)).followers.some((f) => f.sync === "sync"));
    const id = newId();
    const began = Date.now();
    await create(apps, id);
    const latency = Date.now() - began;
    const read = await send("GET", `${apps.followerUrl}/orders/${id}`);
    observed(`the write took ${latency} ms (the standby's recovery_min_apply_delay is ${pair.applyLagMs} ms: remote_apply waits for it); the follower right after -> ${read.status} ${read.body.order?.status}: fresh`);

    await pgCtl(["stop", "-D", pair.standby.dataDir, "-m", "fast", "-w"]);
    observed(`standby stopped (pg_ctl stop -m fast): the leader's /replication now says ${(await readStandbys(primary)).followers.map((f) => `${f.id} ${f.state}`).join(", ")}`);
    const cut = await directWriteWithStatementTimeout(primary);
    observed(cut);
    const lost = newId();
    const t0 = Date.now();
    const timedOut = await send("POST", `${apps.leaderUrl}/orders`, { id: lost });
    observed(`POST /orders through the lab's leader (SYNC_TIMEOUT_MS=2000) -> ${timedOut.status} ${timedOut.body.code} after ${Date.now() - t0} ms: "${timedOut.body.error}"`);
    const onLeader = await send("GET", `${apps.leaderUrl}/orders/${lost}`);
    observed(`GET on the leader -> ${onLeader.status} ${onLeader.body.order?.status}: committed on the primary all the same`);

    await pgCtl(["start", "-D", pair.standby.dataDir, "-l", pair.standby.logFile, "-w", "-t", "60"]);
    const back = Date.now();
    const again = await send("GET", `${apps.followerUrl}/orders/${lost}?minOffset=${timedOut.body.lsn}&timeoutMs=${pair.applyLagMs + 10_000}`);
    observed(`standby started again: it catches up from its replication slot; the timed-out write is on the follower -> ${again.status} ${again.body.order?.status} ${Date.now() - back} ms later`);
  } finally {
    if (postmasterPid(pair.standby.dataDir) === undefined) await pgCtl(["start", "-D", pair.standby.dataDir, "-l", pair.standby.logFile, "-w", "-t", "60"]);
    await primary.query("ALTER SYSTEM RESET synchronous_standby_names");
    await primary.query("ALTER SYSTEM RESET synchronous_commit");
    await primary.query("SELECT pg_reload_conf()");
    console.log("(synchronous_standby_names and synchronous_commit reset on the primary: asynchronous again)");
  }
}

/** A write straight to the primary with statement_timeout=500ms, cancelled from another connection 2 s on: what PostgreSQL itself does. */
async function directWriteWithStatementTimeout(primary: pg.Pool): Promise<string> {
  const client = await primary.connect();
  const warnings: string[] = [];
  client.on("notice", (n) => warnings.push(`${n.severity ?? "WARNING"}: ${n.message} (${n.detail ?? ""})`));
  try {
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    await client.query("SET statement_timeout = 500");
    const began = Date.now();
    const cancel = setTimeout(() => void primary.query("SELECT pg_cancel_backend($1)", [rows[0]!.pid]), 2000);
    await client.query("INSERT INTO orders (id, status, updated_at) VALUES ($1, 'PENDING', $2)", [`${run}-direct`, Date.now()]);
    clearTimeout(cancel);
    return `an INSERT straight to the primary with statement_timeout = 500: it still waited ${Date.now() - began} ms, until the tour cancelled it (pg_cancel_backend); PostgreSQL answered INSERT with ${warnings.join(" ") || "no warning"}`;
  } finally {
    client.release(true);
  }
}

async function waitFor(what: string, check: () => Promise<boolean>) {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`waited 10 s for ${what}`);
}
