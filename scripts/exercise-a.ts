import { parseArgs } from "node:util";
import { readFollowerConfig } from "../apps/worker/src/config.ts";
import { startCluster } from "./cluster.ts";

/**
 * Exercise A: change APPLY_LAG_MS and watch when the follower catches up. For each lag it runs a
 * leader and a follower, creates an order, confirms it a second later, and has a reader poll the
 * follower every 100 ms, counting the reads that came back older than what the leader had
 * already acknowledged (a 404 after the create, or PENDING after the confirm).
 *
 *   pnpm exercise:a                       # lags 0, 500, 3000, 8000 (about 30 s)
 *   pnpm exercise:a --lags 0,1500
 *   pnpm exercise:a --long-poll-ms 0      # the chapter's polling every 300 ms instead of long-polling
 */
const { values } = parseArgs({
  options: { lags: { type: "string", default: "0,500,3000,8000" }, "long-poll-ms": { type: "string", default: String(readFollowerConfig({}).longPollMs) } },
});
const longPollMs = Number(values["long-poll-ms"]);
if (!Number.isInteger(longPollMs) || longPollMs < 0 || longPollMs > 30_000) {
  throw new Error(`--long-poll-ms takes a whole number of ms from 0 to 30000, got ${JSON.stringify(values["long-poll-ms"])}`);
}
const lags = values.lags.split(",").map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--lags takes whole numbers of ms separated by commas, got ${JSON.stringify(s)}`);
  return n;
});

const READ_EVERY_MS = 100;
const CONFIRM_AFTER_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  lag: number;
  orderVisibleMs: number;
  confirmVisibleMs: number;
  stale: number;
  reads: number;
}

async function runOnce(lag: number): Promise<Row> {
  const cluster = await startCluster({ applyLagMs: lag, pollIntervalMs: 300, longPollMs });
  try {
    let expected: "PENDING" | "CONFIRMED" = "PENDING";
    const createdAt = performance.now();
    await cluster.createOrder("o-1");
    let confirmedAt = Number.POSITIVE_INFINITY;
    const confirming = sleep(CONFIRM_AFTER_MS)
      .then(() => cluster.confirm("o-1"))
      .then(() => {
        confirmedAt = performance.now();
        expected = "CONFIRMED";
      });

    let orderVisibleMs = Number.NaN;
    let confirmVisibleMs = Number.NaN;
    let stale = 0;
    let reads = 0;
    while (Number.isNaN(confirmVisibleMs)) {
      const want = expected; // what the leader has acknowledged when this read starts
      const reply = await cluster.readFollower("o-1");
      const got: string = reply.status === 404 ? "missing" : reply.body.order.status;
      reads++;
      if (got !== want) stale++;
      if (got !== "missing" && Number.isNaN(orderVisibleMs)) orderVisibleMs = performance.now() - createdAt;
      if (got === "CONFIRMED") confirmVisibleMs = performance.now() - confirmedAt;
      await sleep(READ_EVERY_MS);
    }
    await confirming;
    return { lag, orderVisibleMs, confirmVisibleMs, stale, reads };
  } finally {
    await cluster.close();
  }
}

const ms = (n: number) => `${Math.round(n)} ms`;
const how = longPollMs > 0 ? `long-polling (LONG_POLL_MS=${longPollMs})` : "polling every 300 ms (LONG_POLL_MS=0)";
console.log(`Exercise A: the follower reads the leader's log by ${how}.`);
console.log(`A reader polls the follower every ${READ_EVERY_MS} ms; the order is created at 0 and confirmed ${CONFIRM_AFTER_MS} ms later.`);
console.log(`"visible after" is measured from the leader's acknowledgement of each write.\n`);
const header = ["APPLY_LAG_MS", "order visible after", "confirm visible after", "stale reads"];
console.log(header.join(" | "));
console.log(header.map((h) => "-".repeat(h.length)).join("-|-"));
for (const lag of lags) {
  const row = await runOnce(lag);
  const cells = [String(row.lag), ms(row.orderVisibleMs), ms(row.confirmVisibleMs), `${row.stale} of ${row.reads}`];
  console.log(cells.map((c, i) => c.padStart(header[i]!.length)).join(" | "));
}
console.log(`
Lag adds up: the confirm waits for the create to be applied first, then for its own lag.
Try it by hand: APPLY_LAG_MS=3000 pnpm dev, then the curl steps in the README.`);
