import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, truncateSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { readJsonFile, writeFileAtomically } from "./atomic-file.ts";
import { checkHistory, latestEpoch, truncateHistory, type EpochHistory } from "./epochs.ts";
import { createHeadListeners, createMemoryLog, DEFAULT_RETAIN_EVENTS, epochRecord, newLogId, type LogEntry, type ReplicationLog } from "./log.ts";

export interface FileLogOptions<E> {
  /** The log file, created if missing. Its first line names the log's identity and first offset; then one event per line. */
  file: string;
  /** How many entries to keep in memory for followers (the file keeps them all). */
  retain?: number;
  /** Retention never discards this offset or any after it (see MemoryLogOptions.keepFrom). */
  keepFrom?: () => number;
  /** Called for each entry read back at start-up, in offset order, so the caller can rebuild its state from the log. */
  replay?(entry: LogEntry<E>): void;
  /** Where to report what recovery did, such as dropping a partial last record. */
  logLine?(line: string): void;
}

/** The file's first line. Version 1 files (written before logs could start past 0) start at 0. */
interface Header {
  log: "replication-lab";
  version: 1 | 2;
  logId: string;
  start?: number;
}

/**
 * A log that survives restarts: every event is appended to a file, one JSON line each, and is
 * acknowledged (and served to followers) only once it is on disk.
 *
 * Durability: appends are group-committed. Events appended while a write is in flight are
 * written together by the next one, each write followed by fdatasync, so an acknowledged event
 * survives a process crash, an OS crash and a power cut alike, and many concurrent writes share
 * one sync. What a crash can lose: events appended but not yet synced, which nobody was told
 * about (their writers had no reply; followers were never sent them).
 *
 * Recovery: a crash in the middle of a write leaves a partial last line. Opening the log finds it,
 * truncates the file back to the last whole record and reports it; the start goes on. Anything
 * else that does not parse (a bad line in the middle) is corruption, and opening refuses it.
 */
