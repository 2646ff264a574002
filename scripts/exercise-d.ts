import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { SyncSettings } from "@lab/node";
import { Agent } from "undici";
import { sendJson, startCluster, type Cluster } from "./cluster.ts";

/**
 * Exercise D: failover. Writes flow from a few clients; the leader dies (taken off the network
 * at once, its log kept on disk); the most advanced follower is promoted and the clients move to
 * it; the old leader comes back from its DATA_DIR and is made to follow the new one. Counted: the
 * writes acknowledged, and those acknowledged but gone from the new leader's history (lost).
 * Asynchronous replication, then SYNC_REPLICAS=1. A second run shows split brain: the leader is
 * only cut off from its followers, keeps taking writes, and a follower is promoted beside it.
 *
 *   pnpm exercise:d                  # about 15 s
 *   pnpm exercise:d --write-ms 3000  # writes flow longer before each failure
 */
const { values } = parseArgs({ options: { "write-ms": { type: "string", default: "1000" }, writers: { type: "string", default: "4" } } });
const WRITE_MS = Number(values["write-ms"]);
const WRITERS = Number(values.writers);
if (!Number.isInteger(WRITE_MS) || WRITE_MS < 100 || WRITE_MS > 60_000) throw new Error(`--write-ms takes a whole number from 100 to 60000, got ${JSON.stringify(values["write-ms"])}`);
if (!Number.isInteger(WRITERS) || WRITERS < 1 || WRITERS > 64) throw new Error(`--writers takes a whole number from 1 to 64, got ${JSON.stringify(values.writers)}`);

/** One acknowledged write: which node acknowledged it. */
interface Acknowledged {
  id: string;
  by: string;
}

let nextId = 0;

/**
 * Runs WRITERS clients for `ms`, each writing one order after another to `target(writer)`, and
 * returns the writes acknowledged (201). A refused or failed write is not counted: nobody was
 * told it happened.
 */
async function writeFor(ms: number, target: (writer: number) => string, prefix: string): Promise<Acknowledged[]> {
  const acknowledged: Acknowledged[] = [];
  const until = performance.now() + ms;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      const agent = new Agent();
      try {
        while (performance.now() < until) {
          const id = `${prefix}-${nextId++}`;
          const url = target(writer);
          const reply = await sendJson("POST", `${url}/orders`, { id }, agent).catch(() => undefined);
          if (reply?.status === 201) acknowledged.push({ id, by: url });
          else if (!reply) await new Promise((r) => setTimeout(r, 10)); // the node is gone: do not spin
        }
      } finally {
        await agent.close();
      }
    }),
  );
  return acknowledged;
}

/** The follower that has received the most: the one a failover tool promotes (it has every write any follower has). */
async function mostAdvanced(cluster: Cluster) {
  const positions = await Promise.all(cluster.followers.map(async (f) => ({ f, received: (await f.status()).body.nextFrom as number })));
  return positions.sort((a, b) => b.received - a.received)[0]!.f;
}

/** How many of `writes` the node at `url` no longer has. */
async function missing(url: string, writes: Acknowledged[]) {
  let lost = 0;
  for (const w of writes) if ((await sendJson("GET", `${url}/orders/${w.id}`)).status !== 200) lost++;
  return lost;
}

/** Waits until `cluster`'s old leader has caught up with `leaderUrl` and returns how many events it dropped when it rejoined. */
async function rejoin(cluster: Cluster, lines: string[], leaderUrl: string) {
  const followed = await cluster.leader.follow(leaderUrl);
  if (followed.status !== 200) throw new Error(`the old leader could not follow ${leaderUrl}: ${JSON.stringify(followed.body)}`);
  const head = (await sendJson("GET", `${leaderUrl}/health`)).body.head as number;
  for (let i = 0; i < 200 && ((await cluster.leader.status()).body.appliedOffset ?? -1) < head - 1; i++) await new Promise((r) => setTimeout(r, 25));
  const dropped = lines.map((l) => /\[leader\] .*dropped (\d+) events?/.exec(l)).find(Boolean);
  return dropped ? Number(dropped[1]) : 0;
}

