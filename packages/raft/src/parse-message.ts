import type { LogEntry } from "./log.ts";
import { MESSAGE_TYPES, type Envelope } from "./messages.ts";

type Check = { ok: true } | { ok: false; error: string };

/** The fields each message type carries besides `type`, `from` and `to`, and what each must be. */
const FIELDS: Record<(typeof MESSAGE_TYPES)[number], Record<string, "index" | "id" | "boolean" | "entries">> = {
  RequestVote: { term: "index", candidateId: "id", lastLogIndex: "index", lastLogTerm: "index" },
  PreVote: { term: "index", candidateId: "id", lastLogIndex: "index", lastLogTerm: "index" },
  RequestVoteReply: { term: "index", voteGranted: "boolean" },
  PreVoteReply: { term: "index", voteGranted: "boolean" },
  AppendEntries: { term: "index", leaderId: "id", prevLogIndex: "index", prevLogTerm: "index", entries: "entries", leaderCommit: "index", round: "index" },
  AppendEntriesReply: { term: "index", success: "boolean", matchIndex: "index", conflictIndex: "index", conflictTerm: "index", round: "index" },
};

const isIndex = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const isId = (v: unknown) => typeof v === "string" && v.length > 0 && v.length <= 64;

/**
 * Checks that `value`, as it came off the wire, is a well-formed message: a known type, every
 * field of the right kind, every entry a term and a command that `checkCommand` accepts (or a
 * no-op). Returns it typed, or a sentence saying the first thing wrong. A node takes in only what
 * passes, so a malformed request changes nothing. Whether its sender belongs to the group is
 * parseIncoming's to check.
 */
export function parseMessage<C>(value: unknown, checkCommand: (command: unknown) => string | undefined): { ok: true; message: Envelope<C> } | { ok: false; error: string } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, error: "a message must be a JSON object" };
  const m = value as Record<string, unknown>;
  if (!MESSAGE_TYPES.includes(m.type as never)) return { ok: false, error: `type must be one of ${MESSAGE_TYPES.join(", ")}, got ${JSON.stringify(m.type)}` };
  for (const key of ["from", "to"]) if (!isId(m[key])) return { ok: false, error: `${key} must be a node id (1-64 characters), got ${JSON.stringify(m[key])}` };
  for (const [key, kind] of Object.entries(FIELDS[m.type as keyof typeof FIELDS])) {
    const check = checkField(m[key], kind, checkCommand);
    if (!check.ok) return { ok: false, error: `${m.type}.${key} ${check.error}` };
  }
  return { ok: true, message: value as Envelope<C> };
}

/** A node as the receiver of messages: who it is, who may send to it, and what a command must be. */
export interface Receiver {
  id: string;
  /** The other members' ids: only they send it messages. */
  peers: ReadonlySet<string>;
  checkCommand(command: unknown): string | undefined;
}

/** Why a message off the wire was not taken in; the route answers each with its own status. */
export type Refusal = { ok: false; code: "INVALID_MESSAGE" | "UNKNOWN_PEER" | "NOT_THIS_NODE"; error: string };

/**
 * Checks a message that came off the wire for `to`: well formed (parseMessage), from one of its
 * peers, and addressed to it. Both ways a message arrives, in a POST and in the response to one,
 * pass through this, so a malformed or foreign message changes nothing whichever way it came.
 * The group the message belongs to is checked before, on the body that carried it.
 */
export function parseIncoming<C>(value: unknown, to: Receiver): { ok: true; message: Envelope<C> } | Refusal {
  const parsed = parseMessage<C>(value, to.checkCommand);
  if (!parsed.ok) return { ok: false, code: "INVALID_MESSAGE", error: parsed.error };
  const { message } = parsed;
  if (!to.peers.has(message.from)) return { ok: false, code: "UNKNOWN_PEER", error: `${message.from} is not a peer of ${to.id} (its peers: ${[...to.peers].join(", ")})` };
  if (message.to !== to.id) return { ok: false, code: "NOT_THIS_NODE", error: `the message is for ${message.to}, and this is ${to.id}` };
  return parsed;
}

function checkField(v: unknown, kind: "index" | "id" | "boolean" | "entries", checkCommand: (command: unknown) => string | undefined): Check {
  if (kind === "index") return isIndex(v) ? { ok: true } : { ok: false, error: `must be a whole number of 0 or more, got ${JSON.stringify(v)}` };
  if (kind === "id") return isId(v) ? { ok: true } : { ok: false, error: `must be a node id, got ${JSON.stringify(v)}` };
  if (kind === "boolean") return typeof v === "boolean" ? { ok: true } : { ok: false, error: `must be true or false, got ${JSON.stringify(v)}` };
  if (!Array.isArray(v)) return { ok: false, error: "must be a list of entries" };
  for (const [i, entry] of (v as Partial<LogEntry<unknown> & { noop: unknown; command: unknown }>[]).entries()) {
    if (typeof entry !== "object" || entry === null || !Number.isSafeInteger(entry.term) || entry.term! < 1) return { ok: false, error: `[${i}] must be an entry with a term of 1 or more` };
    if ("noop" in entry) {
      if (entry.noop !== true || "command" in entry) return { ok: false, error: `[${i}] is a no-op: it must be {"term": n, "noop": true}` };
      continue;
    }
    if (!("command" in entry)) return { ok: false, error: `[${i}] must have a command, or be a no-op` };
    const problem = checkCommand(entry.command);
    if (problem) return { ok: false, error: `[${i}].command ${problem}` };
  }
  return { ok: true };
}
