import { describe, expect, it } from "vitest";
import { advanceCommitIndex, majority } from "./commit.ts";

/** The leader's log as the terms of its entries, index 1 first. */
const termAt = (terms: number[]) => (index: number) => (index === 0 ? 0 : terms[index - 1]);

describe("the leader's commitIndex", () => {
  it("is the highest index on a majority, the leader counting", () => {
    expect(majority(3)).toBe(2);
    expect(majority(4)).toBe(3);
    expect(majority(5)).toBe(3);
    // 5 members: the leader has 1..6; followers have 6, 4, 2, 0.
    expect(advanceCommitIndex({ commitIndex: 0, currentTerm: 2, lastLogIndex: 6, matchIndexes: [6, 4, 2, 0], termAt: termAt([1, 1, 2, 2, 2, 2]) })).toBe(4);
  });

  it("does not count an older term's entry on a majority as committed (Figure 8), until an entry of the current term is", () => {
    // Figure 8 (c): S1 leads term 4; its index 2 (of term 2) is on S1, S2, S3, a majority of 5. S5,
    // which never had it, could still win an election with its term-3 entry and overwrite it.
    const log = termAt([1, 2, 4]);
    expect(advanceCommitIndex({ commitIndex: 1, currentTerm: 4, lastLogIndex: 3, matchIndexes: [2, 2, 1, 1], termAt: log })).toBe(1);
    // (e): index 3, of term 4, reaches the majority: it is committed, and index 2 with it.
    expect(advanceCommitIndex({ commitIndex: 1, currentTerm: 4, lastLogIndex: 3, matchIndexes: [3, 3, 1, 1], termAt: log })).toBe(3);
  });

  it("never goes back", () => {
    expect(advanceCommitIndex({ commitIndex: 5, currentTerm: 3, lastLogIndex: 6, matchIndexes: [2, 0], termAt: termAt([3, 3, 3, 3, 3, 3]) })).toBe(5);
  });
});
