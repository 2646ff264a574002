import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openFileStorage, raftFiles } from "./file-storage.ts";
import type { LogEntry } from "./log.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function dataDir() {
  const dir = mkdtempSync(join(tmpdir(), "raft-storage-"));
  dirs.push(dir);
  return dir;
}

const entry = (term: number, command: string): LogEntry<string> => ({ term, command });
/** Opens, does `use`, closes: as one run of a node's process. */
function run<T>(dir: string, use: (storage: ReturnType<typeof openFileStorage<string>>) => T, who = { groupId: "g1", nodeId: "n1" }) {
  const storage = openFileStorage<string>({ dir, ...who });
  try {
    return use(storage);
  } finally {
    storage.close();
  }
}

describe("Raft state on disk (DATA_DIR)", () => {
  it("starts empty, and finds currentTerm, votedFor and the log again after a restart", () => {
    const dir = dataDir();
    expect(run(dir, (s) => s.load())).toEqual({ currentTerm: 0, votedFor: null, log: [] });
    run(dir, (s) => {
      s.save({ hardState: { currentTerm: 3, votedFor: "n2" }, entries: { from: 1, entries: [{ term: 1, noop: true }, entry(1, "a")] } });
      s.save({ entries: { from: 3, entries: [entry(3, "b")] } });
    });
    expect(run(dir, (s) => s.load())).toEqual({ currentTerm: 3, votedFor: "n2", log: [{ term: 1, noop: true }, entry(1, "a"), entry(3, "b")] });
  });

  it("loads what was saved since the last load, read back from the file, and refuses entries past the stored log's end", () => {
    const dir = dataDir();
    run(dir, (s) => s.save({ entries: { from: 1, entries: [entry(1, "a"), entry(1, "b")] } }));
    run(dir, (s) => {
      const first = s.load().log;
      s.save({ entries: { from: 2, entries: [entry(2, "x"), entry(2, "y")] } });
      expect(first, "what the first load gave the node, untouched by the save").toEqual([entry(1, "a"), entry(1, "b")]);
      expect(s.load().log).toEqual([entry(1, "a"), entry(2, "x"), entry(2, "y")]);
      expect(() => s.save({ entries: { from: 5, entries: [entry(2, "z")] } })).toThrow(/cannot store entries from index 5: the stored log ends at 3/);
    });
  });

  it("cuts off a conflicting suffix on disk when entries from an earlier index replace it", () => {
    const dir = dataDir();
    run(dir, (s) => s.save({ entries: { from: 1, entries: [entry(1, "a"), entry(1, "b"), entry(1, "c")] } }));
    run(dir, (s) => s.save({ entries: { from: 2, entries: [entry(2, "x")] } }));
    expect(run(dir, (s) => s.load().log)).toEqual([entry(1, "a"), entry(2, "x")]);
    expect(readFileSync(raftFiles(dir).log, "utf8").trim().split("\n"), "the log file: header and two entries").toHaveLength(3);
  });

  it("drops a torn last line left by a crash in the middle of an append, saying so, and goes on", () => {
    const dir = dataDir();
    run(dir, (s) => s.save({ entries: { from: 1, entries: [entry(1, "a")] } }));
    appendFileSync(raftFiles(dir).log, '{"index":2,"term":1,"comm');
    const lines: string[] = [];
    const storage = openFileStorage<string>({ dir, groupId: "g1", nodeId: "n1", logLine: (l) => lines.push(l) });
    expect(storage.load().log).toEqual([entry(1, "a")]);
    expect(lines.join("\n")).toMatch(/dropped a torn last line of .*raft-log\.jsonl/);
    storage.save({ entries: { from: 2, entries: [entry(1, "b")] } });
    storage.close();
    expect(run(dir, (s) => s.load().log)).toEqual([entry(1, "a"), entry(1, "b")]);
  });

  it("refuses a log corrupt in the middle, naming the file and line", () => {
    const dir = dataDir();
    run(dir, (s) => s.save({ entries: { from: 1, entries: [entry(1, "a"), entry(1, "b")] } }));
    const file = raftFiles(dir).log;
    const [header, , second] = readFileSync(file, "utf8").split("\n");
    writeFileSync(file, `${header}\nnot json\n${second}\n`);
    expect(() => run(dir, (s) => s.load())).toThrow(/raft-log\.jsonl line 2 is not valid JSON/);
  });

  it("refuses a DATA_DIR that holds another group's state, or another node's, and changes nothing in it", () => {
    const dir = dataDir();
    run(dir, (s) => s.save({ hardState: { currentTerm: 2, votedFor: "n1" }, entries: { from: 1, entries: [entry(1, "a")] } }));
    const before = readFileSync(raftFiles(dir).state, "utf8");
    expect(() => run(dir, () => {}, { groupId: "g2", nodeId: "n1" })).toThrow("DATA_DIR " + dir + " holds the Raft state of node n1 in group g1, but this is node n1 in group g2: give each node its own DATA_DIR");
    expect(() => run(dir, () => {}, { groupId: "g1", nodeId: "n3" })).toThrow(/holds the Raft state of node n1 in group g1, but this is node n3/);
    expect(readFileSync(raftFiles(dir).state, "utf8")).toBe(before);
    expect(run(dir, (s) => s.load().currentTerm)).toBe(2);
  });

  it("refuses a DATA_DIR whose log is gone while its vote is not", () => {
    const dir = dataDir();
    run(dir, (s) => s.save({ hardState: { currentTerm: 2, votedFor: "n1" } }));
    rmSync(raftFiles(dir).log);
    expect(() => run(dir, () => {})).toThrow(/no .*raft-log\.jsonl: the log is lost/);
  });
});
