import { describe, expect, it } from "vitest";
import { parseIncoming, parseMessage } from "./parse-message.ts";

const checkCommand = (c: unknown) => (typeof c === "string" ? undefined : `must be a string, got ${JSON.stringify(c)}`);
const append = (more: Record<string, unknown> = {}) => ({
  type: "AppendEntries",
  from: "n1",
  to: "n2",
  term: 3,
  leaderId: "n1",
  prevLogIndex: 1,
  prevLogTerm: 1,
  entries: [{ term: 3, noop: true }, { term: 3, command: "x" }],
  leaderCommit: 1,
  round: 4,
  ...more,
});

describe("a message from the wire", () => {
  it("passes when every field is what its type needs", () => {
    expect(parseMessage(append(), checkCommand)).toEqual({ ok: true, message: append() });
    expect(parseMessage({ type: "PreVoteReply", from: "n2", to: "n1", term: 4, voteGranted: false }, checkCommand).ok).toBe(true);
  });

  it.each([
    [[], "a message must be a JSON object"],
    [{ ...append(), type: "InstallSnapshot" }, "type must be one of RequestVote, RequestVoteReply, PreVote, PreVoteReply, AppendEntries, AppendEntriesReply"],
    [{ ...append(), from: "" }, "from must be a node id"],
    [append({ term: -1 }), "AppendEntries.term must be a whole number of 0 or more, got -1"],
    [append({ prevLogIndex: "1" }), 'AppendEntries.prevLogIndex must be a whole number of 0 or more, got "1"'],
    [append({ entries: {} }), "AppendEntries.entries must be a list of entries"],
    [append({ entries: [{ term: 0, command: "x" }] }), "AppendEntries.entries [0] must be an entry with a term of 1 or more"],
    [append({ entries: [{ term: 3 }] }), "AppendEntries.entries [0] must have a command, or be a no-op"],
    [append({ entries: [{ term: 3, noop: true, command: "x" }] }), "AppendEntries.entries [0] is a no-op"],
    [append({ entries: [{ term: 3, command: 7 }] }), "AppendEntries.entries [0].command must be a string, got 7"],
    [{ type: "RequestVoteReply", from: "n2", to: "n1", term: 4 }, "RequestVoteReply.voteGranted must be true or false, got undefined"],
  ])("refuses %j, saying what is wrong", (value, error) => {
    const got = parseMessage(value, checkCommand);
    expect(got.ok).toBe(false);
    expect(got.ok === false && got.error).toContain(error);
  });
});

describe("a message from the wire for this node", () => {
  const n2 = { id: "n2", peers: new Set(["n1", "n3"]), checkCommand };

  it("passes when well formed, from a peer and for this node", () => {
    expect(parseIncoming(append(), n2)).toEqual({ ok: true, message: append() });
  });

  it.each([
    ["malformed", append({ term: "x" }), "INVALID_MESSAGE", "AppendEntries.term must be a whole number"],
    ["from a node that is not a peer", append({ from: "n9" }), "UNKNOWN_PEER", "n9 is not a peer of n2 (its peers: n1, n3)"],
    ["from this node itself", append({ from: "n2" }), "UNKNOWN_PEER", "n2 is not a peer of n2"],
    ["for another node", append({ to: "n3" }), "NOT_THIS_NODE", "the message is for n3, and this is n2"],
  ])("refuses one %s, with a code", (_what, value, code, error) => {
    const got = parseIncoming(value, n2);
    expect(got).toMatchObject({ ok: false, code });
    expect(got.ok === false && got.error).toContain(error);
  });
});
