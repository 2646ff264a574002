import { describe, expect, it } from "vitest";
import { createMemoryLog } from "./log.ts";

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
