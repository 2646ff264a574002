import { parseArgs } from "node:util";
import { createReadSession, type ReadGuarantee, type SessionReply } from "@lab/replication";
import { startCluster } from "./cluster.ts";

/**
 * Monotonic reads: a reader that hops between two followers with different lags sees time go
 * backwards. For each way of choosing where to read, it creates an order, lets every follower
 * have it, confirms it, and reads it every 100 ms until every follower shows CONFIRMED, counting
 * the reads that came back older than one this reader had already seen (CONFIRMED, then PENDING).
 *
 *   pnpm exercise:monotonic                 # followers 0 ms and 3000 ms behind (about 15 s)
 *   pnpm exercise:monotonic --lags 0,1500,4000
 */
const { values } = parseArgs({ options: { lags: { type: "string", default: "0,3000" } } });
const lags = values.lags.split(",").map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 60_000) throw new Error(`--lags takes whole numbers of ms (0 to 60000) separated by commas, got ${JSON.stringify(s)}`);
  return n;
});
if (lags.length < 2) throw new Error("--lags needs at least two followers to hop between");

const READ_EVERY_MS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RANK: Record<string, number> = { missing: 0, PENDING: 1, CONFIRMED: 2 };

const strategies: { name: string; guarantee: ReadGuarantee; how: string }[] = [
  { name: "hop between followers", guarantee: "any", how: "each read goes to the next follower" },
  { name: "stick to one follower", guarantee: "sticky", how: "every read goes to the slowest follower" },
  { name: "carry the highest offset", guarantee: "monotonic-reads", how: "?minOffset= the highest offset seen; the follower waits" },
];

const cluster = await startCluster({ longPollMs: 500, followers: lags.map((applyLagMs) => ({ applyLagMs })) });
const name = (reply: SessionReply) => (reply.url === cluster.leader.url ? "leader" : `${lags[cluster.followers.findIndex((f) => f.url === reply.url)]} ms`);
try {
  console.log(`Monotonic reads: a leader and ${lags.length} followers, ${lags.map((l) => `${l} ms`).join(", ")} behind (APPLY_LAG_MS).`);
  console.log(`For each way of reading: create an order, wait until every follower has it, confirm it, then read it every ${READ_EVERY_MS} ms until every follower shows CONFIRMED.\n`);
  const header = ["how the reader chooses", "reads", "went back in time", "stale (older than the leader)", "slowest read", "served by"];
  const widths = [24, 5, 17, 29, 12, 28];
  console.log(header.map((h, i) => h.padEnd(widths[i]!)).join(" | "));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  let round = 0;
  for (const strategy of strategies) {
    const id = `m-${++round}`;
    const created = await cluster.createOrder(id);
    for (const f of cluster.followers) await f.read(id, { minOffset: created.body.event.offset, timeoutMs: 30_000 });
    await cluster.confirm(id);
    const session = createReadSession({
      leaderUrl: cluster.leader.url,
      followerUrls: cluster.followers.map((f) => f.url),
      guarantee: strategy.guarantee,
      stickTo: lags.indexOf(Math.max(...lags)),
      timeoutMs: 30_000,
    });
    let best = 0;
    let reads = 0;
    let backwards = 0;
    let stale = 0;
    let slowest = 0;
    const servedBy = new Map<string, number>();
    for (;;) {
      const startedAt = performance.now();
      const reply = await session.read(`/orders/${id}`);
      slowest = Math.max(slowest, performance.now() - startedAt);
      const status = reply.status === 200 ? (reply.body as { order: { status: string } }).order.status : "missing";
      reads++;
      if (RANK[status]! < best) backwards++;
      if (status !== "CONFIRMED") stale++; // the leader acknowledged the confirm before the first read
      best = Math.max(best, RANK[status]!);
      servedBy.set(name(reply), (servedBy.get(name(reply)) ?? 0) + 1);
      const everyone = await Promise.all(cluster.followers.map((f) => f.read(id)));
      if (everyone.every((r) => r.body.order?.status === "CONFIRMED")) break;
      await sleep(READ_EVERY_MS);
    }
    const by = [...servedBy].map(([who, n]) => `${who}: ${n}`).join(", ");
    const cells = [strategy.name, String(reads), String(backwards), String(stale), `${Math.round(slowest)} ms`, by];
    console.log(cells.map((c, i) => (i > 0 && i < 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | "));
  }
  console.log(`
Hopping between followers shows CONFIRMED, then PENDING again: each follower is a different moment
in the past. Sticking to one follower never goes back, but stays as stale as that follower (and only
holds while it lives). Carrying the highest offset seen never goes back on any follower: a slower one
holds the read until it has caught up with what this reader already saw, so the price is a wait
instead of a stale answer (or the read goes to the leader). See docs/many-followers.md.`);
} finally {
  await cluster.close();
}
