import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openFileLog } from "./file-log.ts";
import type { LogEntry, ReplicationLog } from "./log.ts";

type Ev = { n: number };

let dir: string;
let file: string;
/** Every log a test opened and has not closed yet; afterEach closes them before removing the directory. */
let opened: ReplicationLog<Ev>[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lab-"));
  file = join(dir, "leader", "log.jsonl");
  opened = [];
});

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.allSettled(opened.map((log) => log.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** Opens the test's log file, recording what it replays and what it reports. */
async function openLog(options: { retain?: number; keepFrom?: () => number } = {}) {
  const replayed: LogEntry<Ev>[] = [];
  const lines: string[] = [];
  const log = await openFileLog<Ev>({ file, ...options, replay: (entry) => replayed.push(entry), logLine: (line) => lines.push(line) });
  opened.push(log);
  return { log, replayed, lines };
}

/** Closes a log the test is done with (and forgets it, so afterEach does not close it twice). */
async function closeLog(log: ReplicationLog<Ev>): Promise<void> {
  opened = opened.filter((l) => l !== log);
  await log.close();
}

/** Appends `{n}` for each n and waits until the last one is durable. */
async function appendDurably(log: ReplicationLog<Ev>, ...ns: number[]): Promise<LogEntry<Ev>[]> {
  const entries = ns.map((n) => log.append({ n }));
  await log.whenDurable(entries[entries.length - 1]!.offset);
  return entries;
}

/** The file's lines (without the final empty string), parsed. */
function fileLines(): unknown[] {
  const text = readFileSync(file, "utf8");
  expect(text.endsWith("\n"), `the file must end with a whole line: ${JSON.stringify(text.slice(-40))}`).toBe(true);
  return text.slice(0, -1).split("\n").map((line) => JSON.parse(line) as unknown);
}

const entriesFor = (from: number, ns: number[]) => ns.map((n, i) => ({ offset: from + i, n }));

describe("file log -> a new file", () => {
  it("is created (with its directory) holding one header line that names a new 16-hex-digit logId", async () => {
    const { log, replayed, lines } = await openLog();
    expect(log.logId).toMatch(/^[0-9a-f]{16}$/);
    expect(fileLines()).toEqual([{ log: "replication-lab", version: 2, logId: log.logId, start: 0 }]);
    expect({ start: log.start, head: log.head }).toEqual({ start: 0, head: 0 });
    expect(replayed, "a new log has nothing to replay").toEqual([]);
    expect(lines.filter((l) => /recovered/.test(l)), "a new log recovered nothing").toEqual([]);
  });

  it("gets a different logId from another new file", async () => {
    const { log: a } = await openLog();
    file = join(dir, "other.jsonl");
    const { log: b } = await openLog();
    expect(a.logId, "two new files are two histories").not.toBe(b.logId);
  });
});

describe("file log -> an append", () => {
  it("is not readable and not in head until whenDurable resolves, then is readable and on disk", async () => {
    const { log } = await openLog();
    const entry = log.append({ n: 42 });
    expect(entry).toEqual({ offset: 0, n: 42 });
    // Synchronously after append: nothing has reached the disk yet.
    expect(log.head, "head must not count an append that is not yet durable").toBe(0);
    expect(log.readFrom(0, 10), "readFrom must not serve an append that is not yet durable").toEqual({ ok: true, entries: [], nextFrom: 0 });
    expect(log.readFrom(1, 10), "offset 1 is past the durable head").toMatchObject({ ok: false, code: "OFFSET_OUT_OF_RANGE", head: 0 });

    await log.whenDurable(0);
    expect(log.head).toBe(1);
    expect(log.readFrom(0, 10)).toEqual({ ok: true, entries: [{ offset: 0, n: 42 }], nextFrom: 1 });
    expect(fileLines().slice(1), "the entry is on disk once durable").toEqual([{ offset: 0, n: 42 }]);
  });

  it("whenDurable of an offset already durable resolves at once", async () => {
    const { log } = await openLog();
    await appendDurably(log, 1, 2);
    let resolved = false;
    void log.whenDurable(0).then(() => (resolved = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(resolved, "an already-durable offset must not wait for another write").toBe(true);
  });
});

describe("file log -> reopening the same file", () => {
  it("keeps the logId and offsets and replays every entry in offset order", async () => {
    const first = await openLog();
    await appendDurably(first.log, 10, 11, 12, 13, 14);
    await closeLog(first.log);

    const { log, replayed, lines } = await openLog();
    expect(log.logId, "the same file is the same history").toBe(first.log.logId);
    expect(replayed, "replay must see every entry, in offset order").toEqual(entriesFor(0, [10, 11, 12, 13, 14]));
    expect({ start: log.start, head: log.head }).toEqual({ start: 0, head: 5 });
    expect(log.readFrom(0, 100)).toEqual({ ok: true, entries: entriesFor(0, [10, 11, 12, 13, 14]), nextFrom: 5 });
    expect(lines.some((l) => /recovered .*5 events/.test(l)), `a line reporting the recovery, got ${JSON.stringify(lines)}`).toBe(true);
  });

  it("continues the offsets for appends after the reopen", async () => {
    const first = await openLog();
    await appendDurably(first.log, 0, 1, 2);
    await closeLog(first.log);

    const second = await openLog();
    const [entry] = await appendDurably(second.log, 3);
    expect(entry, "the first append after a reopen").toEqual({ offset: 3, n: 3 });
    expect(second.log.head).toBe(4);
    await closeLog(second.log);

    const { replayed } = await openLog();
    expect(replayed).toEqual(entriesFor(0, [0, 1, 2, 3]));
  });
});

describe("file log -> many appends in one tick (group commit)", () => {
  it("writes them all with one sync, and all of them survive a reopen", async () => {
    const { log } = await openLog();
    // Spy on FileHandle.prototype.datasync, which the log calls once per write.
    const probe = await open(join(dir, "probe"), "w");
    const fileHandlePrototype = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    const datasync = vi.spyOn(fileHandlePrototype, "datasync");

    const ns = Array.from({ length: 200 }, (_, i) => i * 3);
    const entries = ns.map((n) => log.append({ n }));
    expect(entries.map((e) => e.offset)).toEqual(ns.map((_, i) => i));
    await Promise.all(entries.map((e) => log.whenDurable(e.offset)));
    expect(log.head).toBe(200);
    expect(datasync, "200 appends in one tick must share one write and one sync").toHaveBeenCalledTimes(1);
    await closeLog(log);

    const { replayed } = await openLog();
    expect(replayed).toEqual(entriesFor(0, ns));
  });

  it("writes appends made while a write is in flight in the next write", async () => {
    const { log } = await openLog();
    log.append({ n: 0 });
    // Let the first write start before appending more.
    await Promise.resolve();
    await Promise.resolve();
    const later = [1, 2, 3].map((n) => log.append({ n }));
    await log.whenDurable(later[2]!.offset);
    expect(log.readFrom(0, 10)).toEqual({ ok: true, entries: entriesFor(0, [0, 1, 2, 3]), nextFrom: 4 });
    await closeLog(log);

    const { replayed } = await openLog();
    expect(replayed).toEqual(entriesFor(0, [0, 1, 2, 3]));
  });
});

describe("file log -> a last line cut short by a crash", () => {
  async function writeThenCut(bytes: number): Promise<{ logId: string; wholeBytes: number }> {
    const { log } = await openLog();
    await appendDurably(log, 100, 101, 102);
    await closeLog(log);
    const text = readFileSync(file, "utf8");
    const lastLine = text.slice(text.lastIndexOf("\n", text.length - 2) + 1);
    expect(bytes, "the cut must leave part of the last line").toBeLessThan(lastLine.length - 1);
    truncateSync(file, statSync(file).size - bytes);
    return { logId: log.logId, wholeBytes: statSync(file).size - (lastLine.length - bytes) };
  }

  it("opens, drops the partial record and reports it", async () => {
    const before = await writeThenCut(5);
    const { log, replayed, lines } = await openLog();
    expect(log.logId).toBe(before.logId);
    expect(replayed, "only the whole records are replayed").toEqual(entriesFor(0, [100, 101]));
    expect({ start: log.start, head: log.head }).toEqual({ start: 0, head: 2 });
    expect(lines.some((l) => /partial/.test(l)), `a log line about the partial record, got ${JSON.stringify(lines)}`).toBe(true);
  });

  it("repairs the file back to the last newline", async () => {
    const before = await writeThenCut(5);
    await openLog();
    expect(statSync(file).size, "the partial bytes must be truncated away").toBe(before.wholeBytes);
    expect(fileLines()).toEqual([{ log: "replication-lab", version: 2, logId: before.logId, start: 0 }, ...entriesFor(0, [100, 101])]);
  });

  it("gives the next append the dropped record's offset, and the file reopens cleanly", async () => {
    await writeThenCut(8);
    const { log } = await openLog();
    const [entry] = await appendDurably(log, 999);
    expect(entry).toEqual({ offset: 2, n: 999 });
    await closeLog(log);

    const { replayed, lines } = await openLog();
    expect(replayed, "the new record must not be glued to the remains of the partial one").toEqual(entriesFor(0, [100, 101, 999]));
    expect(lines.filter((l) => /partial/.test(l)), "nothing partial is left after the repair").toEqual([]);
  });
});

describe("file log -> a file with only part of its header", () => {
  it("starts a new log with a new identity and a whole header", async () => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, '{"log":"replication-lab","version":1,"logId":"01234'); // the crash hit while the header was written
    const { log, replayed, lines } = await openLog();
    expect(log.logId).toMatch(/^[0-9a-f]{16}$/);
    expect(replayed).toEqual([]);
    expect({ start: log.start, head: log.head }).toEqual({ start: 0, head: 0 });
    expect(fileLines(), "the file now holds a whole header for the new log").toEqual([{ log: "replication-lab", version: 2, logId: log.logId, start: 0 }]);
    expect(lines.some((l) => /no complete header/.test(l)), `a log line saying a new log was started, got ${JSON.stringify(lines)}`).toBe(true);

    const [entry] = await appendDurably(log, 7);
    expect(entry).toEqual({ offset: 0, n: 7 });
    await closeLog(log);
    const reopened = await openLog();
    expect(reopened.log.logId).toBe(log.logId);
    expect(reopened.replayed).toEqual([{ offset: 0, n: 7 }]);
  });
});

describe("file log -> a corrupt file", () => {
  /** Writes a header and the given lines, as if a log had written them. */
  function writeLog(...lines: string[]): void {
    writeFileSync(file, [JSON.stringify({ log: "replication-lab", version: 1, logId: "0123456789abcdef" }), ...lines].map((l) => `${l}\n`).join(""));
  }

  beforeEach(() => {
    mkdirSync(dirname(file), { recursive: true });
  });

  it("with a line in the middle that is not JSON is refused with a message naming the line", async () => {
    writeLog('{"offset":0,"n":0}', '{"offset":1,"n":', '{"offset":2,"n":2}');
    const text = readFileSync(file, "utf8");
    await expect(openLog()).rejects.toThrow(/line 3 is not valid JSON.*corrupt/);
    expect(readFileSync(file, "utf8"), "a refused file must be left as it was").toBe(text);
  });

  it("with a non-consecutive offset is refused with a message naming the line and the offsets", async () => {
    writeLog('{"offset":0,"n":0}', '{"offset":1,"n":1}', '{"offset":3,"n":3}');
    await expect(openLog()).rejects.toThrow(/line 4: offset 3, want 2/);
  });

  it("with a repeated offset is refused", async () => {
    writeLog('{"offset":0,"n":0}', '{"offset":0,"n":1}');
    await expect(openLog()).rejects.toThrow(/line 3: offset 0, want 1/);
  });

  it.each([
    ["an event", '{"offset":0,"n":0}'],
    ["another program's header", '{"log":"some-other-tool","version":1,"logId":"0123456789abcdef"}'],
  ])("whose first line is %s, not a log header, is refused", async (_what, line) => {
    writeFileSync(file, `${line}\n`);
    await expect(openLog()).rejects.toThrow(/not a replication-lab log/);
  });
});

describe("file log -> retain", () => {
  it("keeps memory bounded (start moves) while a reopen still replays every entry from the file", async () => {
    const ns = Array.from({ length: 10 }, (_, i) => i);
    const first = await openLog({ retain: 3 });
    await appendDurably(first.log, ...ns);
    expect({ start: first.log.start, head: first.log.head }).toEqual({ start: 7, head: 10 });
    expect(first.log.readFrom(7, 10)).toEqual({ ok: true, entries: entriesFor(7, [7, 8, 9]), nextFrom: 10 });
    expect(first.log.readFrom(6, 10)).toEqual({ ok: false, code: "OFFSET_OUT_OF_RANGE", start: 7, head: 10 });
    await closeLog(first.log);

    const { log, replayed } = await openLog({ retain: 3 });
    expect(replayed, "the file keeps every entry, so replay rebuilds the whole state").toEqual(entriesFor(0, ns));
    expect({ start: log.start, head: log.head }, "memory holds only the last 3").toEqual({ start: 7, head: 10 });
    expect(log.readFrom(6, 10)).toMatchObject({ ok: false, code: "OFFSET_OUT_OF_RANGE", start: 7 });
    expect(log.readFrom(7, 10)).toEqual({ ok: true, entries: entriesFor(7, [7, 8, 9]), nextFrom: 10 });
  });

  it("lets go only of entries that are on disk: a burst of appends larger than retain is still served in full", async () => {
    const { log } = await openLog({ retain: 2 });
    log.append({ n: 0 });
    log.append({ n: 1 });
    log.append({ n: 2 });
    expect({ start: log.start, head: log.head }, "before the burst is durable").toEqual({ start: 0, head: 0 });
    expect(log.readFrom(0, 10), "a caught-up follower's read").toEqual({ ok: true, entries: [], nextFrom: 0 });
    await log.whenDurable(2);
    expect({ start: log.start, head: log.head }, "once durable, retention applies").toEqual({ start: 1, head: 3 });
  });
});

describe("file log -> close()", () => {
  it("waits for pending writes before closing the file", async () => {
    const { log } = await openLog();
    const ns = Array.from({ length: 50 }, (_, i) => i);
    for (const n of ns) log.append({ n });
    await closeLog(log); // no whenDurable: close alone must get them to disk
    expect(fileLines().slice(1), "every append made before close() is in the file").toEqual(entriesFor(0, ns));

    const { replayed } = await openLog();
    expect(replayed).toEqual(entriesFor(0, ns));
  });
});

describe("file log -> a version 1 file (written before logs could start past 0)", () => {
  it("opens with offsets from 0", async () => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, [JSON.stringify({ log: "replication-lab", version: 1, logId: "0123456789abcdef" }), '{"offset":0,"n":5}'].map((l) => `${l}\n`).join(""));
    const { log, replayed } = await openLog();
    expect({ logId: log.logId, start: log.start, head: log.head }).toEqual({ logId: "0123456789abcdef", start: 0, head: 1 });
    expect(replayed).toEqual(entriesFor(0, [5]));
  });
});

