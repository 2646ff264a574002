import type { Anomaly, Operation, Verdict } from "./history.ts";

/**
 * Names every anomaly in a history of reads and writes on keys replicated through one log.
 *
 * A read's version of a key is the latest acknowledged write to that key at or before the
 * offset the read reflected, in the same log and, after a failover, of the leadership that wrote
 * that offset in the read's history (the nodes apply a log in offset order), or "none" for a read
 * that found nothing. Only what was promised counts: a write is required of a read only if it was
 * acknowledged before the read started. Operations that overlap in time may be seen in either
 * order, and writes that failed or timed out are never required (but may be seen).
 *
 * - stale read: a read older than the latest write to its key acknowledged before it started
 *   (for a read that asked for bounded staleness, more than its `maxStalenessMs` before);
 * - read-your-writes: such a read whose missing write was its own client's;
 * - monotonic reads: a read older than one its client had already completed on the same key;
 * - lost write: an acknowledged write missing from a read that had to show it: one served by a
 *   leader after the write was acknowledged, or a final read after everything settled. A leader
 *   of an older epoch than the write's (replaced, and still answering: split brain) only serves
 *   stale reads of it.
 *
 * Writes of two leaderships at the same offset (the old leader's unshipped suffix, the new
 * leader's first writes) are told apart by `epoch`: a read holds the write of the epoch its own
 * epoch history gives that offset, never the other.
 *
 * Each anomaly comes with the two operations that show it: the write (or earlier read) and the
 * read that missed it.
 */
export function checkHistory(history: readonly Operation[]): Verdict {
  const verdict: Verdict = { staleReads: [], readYourWrites: [], monotonicReads: [], lostWrites: [] };
  // Versions are positions in this list: the acknowledged writes in log order (logs in the order they appear).
  const logOrder = [...new Set(history.map((op) => op.logId))];
  const writes = history
    .filter((op) => op.kind === "write" && op.ok && op.offset !== undefined)
    .sort((a, b) => logOrder.indexOf(a.logId) - logOrder.indexOf(b.logId) || a.offset! - b.offset! || (a.epoch ?? 0) - (b.epoch ?? 0));
  const reads = history.filter((op) => op.kind === "read" && op.ok).sort((a, b) => a.start - b.start || a.end - b.end);
  const versionOfWrite = new Map(writes.map((w, i) => [w, i]));
  const writesTo = new Map<string, Operation[]>();
  for (const w of writes) writesTo.set(w.key, [...(writesTo.get(w.key) ?? []), w]);

  /** The version a read shows for its key (the position of the latest write it reflects), -1 for none. */
  const versionOf = (read: Operation): number => {
    const onKey = writesTo.get(read.key) ?? [];
    if (read.offset !== undefined) {
      const seen = onKey.filter((w) => w.logId === read.logId && w.offset! <= read.offset! && ofEpochHere(w, read)).at(-1);
      return seen ? versionOfWrite.get(seen)! : -1;
    }
    if (read.value === null || read.value === undefined) return -1;
    const seen = onKey.findLast((w) => w.value === read.value); // no offset recorded: go by the value
    return seen ? versionOfWrite.get(seen)! : -1;
  };
  // Epochs are named only where there are several: there, an offset alone does not say which write.
  const namesEpochs = severalEpochs(writes);
  const at = (w: Operation) => `offset ${w.offset}${namesEpochs ? `, epoch ${w.epoch ?? 0}` : ""}`;
  const describe = (version: number, key: string) => (version < 0 ? `${key} not found` : `${key} ${writes[version]!.value} (${at(writes[version]!)})`);

  const readsBy = new Map<string, Operation[]>(); // by client and key, for monotonic reads
  for (const read of reads) readsBy.set(`${read.client}\u0000${read.key}`, [...(readsBy.get(`${read.client}\u0000${read.key}`) ?? []), read]);

  for (const read of reads) {
    const version = versionOf(read);
    const promisedUpTo = read.start - (read.maxStalenessMs ?? 0);
    const required = (writesTo.get(read.key) ?? []).filter((w) => w.end < promisedUpTo);
    const latest = required.at(-1);

    if (latest && version < versionOfWrite.get(latest)!) {
      const saw = describe(version, read.key);
      const wanted = describe(versionOfWrite.get(latest)!, read.key);
      const ops = [latest, read];
      if (read.final || (read.role === "leader" && !replacedBefore(read, latest))) {
        verdict.lostWrites.push({
          kind: "lost-write",
          message: `${read.final ? "a final read" : `a read from the leader ${read.node}`} by ${read.client} saw ${saw}, but ${latest.client}'s write of ${wanted} was acknowledged before it started: the write is lost`,
          operations: ops,
        });
      } else {
        const when = read.maxStalenessMs === undefined ? "before the read started" : `more than ${read.maxStalenessMs} ms before the read started (its maxStalenessMs)`;
        verdict.staleReads.push({ kind: "stale-read", message: `${read.client} read ${saw} from ${read.node}, but ${wanted} was acknowledged ${when}`, operations: ops });
      }
      const own = required.filter((w) => w.client === read.client).at(-1);
      if (own && version < versionOfWrite.get(own)!) {
        verdict.readYourWrites.push({
          kind: "read-your-writes",
          message: `${read.client} read ${saw} from ${read.node} after its own write of ${describe(versionOfWrite.get(own)!, read.key)} was acknowledged`,
          operations: [own, read],
        });
      }
    }

    // Monotonic reads: against the newest version this client had already seen, in a read that had ended.
    let newest: { read: Operation; version: number } | undefined;
    for (const earlier of readsBy.get(`${read.client}\u0000${read.key}`)!) {
      if (earlier.end >= read.start) continue;
      const v = versionOf(earlier);
      if (!newest || v > newest.version) newest = { read: earlier, version: v };
    }
    if (newest && version < newest.version) {
      verdict.monotonicReads.push({
        kind: "monotonic-reads",
        message: `${read.client} read ${describe(version, read.key)} from ${read.node} after it had read ${describe(newest.version, read.key)} from ${newest.read.node}: back in time`,
        operations: [newest.read, read],
      });
    }
  }
  return verdict;
}

