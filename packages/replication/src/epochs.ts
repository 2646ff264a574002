/** A numbered leadership, the offset its first entry took in the log, and who led it. */
export interface EpochStart {
  epoch: number;
  start: number;
  /** The id of the node that began it (by promotion); absent for an epoch recorded without one. */
  leader?: string;
  /** Where that node took writes, so that a node fenced by this epoch can say where writes go. */
  url?: string;
}

/**
 * A log's epoch history: the leaderships that wrote it, in order, each with the offset it began
 * at (PostgreSQL's timeline history file, Kafka's leader-epoch cache). Two logs that agree on
 * their history up to an offset hold the same entries up to it; where they disagree, one of them
 * has a suffix the other never had: the writes of a leader that was replaced.
 */
export type EpochHistory = readonly EpochStart[];

/** The epoch the latest entries belong to; 0 for a log that never recorded one. */
export function latestEpoch(history: EpochHistory): number {
  return history.at(-1)?.epoch ?? 0;
}

/** The epoch the entry at `offset` belongs to: the last one that began at or before it (0 if none did). */
export function epochAt(history: EpochHistory, offset: number): number {
  let epoch = 0;
  for (const e of history) if (e.start <= offset) epoch = e.epoch;
  return epoch;
}

/**
 * One past the last offset this history holds for `epoch`: where the next epoch after it began,
 * or `head` if none has. A follower whose last epoch is `epoch` and whose log goes past this
 * point holds entries this log never had there (Kafka's OffsetsForLeaderEpoch answer).
 */
export function endOfEpoch(history: EpochHistory, epoch: number, head: number): number {
  const next = history.find((e) => e.epoch > epoch);
  return next ? Math.min(next.start, head) : head;
}

/** The history as it stands once every entry from `offset` on is dropped: no epoch begins at or after it. */
export function truncateHistory(history: EpochHistory, offset: number): EpochHistory {
  return history.filter((e) => e.start < offset);
}

/** Checks a history read from a file or a peer: epochs and starts strictly increasing whole numbers. */
export function checkHistory(value: unknown): { ok: true; history: EpochHistory } | { ok: false; message: string } {
  if (!Array.isArray(value)) return { ok: false, message: "an epoch history must be a list of {epoch, start}" };
  let previous: EpochStart | undefined;
  for (const e of value as EpochStart[]) {
    const whole = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
    if (typeof e !== "object" || e === null || !whole(e.epoch) || !whole(e.start)) return { ok: false, message: `not an {epoch, start}: ${JSON.stringify(e)}` };
    const text = (s: unknown) => s === undefined || (typeof s === "string" && s.length > 0 && s.length <= 200);
    if (!text(e.leader) || !text(e.url)) return { ok: false, message: `an epoch's leader and url must be short strings: ${JSON.stringify(e)}` };
    if (previous && (e.epoch <= previous.epoch || e.start < previous.start)) return { ok: false, message: `epochs must grow, and begin in offset order: ${JSON.stringify(previous)} then ${JSON.stringify(e)}` };
    previous = e;
  }
  return { ok: true, history: value as EpochHistory };
}
