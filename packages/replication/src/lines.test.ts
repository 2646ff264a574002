import { describe, expect, it } from "vitest";
import { lineSplitter } from "./lines.ts";

describe("lineSplitter", () => {
  it("returns the lines each chunk completes and keeps the rest for the next", () => {
    const lines = lineSplitter();
    expect(lines.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(lines.pending).toBe(4);
    expect(lines.push(":2}\n\n")).toEqual(['{"b":2}', ""]);
    expect(lines.push("")).toEqual([]);
    expect(lines.pending).toBe(0);
  });
});
