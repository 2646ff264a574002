import { createHash } from "node:crypto";
import { DEFAULT_ELECTION_TIMEOUT, DEFAULT_HEARTBEAT_MS } from "@lab/raft";
import { ConfigError, readChoice, readWholeNumber } from "@lab/service";

/** One member of the group: its id and the base URL it is reached at. */
export interface Member {
  id: string;
  url: string;
}

/** A Raft node's settings, read once from the environment at start-up. */
export interface RaftConfig {
  /** RAFT_ID: this node's id, one of the members. */
  id: string;
  /** RAFT_PEERS: every member, this node included, as id=url pairs. */
  members: Member[];
  /** This node's URL, from RAFT_PEERS. */
  url: string;
  /** The port of that URL; PORT, if set, must agree. */
  port: number;
  /** The group's id: a digest of the member list, the same on every node started with the same RAFT_PEERS. */
  group: string;
  /** DATA_DIR: where currentTerm, votedFor and the log are kept; unset, in memory (a restart forgets them). */
  dataDir: string | undefined;
  /** ELECTION_TIMEOUT_MIN_MS, ELECTION_TIMEOUT_MAX_MS: the range election timeouts are drawn from; the chapter's 150-300. */
  electionTimeout: { min: number; max: number };
  /** HEARTBEAT_MS: how often the leader sends AppendEntries when idle; the chapter's 50. */
  heartbeatIntervalMs: number;
  /** COMMIT_TIMEOUT_MS: how long a write waits to be committed before the client is told it is not (yet). */
  commitTimeoutMs: number;
  /**
   * PRE_VOTE: ask for pre-votes before standing (thesis §9.6), so that a node cut off from the
   * others does not raise its term again and again and, back, depose a healthy leader. On
   * (`true`) by default; `false` shows the chapter's runaway server.
   */
  preVote: boolean;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const LOOPBACK = new Set(["127.0.0.1", "localhost"]);

/**
 * Reads and checks the node's settings; throws a ConfigError that names the variable and what is
 * wrong with it. A member list that cannot describe one group (this node not in it, an id or a
 * URL twice, a URL that is not a loopback base URL) stops the node before it listens: a node
 * that disagreed with the others about who the members are would count majorities of its own.
 * The others' lists are checked by the group id every message carries.
 */
export function readRaftConfig(env: Record<string, string | undefined>): RaftConfig {
  const id = env.RAFT_ID?.trim();
  if (!id) throw new ConfigError("RAFT_ID is required: this node's id, one of those in RAFT_PEERS (such as n1)");
  const members = readMembers(env.RAFT_PEERS);
  const self = members.find((m) => m.id === id);
  if (!self) throw new ConfigError(`RAFT_ID ${JSON.stringify(id)} is not one of the members in RAFT_PEERS (${members.map((m) => m.id).join(", ")})`);
  const port = Number(new URL(self.url).port);
  const portVar = env.PORT?.trim();
  if (portVar && portVar !== String(port)) throw new ConfigError(`PORT=${portVar} disagrees with RAFT_PEERS, which says ${id} is at ${self.url}: leave PORT unset, or make them agree`);

  const min = readWholeNumber(env, "ELECTION_TIMEOUT_MIN_MS", DEFAULT_ELECTION_TIMEOUT.min, { min: 1, max: 60_000 });
  const max = readWholeNumber(env, "ELECTION_TIMEOUT_MAX_MS", Math.max(DEFAULT_ELECTION_TIMEOUT.max, min), { min: 1, max: 60_000 });
  if (max < min) throw new ConfigError(`ELECTION_TIMEOUT_MAX_MS (${max}) must be at least ELECTION_TIMEOUT_MIN_MS (${min})`);
  const heartbeatIntervalMs = readWholeNumber(env, "HEARTBEAT_MS", DEFAULT_HEARTBEAT_MS, { min: 1, max: 60_000 });
  if (heartbeatIntervalMs >= min) throw new ConfigError(`HEARTBEAT_MS (${heartbeatIntervalMs}) must be below ELECTION_TIMEOUT_MIN_MS (${min}): followers would stand for election between heartbeats`);

  return {
    id,
    members,
    url: self.url,
    port,
    group: groupId(members),
    dataDir: env.DATA_DIR?.trim() || undefined,
    electionTimeout: { min, max },
    heartbeatIntervalMs,
    commitTimeoutMs: readWholeNumber(env, "COMMIT_TIMEOUT_MS", 5_000, { min: 1, max: 600_000 }),
    preVote: readChoice(env, "PRE_VOTE", ["true", "false"], "true") === "true",
  };
}

/** Parses RAFT_PEERS, "n1=http://127.0.0.1:4000,n2=http://127.0.0.1:4001,...", checking each member and that none repeats. */
function readMembers(raw: string | undefined): Member[] {
  const example = "n1=http://127.0.0.1:4000,n2=http://127.0.0.1:4001,n3=http://127.0.0.1:4002";
  if (!raw?.trim()) throw new ConfigError(`RAFT_PEERS is required: every member of the group, this node included, such as ${example}`);
  const members = raw.split(",").map((part): Member => {
    const [id, url, ...rest] = part.trim().split("=");
    if (!id || !url || rest.length > 0 || !ID.test(id)) throw new ConfigError(`RAFT_PEERS: ${JSON.stringify(part.trim())} is not id=url, such as n1=http://127.0.0.1:4000 (ids: letters, digits, _ and -)`);
    return { id, url: readMemberUrl(id, url) };
  });
  for (const key of ["id", "url"] as const) {
    const twice = members.find((m, i) => members.findIndex((other) => other[key] === m[key]) !== i);
    if (twice) throw new ConfigError(`RAFT_PEERS names ${key === "id" ? "the id" : "the URL"} ${twice[key]} twice: each member needs its own`);
  }
  return members;
}

function readMemberUrl(id: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`RAFT_PEERS: ${id}'s URL ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== "http:" || !LOOPBACK.has(url.hostname) || !url.port || url.pathname !== "/" || url.search || url.hash) {
    throw new ConfigError(`RAFT_PEERS: ${id}'s URL ${JSON.stringify(raw)} must be a loopback base URL with a port, such as http://127.0.0.1:4000 (the group listens on this machine only)`);
  }
  return `http://${url.host}`;
}

/** The group's id: the first 12 hex digits of a digest of its members, in id order. */
export function groupId(members: readonly Member[]): string {
  const text = [...members].sort((a, b) => (a.id < b.id ? -1 : 1)).map((m) => `${m.id}=${m.url}`).join(",");
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}
