import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import type { LogEntry } from "./log.ts";
import { checkStoreFrom, type HardState, type RaftStorage } from "./storage.ts";

/** Which node of which group a DATA_DIR belongs to: the first thing both files say. */
interface Identity {
  raft: "replication-lab";
  groupId: string;
  nodeId: string;
}

export interface FileStorageOptions {
  /** DATA_DIR: created if missing. */
  dir: string;
  /** The group this node belongs to; a DATA_DIR of another group is refused. */
  groupId: string;
  nodeId: string;
  /** Where to say what recovery did (a torn last line dropped). */
  logLine?: ((line: string) => void) | undefined;
}

/** The files of a node's Raft state in `dir`. */
export function raftFiles(dir: string) {
  return { state: join(dir, "raft-state.json"), log: join(dir, "raft-log.jsonl") };
}

/**
 * Raft's persistent state on disk, in two files:
 *
 * - `raft-state.json`: currentTerm and votedFor, replaced atomically (written aside, synced,
 *   renamed over), so a crash leaves the old vote or the new one, never half of each;
 * - `raft-log.jsonl`: the log, one entry a line after a header line; appended to and synced,
 *   and cut back (truncated) when a conflicting suffix is replaced. A crash in the middle of an
 *   append leaves a torn last line, which opening drops: that entry was never acknowledged to
 *   anyone, since nothing is sent before `save` returns.
 *
 * Both files name the group and the node, and opening refuses a DATA_DIR that holds another's:
 * a node that took another's votes and log as its own could vote twice in a term.
 */
export function openFileStorage<C>({ dir, groupId, nodeId, logLine = () => {} }: FileStorageOptions): RaftStorage<C> & { close(): void } {
  mkdirSync(dir, { recursive: true });
  const files = raftFiles(dir);
  const identity: Identity = { raft: "replication-lab", groupId, nodeId };
  const checkIdentity = (found: Partial<Identity> | null, file: string) => {
    if (found?.raft !== "replication-lab") throw new Error(`${file} is not a replication-lab Raft file: refusing to use DATA_DIR ${dir}`);
    if (found.groupId !== groupId || found.nodeId !== nodeId) {
      throw new Error(
        `DATA_DIR ${dir} holds the Raft state of node ${found.nodeId} in group ${found.groupId}, but this is node ${nodeId} in group ${groupId}: give each node its own DATA_DIR (or empty this one to start the node over)`,
      );
    }
  };

  const stateText = readIfThere(files.state);
  let hardState: HardState = { currentTerm: 0, votedFor: null };
  if (stateText !== undefined) {
    const state = parseJson(stateText, files.state) as (Identity & HardState) | null;
    checkIdentity(state, files.state);
    hardState = { currentTerm: state!.currentTerm, votedFor: state!.votedFor };
  }

  const logText = readIfThere(files.log);
  if (logText === undefined && hardState.currentTerm > 0) throw new Error(`DATA_DIR ${dir} has ${files.state} (term ${hardState.currentTerm}) but no ${files.log}: the log is lost, and this node cannot rejoin with a vote and without the entries it acknowledged`);
  if (logText === undefined) writeAtomically(files.log, `${JSON.stringify(identity)}\n`);
  const { entries, offsets, wholeBytes } = logText === undefined ? { entries: [], offsets: [Buffer.byteLength(`${JSON.stringify(identity)}\n`)], wholeBytes: undefined } : readLog<C>(logText, files.log, checkIdentity);
  if (stateText === undefined && entries.length > 0) throw new Error(`DATA_DIR ${dir} has a log of ${entries.length} entries but no ${files.state}: without its currentTerm and votedFor, this node could vote twice in a term`);
  if (stateText === undefined) writeAtomically(files.state, JSON.stringify({ ...identity, ...hardState }));

  const fd = openSync(files.log, "r+");
  if (wholeBytes !== undefined && wholeBytes < Buffer.byteLength(logText!)) {
    ftruncateSync(fd, wholeBytes);
    fsyncSync(fd);
    logLine(`dropped a torn last line of ${files.log} (${Buffer.byteLength(logText!) - wholeBytes} bytes, cut short by a crash; it was never acknowledged)`);
  }
  // The entries read at start-up, kept only until the node loads them: from then on the node's own
  // log is the one copy in memory, and the file is read again if it is ever asked for once more.
  let read: LogEntry<C>[] | undefined = entries;

  return {
    load() {
      const log = read ?? readLog<C>(readFileSync(files.log, "utf8"), files.log, checkIdentity).entries;
      read = undefined;
      return { ...hardState, log };
    },
    save(changes) {
      if (changes.entries) {
        const { from, entries: more } = changes.entries;
        checkStoreFrom(from, offsets.length - 1);
        read = undefined;
        offsets.length = from; // offsets[i] is where entry i + 1 begins; offsets[from - 1] is where the new ones go
        let at = offsets[from - 1]!;
        ftruncateSync(fd, at);
        const lines = more.map((entry, i) => `${JSON.stringify({ index: from + i, ...entry })}\n`);
        for (const line of lines) offsets.push((at += Buffer.byteLength(line)));
        if (lines.length > 0) writeSync(fd, lines.join(""), offsets[from - 1]!);
        fdatasyncSync(fd);
      }
      if (changes.hardState) {
        writeAtomically(files.state, JSON.stringify({ ...identity, ...changes.hardState }));
        hardState = { ...changes.hardState };
      }
    },
    close: () => closeSync(fd),
  };
}

/**
 * Parses the log file: the header, then entries numbered 1, 2, ... A last line without its
 * newline is torn (dropped by the caller); any other line that does not parse, or is out of
 * order, is corruption, and refused. `offsets[i]` is where the line of entry i + 1 begins.
 */
function readLog<C>(text: string, file: string, checkIdentity: (found: Partial<Identity> | null, file: string) => void) {
  const lines = text.split("\n");
  const torn = lines.pop()!; // "" when the file ends with a newline
  if (lines.length === 0) throw new Error(`${file} has no whole header line: the log is corrupt`);
  checkIdentity(parseJson(lines[0]!, file, 1) as Partial<Identity> | null, file);
  const entries: LogEntry<C>[] = [];
  const offsets = [Buffer.byteLength(lines[0]!) + 1];
  lines.slice(1).forEach((line, i) => {
    const entry = parseJson(line, file, i + 2) as ({ index: number } & LogEntry<C>) | null;
    if (entry?.index !== i + 1 || !Number.isSafeInteger(entry.term)) throw new Error(`${file} line ${i + 2}: want entry ${i + 1}, got ${line.slice(0, 80)}: the log is corrupt`);
    const { index: _index, ...rest } = entry;
    entries.push(rest as LogEntry<C>);
    offsets.push(offsets.at(-1)! + Buffer.byteLength(line) + 1);
  });
  return { entries, offsets, wholeBytes: torn === "" ? undefined : offsets.at(-1)! };
}

function parseJson(text: string, file: string, line?: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${file}${line === undefined ? "" : ` line ${line}`} is not valid JSON: the Raft state is corrupt (only a torn last line of the log is repaired)`);
  }
}

function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Replaces `file` with `text` so that a crash leaves one or the other: written aside, synced, renamed over, the rename synced. */
function writeAtomically(file: string, text: string): void {
  const aside = `${file}.tmp`;
  const fd = openSync(aside, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(aside, file);
  if (process.platform === "win32") return; // Windows cannot open a directory to sync it; there the rename is durable enough for a lab
  const folder = openSync(dirname(file), "r");
  try {
    fsyncSync(folder);
  } finally {
    closeSync(folder);
  }
}
