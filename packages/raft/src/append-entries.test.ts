import { describe, expect, it } from "vitest";
import { acceptAppendEntries } from "./append-entries.ts";
import { createRaftLog, type LogEntry } from "./log.ts";
import type { AppendEntries } from "./messages.ts";

/** A log from its entries' terms, each entry's command its index: terms(1, 1, 2) is [1@1, 2@1, 3@2]. */
const terms = (...ts: number[]): LogEntry<string>[] => ts.map((term, i) => ({ term, command: `${i + 1}@${term}` }));
const request = (prevLogIndex: number, prevLogTerm: number, entries: LogEntry<string>[], leaderCommit = 0): AppendEntries<string> => ({
  type: "AppendEntries",
  term: 5,
  leaderId: "n1",
  prevLogIndex,
  prevLogTerm,
  entries,
  leaderCommit,
  round: 1,
});
const termsOf = (log: ReturnType<typeof createRaftLog<string>>) => log.entriesFrom(1).map((e) => e.term);

describe("AppendEntries on the follower", () => {
  it("appends after prevLogIndex when the log holds prevLogTerm there", () => {
    const log = createRaftLog(terms(1, 1));
    expect(acceptAppendEntries(log, request(2, 1, terms(1, 1, 2).slice(2)), 0)).toEqual({ success: true, matchIndex: 3, changedFrom: 3 });
    expect(termsOf(log)).toEqual([1, 1, 2]);
  });

  it("matches every log at prevLogIndex 0", () => {
    const log = createRaftLog<string>();
    expect(acceptAppendEntries(log, request(0, 0, terms(1, 2)), 0)).toMatchObject({ success: true, matchIndex: 2 });
  });

  it("refuses when its log is too short, pointing the leader just past its end", () => {
    const log = createRaftLog(terms(1, 1));
    expect(acceptAppendEntries(log, request(5, 3, []), 0)).toEqual({ success: false, conflictIndex: 3, conflictTerm: 0 });
    expect(termsOf(log)).toEqual([1, 1]);
  });

  it("refuses when the term at prevLogIndex differs, pointing at the first entry of its term there", () => {
    const log = createRaftLog(terms(1, 2, 2, 2));
    expect(acceptAppendEntries(log, request(4, 3, []), 0)).toEqual({ success: false, conflictIndex: 2, conflictTerm: 2 });
    expect(termsOf(log)).toEqual([1, 2, 2, 2]);
  });

  it("repairs a conflicting suffix: the entry that conflicts and all after it go, the leader's take their place", () => {
    // Figure 7's follower (f): it led terms 2 and 3 and appended entries nobody else has.
    const log = createRaftLog(terms(1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3));
    const leaders = terms(1, 1, 1, 4, 4, 5, 5, 6, 6, 6);
    expect(acceptAppendEntries(log, request(3, 1, leaders.slice(3)), 0)).toEqual({ success: true, matchIndex: 10, changedFrom: 4 });
    expect(termsOf(log)).toEqual([1, 1, 1, 4, 4, 5, 5, 6, 6, 6]);
  });

  it("keeps what already matches, and what comes after: a late AppendEntries does not cut off a newer one's entries", () => {
    const log = createRaftLog(terms(1, 1, 1, 1));
    expect(acceptAppendEntries(log, request(1, 1, terms(1, 1).slice(1)), 0)).toEqual({ success: true, matchIndex: 2, changedFrom: undefined });
    expect(termsOf(log)).toEqual([1, 1, 1, 1]);
  });

  it("treats a committed entry that conflicts as impossible, loudly", () => {
    const log = createRaftLog(terms(1, 1, 2));
    expect(() => acceptAppendEntries(log, request(1, 1, terms(1, 3).slice(1)), 3)).toThrow(/conflicts with committed entry 2/);
  });
});
