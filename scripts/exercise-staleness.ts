import { parseArgs } from "node:util";
import { startCluster } from "./cluster.ts";

/**
 * Bounded staleness: `GET /orders/:id?maxStalenessMs=N` on a follower answers only if it can
 * prove its state reflects every write the leader acknowledged more than N ms before the read;
 * otherwise 503 TOO_STALE. While a writer creates an order every 100 ms, a reader asks every
 * follower with each bound in turn. The table counts the answers and refusals, and checks every
 * answer against the writer's own record of what was acknowledged when: a broken promise is an
 * answer that missed a write acknowledged more than N ms before the read began. There must be none.
 *
 *   pnpm exercise:staleness                   # followers 0, 500 and 3000 ms behind; bounds 250, 1000, 5000 ms (about 10 s)
 *   pnpm exercise:staleness --lags 0,2000 --bounds 100,3000
 */
const { values } = parseArgs({ options: { lags: { type: "string", default: "0,500,3000" }, bounds: { type: "string", default: "250,1000,5000" } } });
const list = (flag: string, raw: string) =>
  raw.split(",").map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > 60_000) throw new Error(`--${flag} takes whole numbers of ms (0 to 60000) separated by commas, got ${JSON.stringify(s)}`);
    return n;
  });
const lags = list("lags", values.lags);
const bounds = list("bounds", values.bounds);

const WRITE_EVERY_MS = 100;
const WRITES = 60;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cluster = await startCluster({ longPollMs: 500, followers: lags.map((applyLagMs) => ({ applyLagMs })) });
try {
  console.log(`Bounded staleness: a leader and ${lags.length} followers (APPLY_LAG_MS ${lags.join(", ")}); LONG_POLL_MS=500, each follower's heartbeat.`);
  console.log(`A writer creates an order every ${WRITE_EVERY_MS} ms (${WRITES} in all); a reader asks every follower with ?maxStalenessMs= ${bounds.join(", ")} in turn.\n`);

  // The writer's record: each acknowledged write's offset and when it was acknowledged.
  const acked: { offset: number; at: number }[] = [];
  let writing = true;
  const writer = (async () => {
    for (let i = 0; i < WRITES; i++) {
      const reply = await cluster.createOrder(`s-${i}`);
      acked.push({ offset: reply.body.event.offset, at: performance.now() });
      await sleep(WRITE_EVERY_MS);
    }
    writing = false;
  })();

  const tally = new Map<string, { answered: number; refused: number; broken: number; worst: number }>();
  const key = (lag: number, bound: number) => `${lag}/${bound}`;
  while (writing) {
    for (const [i, f] of cluster.followers.entries()) {
      for (const bound of bounds) {
        const startedAt = performance.now();
        const mustHave = acked.filter((w) => w.at < startedAt - bound).at(-1)?.offset ?? -1;
        const reply = await f.read("s-0", { maxStalenessMs: bound });
        const row = tally.get(key(lags[i]!, bound)) ?? { answered: 0, refused: 0, broken: 0, worst: 0 };
        if (reply.status === 503) row.refused++;
        else {
          row.answered++;
          row.worst = Math.max(row.worst, reply.body.stalenessMs ?? 0);
          if ((reply.body.appliedOffset ?? -1) < mustHave) row.broken++;
        }
        tally.set(key(lags[i]!, bound), row);
      }
    }
    await sleep(50);
  }
  await writer;

  let brokenInAll = 0;
  const rows = lags.map((lag) => [
    `APPLY_LAG_MS=${lag}`,
    ...bounds.map((bound) => {
      const r = tally.get(key(lag, bound))!;
      brokenInAll += r.broken;
      return `${r.answered} of ${r.answered + r.refused}${r.answered ? ` (≤ ${r.worst} ms)` : ""}`;
    }),
  ]);
  const header = ["follower", ...bounds.map((b) => `maxStalenessMs=${b}: answered`)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  console.log(header.map((h, i) => h.padEnd(widths[i]!)).join(" | "));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join(" | "));
  console.log(`
In brackets: the most stale an answered read could be, as the follower proved it.
Promises broken (an answer missing a write acknowledged more than maxStalenessMs before the read): ${brokenInAll}.
A follower answers only what it can prove from its own clock: when it last asked its upstream, how long the
upstream held that request, and whether it has applied everything that reply covered. Lag accumulates (each
event waits for the one before it), so under this stream of writes a follower with APPLY_LAG_MS=500 ends up
seconds behind: it cannot promise 1 s, says 503 TOO_STALE, and the reader goes to a fresher follower or the leader.`);
} finally {
  await cluster.close();
}
