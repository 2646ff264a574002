import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * Writes a leader log of `count` OrderCreated events into `dir`, in the format the leader keeps
 * with DATA_DIR, so the benchmark can start a leader that already holds a million events in
 * seconds instead of sending it a million requests.
 */
export function writeLeaderLog(dir: string, count: number): void {
  mkdirSync(dir, { recursive: true });
  const fd = openSync(join(dir, "leader-log.jsonl"), "w");
  try {
    writeSync(fd, `${JSON.stringify({ log: "replication-lab", version: 1, logId: "00000000000bea7c" })}\n`);
    const at = Date.now();
    let batch: string[] = [];
    for (let offset = 0; offset < count; offset++) {
      batch.push(JSON.stringify({ offset, type: "OrderCreated", orderId: `b-${offset}`, at: at + offset }));
      if (batch.length === 10_000 || offset === count - 1) {
        writeSync(fd, `${batch.join("\n")}\n`);
        batch = [];
      }
    }
  } finally {
    closeSync(fd);
  }
}