export async function openFileLog<E>({ file, retain, keepFrom, replay = () => {}, logLine = () => {} }: FileLogOptions<E>): Promise<ReplicationLog<E>> {
  mkdirSync(dirname(file), { recursive: true });
  // Retention must only let go of entries that are on disk (and so could have been served), so
  // the memory log keeps everything and this log trims it as entries become durable.
  const keep = retain ?? DEFAULT_RETAIN_EVENTS;
  const memoryLog = (logId: string, start: number) => createMemoryLog<E>({ logId, start, retain: Number.MAX_SAFE_INTEGER, ...(keepFrom ? { keepFrom } : {}) });
  let memory: ReturnType<typeof createMemoryLog<E>> | undefined;
  const header = readBack<E>(file, logLine, ({ logId, start }) => {
    memory = memoryLog(logId, start);
    return (entry) => {
      const { offset: _offset, ...event } = entry;
      memory!.append(event as E);
      memory!.discardBefore(memory!.head - keep);
      replay(entry);
    };
  });
  let kept = memory ?? memoryLog(header.logId, header.start ?? 0); // the entries kept in memory for followers (the file keeps them all)
  const epochsFile = `${file}.epochs`;
  let epochs: EpochHistory = readEpochs(epochsFile).filter((e) => e.start <= kept.head);
  const recovered = kept.head - (header.start ?? 0);
  if (recovered > 0) logLine(`recovered log ${header.logId} from ${file}: ${recovered} events`);

  let handle: FileHandle = await open(file, "a");
  let durableHead = kept.head;
  let unwritten: string[] = [];
  let unwrittenUpTo = durableHead; // one past the last appended offset
  let flushing: Promise<void> | undefined;
  let failure: Error | undefined;
  let waiters: { offset: number; resolve(): void; reject(e: Error): void }[] = [];
  const listeners = createHeadListeners(); // told when entries become durable, not when appended

  const settleWaiters = () => {
    const ready = waiters.filter((w) => failure || w.offset < durableHead);
    waiters = waiters.filter((w) => !failure && w.offset >= durableHead);
    for (const w of ready) (failure ? w.reject(failure) : w.resolve());
  };

  /** Writes and syncs everything appended so far; appends that arrive meanwhile wait for the next round. */
  const flush = async () => {
    while (unwritten.length > 0 && !failure) {
      const batch = unwritten.join("");
      const upTo = unwrittenUpTo;
      unwritten = [];
      try {
        await handle.write(batch);
        await handle.datasync();
        durableHead = upTo;
        kept.discardBefore(durableHead - keep);
        listeners.notify(durableHead);
      } catch (err) {
        failure = new Error(`cannot write the log file ${file}: ${(err as Error).message}`, { cause: err });
        logLine(failure.message);
      }
      settleWaiters();
    }
    flushing = undefined;
  };

  return {
    get logId() {
      return kept.logId;
    },
    get start() {
      return kept.start;
    },
    get head() {
      return durableHead;
    },
    append(event) {
      if (failure) throw failure;
      const entry = kept.append(event);
      unwritten.push(`${JSON.stringify(entry)}\n`);
      unwrittenUpTo = entry.offset + 1;
      flushing ??= Promise.resolve().then(flush);
      return entry;
    },
    whenDurable(offset) {
      if (offset < durableHead) return Promise.resolve();
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => waiters.push({ offset, resolve, reject }));
    },
    readFrom(offset, limit) {
      // Only what is on disk is served: a follower must never hold an event the leader could lose.
      if (offset < kept.start || offset > durableHead) return { ok: false, code: "OFFSET_OUT_OF_RANGE", start: kept.start, head: durableHead };
      return kept.readFrom(offset, Math.min(limit, durableHead - offset));
    },
    subscribe: listeners.subscribe,
    trim: () => kept.discardBefore(durableHead - keep),
    get epochs() {
      return epochs;
    },
    async beginEpoch(epoch, details = {}) {
      if (epoch <= latestEpoch(epochs)) throw new RangeError(`epoch ${epoch} does not follow epoch ${latestEpoch(epochs)}`);
      const next = [...epochs, epochRecord(epoch, details.start ?? unwrittenUpTo, details)];
      writeFileAtomically(epochsFile, JSON.stringify(next)); // on disk before the epoch's first entry can be
      epochs = next;
    },
    async truncate(offset) {
      if (failure) throw failure;
      while (flushing) await flushing;
      if (offset >= durableHead) return [];
      const removed = cutFile(file, offset);
      await kept.truncate(offset);
      durableHead = unwrittenUpTo = offset;
      const next = truncateHistory(epochs, offset);
      if (next.length !== epochs.length) writeFileAtomically(epochsFile, JSON.stringify(next));
      epochs = next;
      listeners.notify(durableHead);
      return removed as LogEntry<E>[];
    },
    async reset({ logId, start, epochs: history = [] }) {
      if (failure) throw failure;
      while (flushing) await flushing;
      // The new header replaces the whole file in one rename: a crash leaves the old log or the new one.
      writeFileAtomically(epochsFile, JSON.stringify(history));
      epochs = history;
      writeFileAtomically(file, `${JSON.stringify(newHeader(logId, start))}\n`);
      await handle.close();
      handle = await open(file, "a");
      kept = memoryLog(logId, start);
      durableHead = unwrittenUpTo = start;
      const stale = waiters;
      waiters = [];
      for (const w of stale) w.resolve(); // what they waited for belongs to the history just discarded
      listeners.notify(durableHead);
    },
    async close() {
      while (flushing) await flushing;
      await handle.close();
    },
  };
}

/**
 * Reads the file back, streaming it a chunk at a time so that a log of a million events needs no
 * second copy of itself in memory: `begin` is told the log's identity and returns what to do
 * with each entry. A partial last record is dropped (the file is truncated back to the last
 * whole line); a missing file, or one without a whole header, becomes a new log.
 */