describe("file log -> reset (a follower resyncing from a snapshot)", () => {
  it("replaces the file with an empty log of another identity starting at the given offset", async () => {
    const { log } = await openLog();
    await appendDurably(log, 1, 2, 3);
    const heads: number[] = [];
    log.subscribe((head) => heads.push(head));
    await log.reset({ logId: "00000000000000aa", start: 40 });
    expect({ logId: log.logId, start: log.start, head: log.head }).toEqual({ logId: "00000000000000aa", start: 40, head: 40 });
    expect(heads, "subscribers hear of the new head").toEqual([40]);
    expect(log.readFrom(0, 10)).toEqual({ ok: false, code: "OFFSET_OUT_OF_RANGE", start: 40, head: 40 });
    expect(fileLines()).toEqual([{ log: "replication-lab", version: 2, logId: "00000000000000aa", start: 40 }]);
  });

  it("continues at the new offsets, and a reopen keeps them", async () => {
    const { log } = await openLog();
    await appendDurably(log, 1, 2);
    await log.reset({ logId: "00000000000000aa", start: 40 });
    expect(await appendDurably(log, 7, 8)).toEqual(entriesFor(40, [7, 8]));
    await closeLog(log);
    const again = await openLog();
    expect({ logId: again.log.logId, start: again.log.start, head: again.log.head }).toEqual({ logId: "00000000000000aa", start: 40, head: 42 });
    expect(again.replayed).toEqual(entriesFor(40, [7, 8]));
    expect(again.lines).toEqual([`recovered log 00000000000000aa from ${file}: 2 events`]);
  });

  it("waits for a write in flight, so nothing of the old history lands in the new file", async () => {
    const { log } = await openLog();
    for (let n = 0; n < 20; n++) log.append({ n });
    await log.reset({ logId: "00000000000000bb", start: 5 });
    expect(fileLines()).toEqual([{ log: "replication-lab", version: 2, logId: "00000000000000bb", start: 5 }]);
  });
});

