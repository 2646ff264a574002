import { beforeEach, describe, expect, it } from "vitest";
import { createMemoryLog, type ReplicationLog } from "./log.ts";

describe("memory log", () => {
  it("numbers entries with consecutive offsets from 0", () => {
    const log = createMemoryLog<{ n: number }>();
    expect(log.head).toBe(0);
    expect(log.append({ n: 10 })).toEqual({ offset: 0, n: 10 });
    expect(log.append({ n: 11 })).toEqual({ offset: 1, n: 11 });
    expect(log.head).toBe(2);
  });

  it("reads from an inclusive offset, at most limit entries, and says where to read next", () => {
    const log = createMemoryLog<{ n: number }>();
    for (let n = 0; n < 5; n++) log.append({ n });
    expect(log.readFrom(1, 2)).toEqual({ ok: true, entries: [{ offset: 1, n: 1 }, { offset: 2, n: 2 }], nextFrom: 3 });
    expect(log.readFrom(3, 100)).toMatchObject({ ok: true, nextFrom: 5 });
  });

  it("answers an empty read at the head: nothing new yet", () => {
    const log = createMemoryLog<{ n: number }>();
    log.append({ n: 0 });
    expect(log.readFrom(1, 10)).toEqual({ ok: true, entries: [], nextFrom: 1 });
  });

  it("refuses an offset past the head instead of answering a silent empty list", () => {
    const log = createMemoryLog<{ n: number }>();
    log.append({ n: 0 });
    expect(log.readFrom(2, 10)).toEqual({ ok: false, code: "OFFSET_OUT_OF_RANGE", start: 0, head: 1 });
  });
});

/** The entries a log that was given `{ n: offset * 7 }` at every offset must return for a read. */
function expectedWindow(from: number, limit: number, head: number) {
  const entries = [];
  for (let offset = from; offset < Math.min(from + limit, head); offset++) entries.push({ offset, n: offset * 7 });
  return { ok: true, entries, nextFrom: from + entries.length };
}

describe("memory log -> retain: 3, after 10 appends", () => {
  let log: ReplicationLog<{ n: number }>;
  beforeEach(() => {
    log = createMemoryLog<{ n: number }>({ retain: 3 });
    for (let i = 0; i < 10; i++) log.append({ n: i * 7 });
  });

  it("holds offsets 7 to 9: start 7, head 10", () => {
    expect({ start: log.start, head: log.head }).toEqual({ start: 7, head: 10 });
  });

  it("reads the kept entries 7, 8, 9 from start", () => {
    expect(log.readFrom(7, 10)).toEqual(expectedWindow(7, 10, 10));
    expect(log.readFrom(8, 1), "a window inside the kept entries").toEqual(expectedWindow(8, 1, 10));
    expect(log.readFrom(10, 10), "from === head is still 'nothing new yet'").toEqual({ ok: true, entries: [], nextFrom: 10 });
  });

  it("refuses an offset that retention discarded, saying what it holds now", () => {
    expect(log.readFrom(6, 10)).toEqual({ ok: false, code: "OFFSET_OUT_OF_RANGE", start: 7, head: 10 });
    expect(log.readFrom(0, 10)).toEqual({ ok: false, code: "OFFSET_OUT_OF_RANGE", start: 7, head: 10 });
  });
});

describe("memory log -> retain: 1000 over 100,000 appends", () => {
  it("keeps the last 1000 entries at their own offsets through every internal compaction", () => {
    const retain = 1000;
    const log = createMemoryLog<{ n: number }>({ retain });
    const checked: number[] = [];
    // Counts on both sides of the points where the dropped prefix is cut off (every 1000 appends
    // from 2000 on), with the dropped prefix empty, half full and nearly full, plus the end.
    const checkpoints = new Set([1, 999, 1000, 1001, 1500, 1999, 2000, 2001, 2500, 2999, 3000, 3001, 50_000, 50_437, 99_999, 100_000]);
    for (let count = 1; count <= 100_000; count++) {
      log.append({ n: (count - 1) * 7 });
      if (!checkpoints.has(count)) continue;
      checked.push(count);
      const start = Math.max(0, count - retain);
      const at = `after ${count} appends`;
      expect({ start: log.start, head: log.head }, at).toEqual({ start, head: count });
      expect(log.readFrom(start, 5), `${at}: the oldest entries kept`).toEqual(expectedWindow(start, 5, count));
      const newest = Math.max(start, count - 3);
      expect(log.readFrom(newest, 10), `${at}: the newest entries`).toEqual(expectedWindow(newest, 10, count));
      const middle = start + Math.floor((count - start) / 2);
      expect(log.readFrom(middle, 7), `${at}: a window in the middle`).toEqual(expectedWindow(middle, 7, count));
      expect(log.readFrom(start, retain), `${at}: everything kept, in one read`).toEqual(expectedWindow(start, retain, count));
      if (start > 0) {
        expect(log.readFrom(start - 1, 10), `${at}: the newest discarded offset`).toEqual({ ok: false, code: "OFFSET_OUT_OF_RANGE", start, head: count });
      }
    }
    expect(checked).toHaveLength(checkpoints.size);
  });
});