function readBack<E>(file: string, logLine: (line: string) => void, begin: (header: { logId: string; start: number }) => (entry: LogEntry<E>) => void): Header {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    return createFile(file);
  }
  let header: Header | undefined;
  let onEntry: ((entry: LogEntry<E>) => void) | undefined;
  let lineNumber = 0;
  let wholeBytes = 0; // bytes up to and including the last newline seen
  let carry = Buffer.alloc(0);
  const chunk = Buffer.alloc(1 << 20);
  try {
    for (let read: number; (read = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) {
      let data = carry.length ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      let lineStart = 0;
      for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, lineStart)) {
        const line = data.toString("utf8", lineStart, nl);
        lineNumber++;
        wholeBytes += nl + 1 - lineStart;
        lineStart = nl + 1;
        if (!header) {
          header = checkHeader(parseLine(line, file, lineNumber), file);
          onEntry = begin({ logId: header.logId, start: header.start ?? 0 });
          continue;
        }
        const entry = parseLine(line, file, lineNumber) as LogEntry<E> | null;
        if (typeof entry !== "object" || entry === null) throw new Error(`${file} line ${lineNumber} is not an event: the log is corrupt`);
        const want = (header.start ?? 0) + lineNumber - 2;
        if (entry.offset !== want) throw new Error(`${file} line ${lineNumber}: offset ${entry.offset}, want ${want}: the log is corrupt`);
        onEntry!(entry);
      }
      carry = Buffer.from(data.subarray(lineStart));
    }
  } finally {
    closeSync(fd);
  }
  if (carry.length > 0) {
    logLine(`dropped a partial record at the end of ${file} (${carry.length} bytes, cut short by a crash; it was never acknowledged)`);
    truncateSync(file, wholeBytes);
  }
  // What a crashed process wrote may still sit in the OS's cache, not on disk. It is about to be
  // served to followers as durable, so make it so first.
  const synced = openSync(file, "r+");
  try {
    fsyncSync(synced);
  } finally {
    closeSync(synced);
  }
  if (!header) {
    logLine(`${file} had no complete header; starting a new log`);
    return createFile(file);
  }
  return header;
}

function checkHeader(value: unknown, file: string): Header {
  const header = value as Header | null;
  if (header?.log !== "replication-lab" || typeof header.logId !== "string") {
    throw new Error(`${file} is not a replication-lab log (its first line is not the log's header)`);
  }
  if (header.start !== undefined && !(Number.isSafeInteger(header.start) && header.start >= 0)) {
    throw new Error(`${file}: the header's start is not an offset: ${JSON.stringify(header.start)}`);
  }
  return header;
}

function parseLine(line: string, file: string, lineNumber: number): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`${file} line ${lineNumber} is not valid JSON: the log is corrupt (only a partial last line is repaired)`);
  }
}

/** The epoch history kept beside a log file (`<file>.epochs`), or none if there is no such file. */
function readEpochs(epochsFile: string): EpochHistory {
  const parsed = readJsonFile(epochsFile, "an epoch history");
  if (parsed === undefined) return [];
  const check = checkHistory(parsed);
  if (!check.ok) throw new Error(`${epochsFile}: ${check.message}`);
  return check.history;
}

/**
 * Cuts the log file back to its entries before `offset` (synced), and returns the entries it
 * cut. Reads the file from the start to find where that entry's line begins: truncating a log is
 * rare (a replaced leader rejoining), and the file keeps no index.
 */
function cutFile(file: string, offset: number): unknown[] {
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n");
  const header = checkHeader(JSON.parse(lines[0]!), file);
  const keepLines = 1 + Math.max(0, offset - (header.start ?? 0));
  const removed = lines.slice(keepLines).filter((l) => l !== "").map((l) => JSON.parse(l) as unknown);
  const bytes = Buffer.byteLength(lines.slice(0, keepLines).join("\n")) + 1;
  truncateSync(file, bytes);
  const fd = openSync(file, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return removed;
}

/** Creates the file with its header atomically: a crash leaves either no file or a whole header. */
function createFile(file: string): Header {
  const header = newHeader(newLogId(), 0);
  writeFileAtomically(file, `${JSON.stringify(header)}\n`);
  return header;
}

function newHeader(logId: string, start: number): Header {
  return { log: "replication-lab", version: 2, logId, start };
}
