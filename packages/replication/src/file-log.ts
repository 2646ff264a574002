import { mkdirSync, readFileSync, renameSync, truncateSync, writeFileSync, openSync, fsyncSync, closeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { createHeadListeners, createMemoryLog, DEFAULT_RETAIN_EVENTS, newLogId, type LogEntry, type ReplicationLog } from "./log.ts";

export interface FileLogOptions<E> {
  /** The log file, created if missing. Its first line names the log's identity; then one event per line. */
  file: string;
  /** How many entries to keep in memory for followers (the file keeps them all). */
  retain?: number;
  /** Called for each entry read back at start-up, in offset order, so the caller rebuilds its state from the log. */
  replay(entry: LogEntry<E>): void;
  /** Where to report what recovery did, such as dropping a partial last record. */
  logLine?(line: string): void;
}

interface Header {
  log: "replication-lab";
  version: 1;
  logId: string;
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
export async function openFileLog<E>({ file, retain, replay, logLine = () => {} }: FileLogOptions<E>): Promise<ReplicationLog<E>> {
  mkdirSync(dirname(file), { recursive: true });
  const { header, entries } = readOrCreate<E>(file, logLine);

  // Retention must only let go of entries that are on disk (and so could have been served), so
  // the memory log keeps everything and this log trims it as entries become durable.
  const keep = retain ?? DEFAULT_RETAIN_EVENTS;
  const memory = createMemoryLog<E>({ logId: header.logId, retain: Number.MAX_SAFE_INTEGER, start: entries[0]?.offset ?? 0 });
  for (const entry of entries) {
    const { offset, ...event } = entry;
    memory.append(event as E);
    replay(entry);
  }
  memory.discardBefore(memory.head - keep);
  entries.length = 0; // let the replayed copies go: memory keeps only what retention allows
  if (memory.head > 0) logLine(`recovered log ${header.logId} from ${file}: ${memory.head} events`);

  const handle: FileHandle = await open(file, "a");
  let durableHead = memory.head;
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
        memory.discardBefore(durableHead - keep);
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
    logId: header.logId,
    get start() {
      return memory.start;
    },
    get head() {
      return durableHead;
    },
    append(event) {
      if (failure) throw failure;
      const entry = memory.append(event);
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
      if (offset < memory.start || offset > durableHead) return { ok: false, code: "OFFSET_OUT_OF_RANGE", start: memory.start, head: durableHead };
      return memory.readFrom(offset, Math.min(limit, durableHead - offset));
    },
    subscribe: listeners.subscribe,
    async close() {
      await flushing;
      await handle.close();
    },
  };
}

/** Reads the file back (dropping a partial last record), or creates it with a new identity. */
function readOrCreate<E>(file: string, logLine: (line: string) => void): { header: Header; entries: LogEntry<E>[] } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    return { header: createFile(file), entries: [] };
  }

  const lastNewline = text.lastIndexOf("\n");
  if (lastNewline < text.length - 1) {
    const partial = Buffer.byteLength(text.slice(lastNewline + 1));
    logLine(`dropped a partial record at the end of ${file} (${partial} bytes, cut short by a crash; it was never acknowledged)`);
    truncateSync(file, Buffer.byteLength(text.slice(0, lastNewline + 1)));
    text = text.slice(0, lastNewline + 1);
  }
  if (text === "") {
    logLine(`${file} had no complete header; starting a new log`);
    return { header: createFile(file), entries: [] };
  }

  const lines = text.split("\n");
  lines.pop(); // the empty string after the final newline
  const header = parseLine(lines[0]!, file, 1) as Header | null;
  if (header?.log !== "replication-lab" || typeof header.logId !== "string") {
    throw new Error(`${file} is not a replication-lab log (its first line is not the log's header)`);
  }
  const entries: LogEntry<E>[] = [];
  for (let i = 1; i < lines.length; i++) {
    const entry = parseLine(lines[i]!, file, i + 1) as LogEntry<E> | null;
    if (typeof entry !== "object" || entry === null) throw new Error(`${file} line ${i + 1} is not an event: the log is corrupt`);
    const want = i === 1 ? entry.offset : entries[entries.length - 1]!.offset + 1;
    if (!Number.isSafeInteger(entry.offset) || entry.offset !== want) {
      throw new Error(`${file} line ${i + 1}: offset ${entry.offset}, want ${want}: the log is corrupt`);
    }
    entries.push(entry);
  }
  return { header, entries };
}

function parseLine(line: string, file: string, lineNumber: number): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`${file} line ${lineNumber} is not valid JSON: the log is corrupt (only a partial last line is repaired)`);
  }
}

/** Creates the file with its header atomically: a crash leaves either no file or a whole header. */
function createFile(file: string): Header {
  const header: Header = { log: "replication-lab", version: 1, logId: newLogId() };
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(header)}\n`);
  const fd = openSync(temporary, "r");
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temporary, file);
  syncDirectory(dirname(file));
  return header;
}

/** Makes a rename durable. Windows cannot open a directory for syncing; there, renames are durable enough for a lab. */
export function syncDirectory(dir: string): void {
  if (process.platform === "win32") return;
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
