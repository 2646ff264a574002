import { describe, expect, it } from "vitest";
import { checkHistory, endOfEpoch, epochAt, latestEpoch, truncateHistory } from "./epochs.ts";

// Leadership 1 wrote offsets 0-4, leadership 2 offsets 5-7, leadership 4 from 8 on (3 wrote nothing).
const history = [
  { epoch: 1, start: 0 },
  { epoch: 2, start: 5 },
  { epoch: 3, start: 8 },
  { epoch: 4, start: 8 },
];

describe("epoch history", () => {
  it("knows the latest epoch, and the epoch of each offset", () => {
    expect(latestEpoch(history)).toBe(4);
    expect(latestEpoch([])).toBe(0);
    expect([0, 4, 5, 7, 8, 20].map((o) => epochAt(history, o))).toEqual([1, 1, 2, 2, 4, 4]);
  });

  it("says where each epoch ends in this log: where the next one began, or the head", () => {
    expect(endOfEpoch(history, 1, 12)).toBe(5);
    expect(endOfEpoch(history, 2, 12)).toBe(8);
    expect(endOfEpoch(history, 3, 12), "an epoch that wrote nothing").toBe(8);
    expect(endOfEpoch(history, 4, 12), "the current epoch ends at the head").toBe(12);
    expect(endOfEpoch(history, 0, 12), "a follower that never saw an epoch: where the first began").toBe(0);
  });

  it("drops the epochs that began at or after a truncation point", () => {
    expect(truncateHistory(history, 6)).toEqual([
      { epoch: 1, start: 0 },
      { epoch: 2, start: 5 },
    ]);
    expect(truncateHistory(history, 5)).toEqual([{ epoch: 1, start: 0 }]);
  });

  it.each([
    ["not a list", {}],
    ["an epoch going down", [{ epoch: 2, start: 0 }, { epoch: 1, start: 3 }]],
    ["a start going back", [{ epoch: 1, start: 4 }, { epoch: 2, start: 3 }]],
    ["a negative start", [{ epoch: 1, start: -1 }]],
  ])("refuses %s", (_what, value) => {
    expect(checkHistory(value).ok).toBe(false);
  });
});