function table(header: string[], rows: string[][]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  console.log(header.map((h, i) => h.padEnd(widths[i]!)).join(" | "));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join(" | "));
}

/** Starts a leader (with a DATA_DIR, so it can come back) and two followers, all long-polling as apps/worker does. */
async function startLab(sync: Partial<SyncSettings>) {
  const dir = mkdtempSync(join(tmpdir(), "lab-exercise-d-"));
  const lines: string[] = [];
  const cluster = await startCluster({ leaderDataDir: dir, longPollMs: 500, batchWaitMs: 50, sync, followers: [{}, {}], logLine: (l) => lines.push(l) });
  await writeFor(300, () => cluster.leader.url, "warm-up"); // not counted: the first writes of a process pay for its warming up
  return {
    cluster,
    lines,
    async close() {
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

console.log(`Exercise D: failover. ${WRITERS} clients write for ${WRITE_MS} ms; the leader dies; the most advanced of two followers is promoted;`);
console.log(`the clients write to it for ${WRITE_MS} ms more; the old leader comes back from its DATA_DIR and is made to follow it.\n`);
const rows: string[][] = [];
for (const [name, sync] of [
  ["asynchronous", {}],
  ["SYNC_REPLICAS=1 (SYNC_ACK=received)", { replicas: 1, ack: "received" }],
] as [string, Partial<SyncSettings>][]) {
  const lab = await startLab(sync);
  try {
    const { cluster } = lab;
    const before = await writeFor(WRITE_MS, () => cluster.leader.url, "a");
    await cluster.leader.stop(); // it dies mid-stream: no warning, its last writes maybe unshipped
    const promoted = await mostAdvanced(cluster);
    await promoted.promote();
    for (const f of cluster.followers) if (f !== promoted) await f.follow(promoted.url);
    const after = await writeFor(WRITE_MS, () => promoted.url, "b");
    await cluster.leader.restart(); // back from its DATA_DIR, still believing it leads epoch 0
    const dropped = await rejoin(cluster, lab.lines, promoted.url);
    const lost = await missing(promoted.url, before);
    rows.push([name, String(before.length + after.length), `${promoted.id}`, String(lost), String(dropped)]);
  } finally {
    await lab.close();
  }
}
table(["replication", "writes acknowledged", "promoted", "acknowledged, then lost", "events the old leader dropped on rejoining"], rows);

console.log(`\nSplit brain: the leader is cut off from its followers only. Clients that do not know keep writing to it while a follower`);
console.log(`is promoted and the other clients write there; then the old leader is made to follow the new one.\n`);
const splitRows: string[][] = [];
{
  const lab = await startLab({});
  try {
    const { cluster } = lab;
    const before = await writeFor(WRITE_MS / 2, () => cluster.leader.url, "s");
    for (const f of cluster.followers) await sendJson("POST", `${f.url}/admin/pause`, { mode: "drop" }); // the partition
    const promoted = cluster.followers[0]!;
    await promoted.promote();
    for (const f of cluster.followers) if (f !== promoted) await f.follow(promoted.url);
    const split = await writeFor(WRITE_MS, (writer) => (writer % 2 === 0 ? cluster.leader.url : promoted.url), "x");
    const toOld = split.filter((w) => w.by === cluster.leader.url);
    const toNew = split.filter((w) => w.by === promoted.url);
    const dropped = await rejoin(cluster, lab.lines, promoted.url);
    const lost = await missing(promoted.url, [...before, ...toOld]);
    splitRows.push([String(toOld.length), String(toNew.length), String(lost), String(dropped)]);
  } finally {
    await lab.close();
  }
}
table(["acknowledged by the old leader after the partition", "by the new leader", "acknowledged, then lost", "events the old leader dropped on rejoining"], splitRows);

console.log(`
Asynchronous: the leader acknowledged writes it had not shipped yet; they die with it, and when it comes back it drops them
(its log went on past where the new epoch began). SYNC_REPLICAS=1: every acknowledged write was on a follower first, and the
most advanced follower has them all, so promoting it loses none (the old leader may still drop writes it never acknowledged).
Split brain: both leaders acknowledged writes; every write the old one took after the partition is lost. Fencing stops this
only once the old leader hears of the new epoch. See docs/failover.md.`);