describe("file log -> keepFrom", () => {
  it("never lets retention discard from keepFrom() on, at append time or when reopened", async () => {
    let keepFrom = 2;
    const first = await openLog({ retain: 2, keepFrom: () => keepFrom });
    await appendDurably(first.log, 0, 1, 2, 3, 4, 5);
    expect(first.log.start, "entries from 2 on are still needed").toBe(2);
    keepFrom = 6;
    await appendDurably(first.log, 6);
    expect(first.log.start, "once they are not, retain applies").toBe(5);
    await closeLog(first.log);
    keepFrom = 1;
    const { log } = await openLog({ retain: 2, keepFrom: () => keepFrom });
    expect({ start: log.start, head: log.head }).toEqual({ start: 1, head: 7 });
  });
});

describe("file log -> epochs and truncation", () => {
  it("keeps its epoch history across a reopen, and a truncation cuts the file and the history", async () => {
    const first = await openLog();
    await first.log.beginEpoch(1);
    await appendDurably(first.log, 0, 1, 2);
    await first.log.beginEpoch(2);
    await appendDurably(first.log, 3, 4);
    expect(await first.log.truncate(3)).toEqual(entriesFor(3, [3, 4]));
    await appendDurably(first.log, 30);
    await closeLog(first.log);
    expect(fileLines().slice(1)).toEqual(entriesFor(0, [0, 1, 2, 30]));
    const { log, replayed } = await openLog();
    expect(replayed).toEqual(entriesFor(0, [0, 1, 2, 30]));
    expect(log.epochs).toEqual([{ epoch: 1, start: 0 }]);
  });

  it("refuses to open beside an epoch history that is not one", async () => {
    const first = await openLog();
    await closeLog(first.log);
    writeFileSync(`${file}.epochs`, '[{"epoch":2,"start":0},{"epoch":1,"start":1}]');
    await expect(openLog()).rejects.toThrow(/epochs must grow/);
  });
});
