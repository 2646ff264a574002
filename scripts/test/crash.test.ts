import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { send, type Reply } from "../cluster.ts";
import { runServer, type RunningProcess } from "../processes.ts";

const appDir = (name: string) => fileURLToPath(new URL(`../../apps/${name}`, import.meta.url));

/** How many creates the leader must have acknowledged before the crash. Counted, not timed. */
const WRITES_BEFORE_CRASH = 300;
/** Concurrent clients writing. */
const CLIENTS = 8;
/** A safety net against a hung wait (it fails the test with what it saw), never a way to wait. */
const WITHIN_MS = 15_000;
/** The follower's checkpoint to kill it after: one at least this far into the load. */
const MID_LOAD_CHECKPOINT = 100;
/** The follower's settings in these tests: apply at once, poll often. */
const FAST_FOLLOWER = { APPLY_LAG_MS: "0", POLL_INTERVAL_MS: "20" };

/**
 * Crashes: the real processes (`tsx src/server.ts`), killed with SIGKILL in the middle of a write
 * load, as a crash or a power cut would stop them: no shutdown handler runs, nothing is flushed.
 *
 * With DATA_DIR, no write the leader acknowledged may be lost, and the follower must end up equal
 * to the leader without applying anything twice. Without it, a restarted leader is a new, empty
 * history, and the follower must follow it there (resync) rather than keep what it no longer has.
 *
 * Every wait is on something the processes print or answer: a "listening on" line, a count of
 * acknowledged writes, the follower's `?minOffset=` wait. None sleeps.
 */
