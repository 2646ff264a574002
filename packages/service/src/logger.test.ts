import { describe, expect, it } from "vitest";
import { consoleLogger } from "./logger.ts";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("consoleLogger", () => {
  it("prefixes each line with the role and writes the lines of one turn in one write, in order", async () => {
    const writes: string[] = [];
    const log = consoleLogger("leader", (text) => writes.push(text));
    log("appended offset=0");
    log("appended offset=1");
    expect(writes, "before the turn ends").toEqual([]);
    await nextTurn();
    expect(writes).toEqual(["[leader] appended offset=0\n[leader] appended offset=1\n"]);
    log("appended offset=2");
    await nextTurn();
    expect(writes).toHaveLength(2);
    expect(writes[1]).toBe("[leader] appended offset=2\n");
  });
});
