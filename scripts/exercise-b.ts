import { createReadYourWritesClient } from "@lab/replication";
import { readFollowerConfig } from "../apps/worker/src/config.ts";
import { startCluster } from "./cluster.ts";

/**
 * Exercise B: read your own writes while reading from a lagging follower. Runs a leader and a
 * follower with APPLY_LAG_MS=1500 and shows, in order:
 *   1. the problem: write to the leader, read the follower, get a 404;
 *   2. the time window: for a while after its own write, a session reads from the leader;
 *   3. the offset token: the follower waits (bounded) until it has applied the session's write;
 *   4. the fallback: if it cannot within the timeout, it answers 504 and the session reads the leader.
 *
 *   pnpm exercise:b
 */
const LAG_MS = 1500;
const cluster = await startCluster({ applyLagMs: LAG_MS, pollIntervalMs: 300, longPollMs: readFollowerConfig({}).longPollMs });
const session = (stickyMs: number) =>
  createReadYourWritesClient({ leaderUrl: cluster.leader.url, followerUrl: cluster.follower.url, stickyMs });
const describeReply = (r: { servedBy: string; status: number; body: any }) =>
  `${r.servedBy} answered ${r.status}${r.body?.order ? ` ${r.body.order.status}` : r.body?.code ? ` ${r.body.code}` : ""}`;
const timed = async <T>(work: Promise<T>): Promise<[T, number]> => {
  const start = performance.now();
  const result = await work;
  return [result, Math.round(performance.now() - start)];
};

try {
  console.log(`Leader ${cluster.leader.url}, follower ${cluster.follower.url}, APPLY_LAG_MS=${LAG_MS}\n`);

  console.log("1. Write to the leader, then read the follower at once:");
  await cluster.createOrder("b-1");
  const stale = await cluster.readFollower("b-1");
  console.log(`   follower answered ${stale.status}: ${stale.body.error ?? stale.body.order?.status}  <- your own write, missing\n`);

  const WINDOW_MS = 5000;
  console.log(`2. A session that reads from the leader for ${WINDOW_MS} ms after its own write:`);
  const sticky = session(WINDOW_MS);
  await sticky.write("/orders", { id: "b-2" });
  console.log(`   right after the write: ${describeReply(await sticky.read("/orders/b-2"))}`);
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const later = await sticky.read("/orders/b-2");
  const verdict =
    later.status === 200
      ? "the follower had caught up: the window outlasted its lag, this time"
      : "stale: the follower lagged longer than the window; a time window is only a guess";
  console.log(`   ${WINDOW_MS / 1000} s later:             ${describeReply(later)}  (${verdict})\n`);

  console.log("3. A session that asks the follower to wait for its write's offset (?minOffset=):");
  const token = session(0);
  await token.write("/orders", { id: "b-3" });
  const [fresh, waited] = await timed(token.readWithMinOffset("/orders/b-3", { timeoutMs: 5000 }));
  console.log(`   offset ${token.lastWriteOffset}: ${describeReply(fresh)} after waiting ${waited} ms (the follower held the read until it had applied offset ${token.lastWriteOffset})\n`);

  console.log("4. The same with a timeout shorter than the lag:");
  await token.write("/orders/b-3/confirm", {});
  const direct = await cluster.readFollower("b-3", { minOffset: token.lastWriteOffset!, timeoutMs: 200 });
  console.log(`   follower alone: ${direct.status} ${direct.body.code}: ${direct.body.error}`);
  const [fallback, tookMs] = await timed(token.readWithMinOffset("/orders/b-3", { timeoutMs: 200 }));
  console.log(`   the session:    ${describeReply(fallback)} after ${tookMs} ms (the follower said 504, so it read the leader)`);
} finally {
  await cluster.close();
}
