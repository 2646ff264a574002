import { HttpError } from "@lab/service";
import { describe, expect, it } from "vitest";
import { lsnReached, parseLsn } from "./lsn.ts";
import { hasApplied, readMinPosition } from "./min-position.ts";

describe("parseLsn: PostgreSQL's positions", () => {
  it.each([
    ["0/0", 0n],
    ["0/3015FD0", 0x3015fd0n],
    ["1/0", 1n << 32n],
    ["FFFFFFFF/FFFFFFFF", (1n << 64n) - 1n],
  ])("%s is byte %s of the WAL", (text, bytes) => {
    expect(parseLsn(text)).toBe(bytes);
  });

  it.each(["", "0", "0/", "/1", "0/3015FD0 ", "g/1", "123456789/0", "0x1/0"])("%j is not an LSN", (text) => {
    expect(parseLsn(text)).toBeUndefined();
  });

  it("compares by the high half first: 1/0 is past 0/FFFFFFFF", () => {
    expect(lsnReached("1/0", parseLsn("0/FFFFFFFF")!)).toBe(true);
    expect(lsnReached("0/FFFFFFFF", parseLsn("1/0")!)).toBe(false);
    expect(lsnReached(null, 0n), "a standby that replayed nothing").toBe(false);
  });
});

describe("readMinPosition: ?minOffset= takes the write reply's offset or its lsn", () => {
  it("reads a whole number as the lab's offset and X/Y as an LSN", () => {
    expect(readMinPosition({})).toBeUndefined();
    expect(readMinPosition({ minOffset: "7" })).toEqual({ offset: 7, text: "7" });
    expect(readMinPosition({ minOffset: "0/3015FD0" })).toEqual({ lsn: 0x3015fd0n, text: "0/3015FD0" });
  });

  it.each([["-1"], ["1.5"], ["0/xyz"], [["1", "2"]], [""]])("refuses %j with a 400 naming minOffset", (raw) => {
    let thrown: unknown;
    try {
      readMinPosition({ minOffset: raw });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HttpError);
    expect(thrown).toMatchObject({ status: 400, code: "INVALID_PARAMETER", details: { parameter: "minOffset" } });
  });

  it("has applied an offset once the standby's highest event reaches it, an LSN once its replay position does", () => {
    const at = { appliedOffset: 3, appliedLsn: "0/3000100" };
    expect(hasApplied(at, { offset: 3, text: "3" })).toBe(true);
    expect(hasApplied(at, { offset: 4, text: "4" })).toBe(false);
    expect(hasApplied(at, { lsn: 0x3000100n, text: "0/3000100" })).toBe(true);
    expect(hasApplied(at, { lsn: 0x3000101n, text: "0/3000101" })).toBe(false);
    expect(hasApplied({ appliedOffset: null, appliedLsn: null }, { offset: 0, text: "0" })).toBe(false);
  });
});
