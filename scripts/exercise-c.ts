import { parseArgs } from "node:util";
import type { SyncSettings } from "@lab/node";
import { readFollowerConfig } from "../apps/worker/src/config.ts";
import { startCluster } from "./cluster.ts";

/**
 * Exercise C: what a write waits for. The same writes under asynchronous replication,
 * SYNC_ACK=received and SYNC_ACK=applied, with the follower's APPLY_LAG_MS at 0 and at 500: how
 * long each write takes to be acknowledged, and whether a read on the follower right after the
 * acknowledgement shows it. One more row runs the asynchronous case with the chapter's follower,
 * polling every 300 ms instead of long-polling. Then the follower is stopped: what happens to
 * writes under each SYNC_ON_TIMEOUT, and once it is back.
 *
 *   pnpm exercise:c                 # about 20 s
 *   pnpm exercise:c --writes 50     # more writes per row
 */
const { values } = parseArgs({ options: { writes: { type: "string", default: "20" } } });
const WRITES = Number(values.writes);
if (!Number.isInteger(WRITES) || WRITES < 1 || WRITES > 1000) throw new Error(`--writes takes a whole number from 1 to 1000, got ${JSON.stringify(values.writes)}`);

/** The follower's LONG_POLL_MS as `pnpm dev` runs it. */
const LONG_POLL_MS = readFollowerConfig({}).longPollMs;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (n: number) => (n < 10 ? `${n.toFixed(1)} ms` : `${Math.round(n)} ms`);
const modes: { name: string; sync: Partial<SyncSettings> }[] = [
  { name: "asynchronous", sync: {} },
  { name: "SYNC_ACK=received", sync: { replicas: 1, ack: "received" } },
  { name: "SYNC_ACK=applied", sync: { replicas: 1, ack: "applied" } },
];
let nextId = 0;

/**
 * WRITES writes one after another on a new leader and follower, each followed at once by a read
 * on the follower: the median time to the acknowledgement, and how many reads missed the write.
 */
async function measure(sync: Partial<SyncSettings>, applyLagMs: number, longPollMs: number) {
  const cluster = await startCluster({ applyLagMs, pollIntervalMs: 300, longPollMs, sync });
  try {
    await cluster.createOrder(`warm-${nextId++}`); // the connections are open, the follower has fetched once
    const latencies: number[] = [];
    let stale = 0;
    for (let i = 0; i < WRITES; i++) {
      const id = `c-${nextId++}`;
      const began = performance.now();
      await cluster.createOrder(id);
      latencies.push(performance.now() - began);
      if ((await cluster.readFollower(id)).status !== 200) stale++;
    }
    return { p50: median(latencies), stale };
  } finally {
    await cluster.close();
  }
}

function table(header: string[], rows: string[][]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ").trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const r of rows) console.log(line(r));
}

console.log(`Exercise C: asynchronous against synchronous replication, one leader and one follower (SYNC_REPLICAS=1 for the synchronous rows).`);
console.log(`${WRITES} writes one after another per row; right after each is acknowledged, the follower is asked for it.`);
console.log(`The follower long-polls (LONG_POLL_MS=${LONG_POLL_MS}), except in the row that says it polls. A first pass, not shown, warms up the code.\n`);
// The first row would otherwise also pay for compiling the code every row runs.
for (const mode of modes) await measure(mode.sync, 0, LONG_POLL_MS);
const rows: string[][] = [];
const row = async (name: string, sync: Partial<SyncSettings>, applyLagMs: number, longPollMs: number) => {
  const { p50, stale } = await measure(sync, applyLagMs, longPollMs);
  rows.push([name, String(applyLagMs), ms(p50), `${stale} of ${WRITES}`]);
};
for (const applyLagMs of [0, 500]) {
  for (const mode of modes) await row(mode.name, mode.sync, applyLagMs, LONG_POLL_MS);
  if (applyLagMs === 0) await row("asynchronous, polling every 300 ms", {}, 0, 0);
}
table(["replication", "APPLY_LAG_MS", "write latency p50", "stale reads right after the acknowledgement"], rows);

console.log(`\nThe follower stopped (SYNC_TIMEOUT_MS=1000): three writes, then the follower comes back, then one more write.\n`);
const downRows: string[][] = [];
for (const [name, sync] of [
  ["asynchronous", {}],
  ["SYNC_ACK=received, SYNC_ON_TIMEOUT=error", { replicas: 1, ack: "received", timeoutMs: 1000, onTimeout: "error" }],
  ["SYNC_ACK=received, SYNC_ON_TIMEOUT=async", { replicas: 1, ack: "received", timeoutMs: 1000, onTimeout: "async" }],
] as [string, Partial<SyncSettings>][]) {
  const cluster = await startCluster({ applyLagMs: 0, longPollMs: LONG_POLL_MS, sync });
  try {
    await cluster.stopFollower();
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const began = performance.now();
      const reply = await cluster.createOrder(`d-${nextId++}`);
      const took = ms(performance.now() - began);
      const how = reply.body.replication ? ` ${reply.body.replication.mode}${reply.body.replication.degraded ? " (degraded)" : ""}` : "";
      outcomes.push(`${reply.status}${reply.status >= 300 ? ` ${reply.body.code}` : how}, ${took}`);
    }
    await cluster.startFollower();
    await cluster.expectCaughtUp();
    await new Promise((r) => setTimeout(r, 200)); // the follower's next fetch reports that it has them all
    const last = await cluster.createOrder(`d-${nextId++}`);
    const lastHow = last.body.replication ? `${last.body.replication.mode}` : "async";
    const onLeader = (await cluster.leaderSnapshot()).body.state.length;
    downRows.push([name, outcomes[0]!, outcomes[2]!, `${last.status} ${lastHow}`, `${onLeader} of 4`]);
  } finally {
    await cluster.close();
  }
}
table(["replication", "first write", "third write", "after the follower is back", "orders on the leader"], downRows);

console.log(`
Asynchronous writes are acknowledged before the follower has them: fast, and a read right after may be stale.
Here, on one machine, a long-polling follower usually wins that race: its fetch, held by the leader, is answered
as the write is appended, while the read needs one more hop after the acknowledgement. The chapter's polling
follower has not fetched the write yet. SYNC_ACK=received waits one round trip more; SYNC_ACK=applied waits for
the follower's APPLY_LAG_MS too, and then a read on it is never stale. With the follower down, a synchronous
leader either answers 504 (the write is still in its log: a timeout is not a rollback) or, with
SYNC_ON_TIMEOUT=async, carries on asynchronously until the follower is back. See docs/sync.md.`);