describe("crashes: SIGKILL in the middle of a write load", () => {
  const running: RunningProcess[] = [];
  const dirs: string[] = [];
  const tempDir = (what: string) => {
    const dir = mkdtempSync(join(tmpdir(), `lab-crash-${what}-`));
    dirs.push(dir);
    return dir;
  };
  const loads: Load[] = [];

  afterEach(async () => {
    for (const load of loads.splice(0)) load.halt();
    await Promise.all(running.splice(0).map((p) => p.kill()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a leader on loopback; PORT 0 (any free port) unless a restart passes the old one. */
  async function startLeader(env: { DATA_DIR?: string; PORT?: string } = {}) {
    const proc = runServer(appDir("api"), { HOST: "127.0.0.1", PORT: "0", DATA_DIR: "", ...env });
    running.push(proc);
    const [, url] = await proc.waitForLine(/\[leader\] listening on (http:\/\/\S+)/, WITHIN_MS);
    return { proc, url: url!, port: new URL(url!).port };
  }

  async function startFollower(leaderUrl: string, env: { DATA_DIR?: string } = {}) {
    const proc = runServer(appDir("worker"), { HOST: "127.0.0.1", PORT: "0", LEADER_URL: leaderUrl, DATA_DIR: "", ...FAST_FOLLOWER, ...env });
    running.push(proc);
    const [, url] = await proc.waitForLine(/\[follower\] listening on (http:\/\/\S+)/, WITHIN_MS);
    return { proc, url: url! };
  }

  function load(leaderUrl: string, prefix: string, options: LoadOptions = {}): Load {
    const l = startLoad(leaderUrl, prefix, options);
    loads.push(l);
    return l;
  }

  it("leader SIGKILLed mid-load, with DATA_DIR: no acknowledged write is lost, and the follower equals the leader without a resync", async () => {
    const leaderDir = tempDir("leader");
    const leader = await startLeader({ DATA_DIR: leaderDir });
    const follower = await startFollower(leader.url, { DATA_DIR: tempDir("follower") });
    const { logId } = (await send("GET", `${leader.url}/health`)).body;

    const before = load(leader.url, "a");
    await before.whenAcked(WRITES_BEFORE_CRASH);
    await leader.proc.kill();
    await before.ended(); // every client stops at its first failure
    expect(before.refused, "replies other than 201 before the crash").toEqual([]);
    expect(before.failed.length, "clients that saw the crash (each stops at its first failure)").toBe(CLIENTS);
    expect(before.acked.size).toBeGreaterThanOrEqual(WRITES_BEFORE_CRASH);

    // The same port, so that the follower's LEADER_URL still points at it; the same DATA_DIR.
    const restarted = await startLeader({ DATA_DIR: leaderDir, PORT: leader.port });
    expect(restarted.url).toBe(leader.url);
    const health = (await send("GET", `${leader.url}/health`)).body;
    expect(health.logId, "the leader's log identity after the restart").toBe(logId);
    expect(health.head, "events recovered: at least one per acknowledged create").toBeGreaterThanOrEqual(before.acked.size);

    const after = load(leader.url, "b", { total: 50 });
    await after.ended();
    expect({ refused: after.refused, failed: after.failed, acked: after.acked.size }, "writes after the restart").toEqual({ refused: [], failed: [], acked: 50 });

    // No acknowledged write lost.
    const lost = (await getAll(leader.url, [...before.acked, ...after.acked])).filter((r) => r.reply.status !== 200);
    expect(lost.map((r) => `${r.id}: ${r.reply.status}`), "acknowledged creates missing on the restarted leader").toEqual([]);
    // Nothing invented either: one order per event, every one of them a create some client sent.
    const snapshot = (await send("GET", `${leader.url}/snapshot`)).body;
    expect(snapshot.state).toHaveLength(snapshot.offset);
    const attempted = new Set([...before.attempted, ...after.attempted]);
    expect(snapshot.state.filter((o: { id: string }) => !attempted.has(o.id)), "orders no client asked for").toEqual([]);

    const caughtUp = await waitForCatchUp(leader.url, follower.url);
    await expectFollowerEqualsLeader(leader.url, follower.url, [...attempted]);
    const status = (await send("GET", `${follower.url}/status`)).body;
    expect(status.error, "follower's applying error").toBeUndefined();
    expect(status).toMatchObject({ logId, resyncs: 0, appliedOffset: caughtUp.head - 1 });
  }, 60_000);

  it("follower SIGKILLed mid-load, with DATA_DIR: it resumes from its checkpoint, applies nothing twice, and equals the leader", async () => {
    const leader = await startLeader({ DATA_DIR: tempDir("leader") });
    const followerDir = tempDir("follower");
    const follower = await startFollower(leader.url, { DATA_DIR: followerDir });
    const { logId } = (await send("GET", `${leader.url}/health`)).body;

    const writes = load(leader.url, "a");
    await writes.whenAcked(WRITES_BEFORE_CRASH);
    // The follower checkpoints in the same step as it applies: the first time at once, then at
    // most once a second. Kill it once it has saved one from the middle of the load (the second,
    // typically), so that it resumes from there, not from its first few events.
    const saved = await waitForCheckpoint(followerDir, (c) => c.nextOffset >= MID_LOAD_CHECKPOINT);
    expect(saved.logId).toBe(logId);
    await follower.proc.kill();

    await writes.whenAcked(writes.acked.size + 200); // the leader takes writes while the follower is down
    await writes.stop();
    expect(writes.refused, "replies other than 201").toEqual([]);
    expect(writes.failed, "failed writes").toEqual([]);

    const restarted = await startFollower(leader.url, { DATA_DIR: followerDir });
    const [, resumedLog, resumedOffset, resumedOrders] = await restarted.proc.waitForLine(
      /\[follower\] resumed from checkpoint \S+: log (\w+), offset (\d+), (\d+) orders/,
      0, // printed before "listening on"
    );
    expect(resumedLog).toBe(logId);
    const from = Number(resumedOffset);
    expect(from, "checkpointed offset: no older than the one seen before the crash").toBeGreaterThanOrEqual(saved.nextOffset);
    // (Not compared with the "applied" lines printed before the crash: log lines are written once
    // per turn of the event loop, so a kill can land after a checkpoint and before its lines.)
    expect(Number(resumedOrders), "orders in the checkpoint: one per create before its offset").toBe(from);

    const caughtUp = await waitForCatchUp(leader.url, restarted.url);
    await expectFollowerEqualsLeader(leader.url, restarted.url, writes.attempted);
    const status = (await send("GET", `${restarted.url}/status`)).body;
    expect(status.error, "follower's applying error (an event applied twice would set it)").toBeUndefined();
    expect(status).toMatchObject({ logId, resyncs: 0, appliedOffset: caughtUp.head - 1 });
    // After the restart it applied exactly the offsets after its checkpoint, each once, in order.
    // (Its log lines come on another channel than its replies: wait for the last one to arrive.)
    await restarted.proc.waitForLine(new RegExp(`\\[follower\\] applied offset=(\\d+\\.\\.)?${caughtUp.head - 1} `), WITHIN_MS);
    const appliedAfter = appliedOffsets(restarted.proc.lines);
    expect(appliedAfter, "offsets applied after the restart").toEqual(Array.from({ length: caughtUp.head - from }, (_, i) => from + i));
  }, 60_000);

  it("leader SIGKILLed and restarted without DATA_DIR: the follower resyncs to the new, empty leader", async () => {
    const leader = await startLeader();
    const follower = await startFollower(leader.url);
    const oldLogId = (await send("GET", `${leader.url}/health`)).body.logId;

    const old = load(leader.url, "old");
    await old.whenAcked(100);
    const applied = await send("GET", `${follower.url}/orders/none?minOffset=49&timeoutMs=${WITHIN_MS}`);
    expect(applied.status, `follower applying before the crash: ${JSON.stringify(applied.body)}`).toBe(404);
    await leader.proc.kill();
    await old.ended();
    expect(old.refused, "replies other than 201 before the crash").toEqual([]);

    const restarted = await startLeader({ PORT: leader.port });
    expect(restarted.url).toBe(leader.url);
    const { logId, head } = (await send("GET", `${leader.url}/health`)).body;
    expect(logId, "a leader without DATA_DIR starts a new log").not.toBe(oldLogId);
    expect(head).toBe(0);

    // The follower's old offsets mean nothing in the new log: wait for it to resync before
    // asking it for an offset of the new log.
    await follower.proc.waitForLine(/\[follower\] resync #1: /, WITHIN_MS);
    for (let i = 1; i <= 3; i++) {
      const created = await send("POST", `${leader.url}/orders`, { id: `new-${i}` });
      expect(created, `create new-${i}`).toMatchObject({ status: 201, body: { event: { offset: i - 1 } } });
    }
    await waitForCatchUp(leader.url, follower.url);

    await expectFollowerEqualsLeader(leader.url, follower.url, ["new-1", "new-2", "new-3"]);
    const kept = (await getAll(follower.url, [...old.acked])).filter((r) => r.reply.status !== 404);
    expect(kept.map((r) => `${r.id}: ${r.reply.status}`), "orders of the old leader the follower still serves").toEqual([]);
    const status = (await send("GET", `${follower.url}/status`)).body;
    expect(status.error, "follower's applying error").toBeUndefined();
    expect(status).toMatchObject({ logId, appliedOffset: 2 });
    expect(status.resyncs).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it("a log file cut in the middle of a record: the leader drops the partial record, says so, and goes on from there", async () => {
    const dataDir = tempDir("leader");
    const leader = await startLeader({ DATA_DIR: dataDir });
    for (let i = 1; i <= 3; i++) {
      const created = await send("POST", `${leader.url}/orders`, { id: `o-${i}` });
      expect(created, `create o-${i}`).toMatchObject({ status: 201, body: { event: { offset: i - 1 } } });
    }
    const { logId } = (await send("GET", `${leader.url}/health`)).body;
    await leader.proc.kill();

    // Cut the last record short, as a crash in the middle of writing it would.
    const file = join(dataDir, "leader-log.jsonl");
    const lines = readFileSync(file, "utf8").split("\n");
    expect(lines.pop(), "the file ends with a newline").toBe("");
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ offset: 2, orderId: "o-3" });
    const cut = 10;
    truncateSync(file, statSync(file).size - cut);

    const restarted = await startLeader({ DATA_DIR: dataDir });
    const [line, bytes] = await restarted.proc.waitForLine(/\[leader\] dropped a partial record at the end of .* \((\d+) bytes/, 0);
    expect(Number(bytes), `bytes dropped, per "${line}"`).toBe(Buffer.byteLength(lines.at(-1)!) + 1 - cut);

    const health = (await send("GET", `${restarted.url}/health`)).body;
    expect(health).toMatchObject({ logId, head: 2 });
    expect((await send("GET", `${restarted.url}/orders/o-1`)).status).toBe(200);
    expect((await send("GET", `${restarted.url}/orders/o-2`)).status).toBe(200);
    expect((await send("GET", `${restarted.url}/orders/o-3`)).status, "the order whose record was cut").toBe(404);
    const created = await send("POST", `${restarted.url}/orders`, { id: "o-3" });
    expect(created, "a new create after the repair").toMatchObject({ status: 201, body: { event: { offset: 2, orderId: "o-3" } } });
    expect(readFileSync(file, "utf8").split("\n").slice(1, -1).map((l) => JSON.parse(l).offset), "offsets in the file").toEqual([0, 1, 2]);
  }, 60_000);
});

interface LoadOptions {
  /** Stop after this many creates in all (default: until stopped, or until every client has failed). */
  total?: number;
}

/** Concurrent clients creating orders with unique ids, each stopping at its first failed request. */
interface Load {
  /** Every id sent, acknowledged or not. */
  attempted: string[];
  /** The ids the leader acknowledged (201). */
  acked: Set<string>;
  /** Replies other than 201. */
  refused: { id: string; status: number; body: unknown }[];
  /** Requests that got no reply (one per client at most: a client stops at its first). */
  failed: { id: string; error: string }[];
  /** Resolves once `n` creates are acknowledged; fails if every client ends first, or after WITHIN_MS. */
  whenAcked(n: number): Promise<void>;
  /** Resolves once every client has ended (fails after WITHIN_MS). */
  ended(): Promise<void>;
  /** Asks the clients to stop after the request each has in flight, and waits for them. */
  stop(): Promise<void>;
  /** Asks the clients to stop, without waiting (for clean-up). */
  halt(): void;
}

/** A bound on any one load, so that no loop can run away. */
const MAX_WRITES_PER_LOAD = 20_000;

function startLoad(leaderUrl: string, prefix: string, { total = MAX_WRITES_PER_LOAD }: LoadOptions = {}): Load {
  const attempted: string[] = [];
  const acked = new Set<string>();
  const refused: Load["refused"] = [];
  const failed: Load["failed"] = [];
  const listeners = new Set<() => void>();
  let stopping = false;
  let running = CLIENTS;
  const notify = () => {
    for (const l of listeners) l();
  };

  const client = async (c: number) => {
    for (let i = 0; !stopping && attempted.length < Math.min(total, MAX_WRITES_PER_LOAD); i++) {
      const id = `${prefix}-${c}-${i}`;
      attempted.push(id);
      let reply: Reply;
      try {
        reply = await send("POST", `${leaderUrl}/orders`, { id });
      } catch (err) {
        failed.push({ id, error: String((err as Error)?.cause ?? err) });
        break;
      }
      if (reply.status === 201) acked.add(id);
      else refused.push({ id, status: reply.status, body: reply.body });
      notify();
    }
  };
  const clients = Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c).finally(() => (running--, notify()))));

  const summary = () => `${acked.size} acknowledged, ${refused.length} refused, ${failed.length} failed (${failed.map((f) => f.error).join("; ")}), ${running} clients running`;

  /** Resolves once `done()` holds; rejects once `hopeless()` does, or after WITHIN_MS. */
  const until = (what: string, done: () => boolean, hopeless: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (done()) finish(resolve);
        else if (hopeless()) finish(() => reject(new Error(`load ${prefix}: gave up waiting for ${what}: ${summary()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`load ${prefix}: no ${what} within ${WITHIN_MS} ms: ${summary()}`))), WITHIN_MS);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });

  const ended = () => until("end of every client", () => running === 0, () => false);
  return {
    attempted,
    acked,
    refused,
    failed,
    whenAcked: (n) => until(`${n} acknowledged writes`, () => acked.size >= n, () => running === 0),
    ended,
    async stop() {
      stopping = true;
      await ended();
      await clients;
    },
    halt() {
      stopping = true;
    },
  };
}

/** GETs `/orders/<id>` for every id, a few dozen at a time. */
async function getAll(baseUrl: string, ids: string[]): Promise<{ id: string; reply: Reply }[]> {
  const results: { id: string; reply: Reply }[] = [];
  for (let i = 0; i < ids.length; i += 32) {
    const chunk = ids.slice(i, i + 32);
    results.push(...(await Promise.all(chunk.map(async (id) => ({ id, reply: await send("GET", `${baseUrl}/orders/${id}`) })))));
  }
  return results;
}

/**
 * Waits, on the follower's side, until it has applied everything the leader holds now: the
 * follower answers `?minOffset=<head-1>` only once that offset is applied (a 404 for the unknown
 * id is that answer), or with a 504 if it did not get there in time. Returns the leader's health.
 */
async function waitForCatchUp(leaderUrl: string, followerUrl: string): Promise<{ logId: string; head: number }> {
  const health = (await send("GET", `${leaderUrl}/health`)).body as { logId: string; head: number };
  if (health.head === 0) return health;
  const reply = await send("GET", `${followerUrl}/orders/catch-up-probe?minOffset=${health.head - 1}&timeoutMs=${WITHIN_MS}`);
  if (reply.status !== 404) throw new Error(`follower did not catch up to offset ${health.head - 1} of log ${health.logId}: ${reply.status} ${JSON.stringify(reply.body)}`);
  return health;
}

/** For every id: the follower answers what the leader answers (status and order). */
async function expectFollowerEqualsLeader(leaderUrl: string, followerUrl: string, ids: string[]) {
  const [onLeader, onFollower] = await Promise.all([getAll(leaderUrl, ids), getAll(followerUrl, ids)]);
  const differ = onLeader
    .map((l, i) => ({ id: l.id, leader: l.reply, follower: onFollower[i]!.reply }))
    .filter(({ leader, follower }) => leader.status !== follower.status || !isDeepStrictEqual(leader.body.order, follower.body.order))
    .map(({ id, leader, follower }) => `${id}: leader ${leader.status} ${JSON.stringify(leader.body.order)}, follower ${follower.status} ${JSON.stringify(follower.body.order)}`);
  expect(differ.slice(0, 10), `orders on which the follower differs from the leader (${differ.length} of ${ids.length})`).toEqual([]);
}

/**
 * Resolves with the follower's checkpoint in `dir` once there is one that `accept`s, watching the
 * directory (the checkpoint is saved by renaming a new file over the old one); fails after WITHIN_MS.
 */
function waitForCheckpoint(dir: string, accept: (c: { logId: string; nextOffset: number }) => boolean): Promise<{ logId: string; nextOffset: number }> {
  const file = join(dir, "follower-checkpoint.json");
  let last: { logId: string; nextOffset: number } | undefined;
  return new Promise((resolve, reject) => {
    const watcher = watch(dir);
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      watcher.close();
      settle();
    };
    const check = () => {
      try {
        last = JSON.parse(readFileSync(file, "utf8"));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // none saved yet
        return finish(() => reject(err));
      }
      if (accept(last!)) finish(() => resolve(last!));
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no checkpoint as wanted in ${file} within ${WITHIN_MS} ms; the last: ${JSON.stringify(last && { ...last, state: undefined })}`))), WITHIN_MS);
    watcher.on("change", check);
    watcher.on("error", (err) => finish(() => reject(err)));
    check();
  });
}

/** The offsets a follower says it applied, in the order it printed them (a burst is one line: `offset=A..B`). */
function appliedOffsets(lines: string[]): number[] {
  return lines.flatMap((line) => {
    const match = line.match(/\[follower\] applied offset=(\d+)(?:\.\.(\d+))? /);
    if (!match) return [];
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    return Array.from({ length: last - first + 1 }, (_, i) => first + i);
  });
}