/** Whether the acknowledged writes of `history` (those with an offset) come from more than one leadership. */
export function severalEpochs(history: readonly Operation[]): boolean {
  return new Set(history.filter((op) => op.kind === "write" && op.ok && op.offset !== undefined).map((op) => op.epoch ?? 0)).size > 1;
}

/** The epoch of `offset` in an epoch history: the last leadership that began at or before it (0 if none did). */
function epochAt(epochs: NonNullable<Operation["epochs"]>, offset: number): number {
  let epoch = 0;
  for (const e of epochs) if (e.start <= offset) epoch = e.epoch;
  return epoch;
}

/** Whether write `w`'s offset is of `w`'s epoch in the history `read` was served from (true when either does not say). */
function ofEpochHere(w: Operation, read: Operation): boolean {
  return w.epoch === undefined || read.epochs === undefined || epochAt(read.epochs, w.offset!) === w.epoch;
}

/** Whether `read` came from a node whose newest epoch is older than `w`'s: a leader that had been replaced when it answered. */
function replacedBefore(read: Operation, w: Operation): boolean {
  return w.epoch !== undefined && read.epochs !== undefined && (read.epochs.at(-1)?.epoch ?? 0) < w.epoch;
}

/** Every anomaly a verdict holds, of every kind, in the order the verdict lists the kinds. */
export function allAnomalies(verdict: Verdict): Anomaly[] {
  return [...verdict.staleReads, ...verdict.readYourWrites, ...verdict.monotonicReads, ...verdict.lostWrites];
}

/** How many anomalies a verdict holds, in all. */
export function countAnomalies(verdict: Verdict): number {
  return allAnomalies(verdict).length;
}
