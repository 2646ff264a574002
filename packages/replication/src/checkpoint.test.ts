import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from "./checkpoint.ts";

type State = { id: string; status: string; updatedAt: number }[];

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lab-"));
  file = join(dir, "follower", "checkpoint.json");
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const first: Checkpoint<State> = {
  logId: "0123456789abcdef",
  nextOffset: 3,
  state: [
    { id: "o-1", status: "CONFIRMED", updatedAt: 1010 },
    { id: "o-2", status: "PENDING", updatedAt: 1020 },
  ],
};
const second: Checkpoint<State> = {
  logId: "0123456789abcdef",
  nextOffset: 5,
  state: [
    { id: "o-1", status: "CONFIRMED", updatedAt: 1010 },
    { id: "o-2", status: "CANCELED", updatedAt: 1040 },
    { id: "o-3", status: "PENDING", updatedAt: 1050 },
  ],
};

describe("checkpoint -> saved, then loaded", () => {
  it("returns the same logId, nextOffset and state (creating the directory)", () => {
    saveCheckpoint(file, first);
    expect(loadCheckpoint<State>(file)).toEqual(first);
  });

  it("leaves no temporary file behind", () => {
    saveCheckpoint(file, first);
    expect(existsSync(`${file}.tmp`), "the .tmp file must be renamed over the checkpoint").toBe(false);
  });
});

describe("checkpoint -> no file yet", () => {
  it("loads as undefined: a follower with no checkpoint starts fresh", () => {
    expect(loadCheckpoint(file)).toBeUndefined();
  });
});

describe("checkpoint -> saved again", () => {
  it("replaces the old one", () => {
    saveCheckpoint(file, first);
    saveCheckpoint(file, second);
    expect(loadCheckpoint<State>(file)).toEqual(second);
  });
});

describe("checkpoint -> a leftover .tmp file from a crash between write and rename", () => {
  beforeEach(() => {
    saveCheckpoint(file, first);
    // The crash: the new checkpoint was being written to the temporary file, never renamed.
    writeFileSync(`${file}.tmp`, JSON.stringify(second).slice(0, 30));
  });

  it("does not affect load: the old checkpoint is returned", () => {
    expect(loadCheckpoint<State>(file)).toEqual(first);
  });

  it("does not stop the next save, which replaces both", () => {
    saveCheckpoint(file, second);
    expect(loadCheckpoint<State>(file)).toEqual(second);
    expect(existsSync(`${file}.tmp`), "the next save must consume the leftover .tmp").toBe(false);
  });
});

describe("checkpoint -> a file that is not a checkpoint", () => {
  beforeEach(() => saveCheckpoint(file, first)); // creates the directory

  it.each([
    ["an object without logId and nextOffset", '{"hello":"world"}'],
    ["a nextOffset that is not a whole number", '{"logId":"abc","nextOffset":"3","state":[]}'],
    ["a logId that is not a string", '{"logId":7,"nextOffset":3,"state":[]}'],
  ])("throws for %s, naming the file", (_what, text) => {
    writeFileSync(file, text);
    expect(() => loadCheckpoint(file)).toThrow(`${file} is not a follower checkpoint`);
  });

  it.each([
    ["text that is not JSON", "not json"],
    ["a checkpoint cut short", JSON.stringify(first).slice(0, 20)],
    ["an empty file", ""],
    ["the JSON null", "null"],
  ])("throws for %s instead of starting fresh", (_what, text) => {
    writeFileSync(file, text);
    expect(() => loadCheckpoint(file)).toThrow();
    expect(readFileSync(file, "utf8"), "loading must not change the file").toBe(text);
  });
});