describe("memory log -> identity", () => {
  it("gets a random 16-hex-digit logId, different for each log", () => {
    const a = createMemoryLog().logId;
    const b = createMemoryLog().logId;
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(b).toMatch(/^[0-9a-f]{16}$/);
    expect(a, "two new logs are two histories").not.toBe(b);
  });

  it("keeps the logId it is given", () => {
    expect(createMemoryLog({ logId: "abc" }).logId).toBe("abc");
  });
});

describe("memory log -> start option", () => {
  it("continues numbering from the given offset and refuses anything before it", () => {
    const log = createMemoryLog<{ n: number }>({ start: 50 });
    expect({ start: log.start, head: log.head }, "an empty log continuing at 50").toEqual({ start: 50, head: 50 });
    expect(log.append({ n: 1 })).toEqual({ offset: 50, n: 1 });
    expect(log.append({ n: 2 })).toEqual({ offset: 51, n: 2 });
    expect(log.readFrom(50, 10)).toEqual({ ok: true, entries: [{ offset: 50, n: 1 }, { offset: 51, n: 2 }], nextFrom: 52 });
    expect(log.readFrom(49, 10)).toEqual({ ok: false, code: "OFFSET_OUT_OF_RANGE", start: 50, head: 52 });
  });

  it("applies retention from the given offset", () => {
    const log = createMemoryLog<{ n: number }>({ start: 50, retain: 2 });
    for (let n = 0; n < 5; n++) log.append({ n });
    expect({ start: log.start, head: log.head }).toEqual({ start: 53, head: 55 });
    expect(log.readFrom(53, 10)).toEqual({ ok: true, entries: [{ offset: 53, n: 3 }, { offset: 54, n: 4 }], nextFrom: 55 });
  });
});

describe("memory log -> an invalid retain", () => {
  it.each([0, -1, 1.5, Number.NaN])("refuses retain: %s with a RangeError naming it", (retain) => {
    expect(() => createMemoryLog({ retain })).toThrow(RangeError);
    expect(() => createMemoryLog({ retain })).toThrow(/retain must be a whole number of at least 1/);
  });

  it("accepts retain: 1, keeping only the newest entry", () => {
    const log = createMemoryLog<{ n: number }>({ retain: 1 });
    log.append({ n: 0 });
    log.append({ n: 1 });
    expect(log.readFrom(1, 10)).toEqual({ ok: true, entries: [{ offset: 1, n: 1 }], nextFrom: 2 });
    expect(log.start).toBe(1);
  });
});

describe("memory log -> reset", () => {
  it("starts another history: new identity, empty, numbering from the given offset, and tells subscribers", async () => {
    const log = createMemoryLog<{ n: number }>({ logId: "aa" });
    log.append({ n: 1 });
    const heads: number[] = [];
    log.subscribe((head) => heads.push(head));
    await log.reset({ logId: "bb", start: 30 });
    expect({ logId: log.logId, start: log.start, head: log.head }).toEqual({ logId: "bb", start: 30, head: 30 });
    expect(heads).toEqual([30]);
    expect(log.append({ n: 2 })).toEqual({ offset: 30, n: 2 });
    expect(log.readFrom(0, 10)).toEqual({ ok: false, code: "OFFSET_OUT_OF_RANGE", start: 30, head: 31 });
  });
});

describe("memory log -> keepFrom", () => {
  it("retention stops at keepFrom(): a follower keeps what it has not applied yet", () => {
    let keepFrom = 1;
    const log = createMemoryLog<{ n: number }>({ retain: 2, keepFrom: () => keepFrom });
    for (let n = 0; n < 6; n++) log.append({ n });
    expect({ start: log.start, head: log.head }).toEqual({ start: 1, head: 6 });
    keepFrom = 10;
    log.append({ n: 6 });
    expect({ start: log.start, head: log.head }).toEqual({ start: 5, head: 7 });
  });
});

describe("memory log -> epochs and truncation", () => {
  it("records where each epoch began and drops a suffix, returning it", async () => {
    const log = createMemoryLog<{ n: number }>();
    await log.beginEpoch(1);
    for (let n = 0; n < 3; n++) log.append({ n });
    await log.beginEpoch(2);
    for (let n = 3; n < 5; n++) log.append({ n });
    expect(log.epochs).toEqual([
      { epoch: 1, start: 0 },
      { epoch: 2, start: 3 },
    ]);
    await expect(log.beginEpoch(2), "epochs only grow").rejects.toThrow(RangeError);
    expect(await log.truncate(3)).toEqual([
      { offset: 3, n: 3 },
      { offset: 4, n: 4 },
    ]);
    expect({ head: log.head, epochs: log.epochs }).toEqual({ head: 3, epochs: [{ epoch: 1, start: 0 }] });
    expect(log.append({ n: 9 }), "the next append takes the dropped offset").toEqual({ offset: 3, n: 9 });
  });
});
