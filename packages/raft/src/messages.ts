import type { LogEntry } from "./log.ts";

/**
 * The RPCs of the Raft paper (Figure 2) and of pre-vote (Ongaro's thesis, §9.6), as messages.
 * A request and its reply are two separate messages, not a call that blocks: a node may send
 * many requests before any reply comes back, and replies may be lost, late or duplicated. So
 * every reply carries what its receiver needs to act on it alone (the term it answers in, the
 * `matchIndex` it reached, the `round` it answers).
 */

/** Sent by a candidate to ask for a vote in `term` (§5.2). */
export interface RequestVote {
  type: "RequestVote";
  /** The candidate's term. */
  term: number;
  candidateId: string;
  /** Index and term of the candidate's last log entry, for the election restriction (§5.4.1). */
  lastLogIndex: number;
  lastLogTerm: number;
}

export interface RequestVoteReply {
  type: "RequestVoteReply";
  /** The voter's currentTerm, so that a candidate behind the times steps down. */
  term: number;
  voteGranted: boolean;
}

/**
 * Sent by a pre-candidate before it becomes a candidate: "would you vote for me in `term`?".
 * Answering changes nothing on the voter (no term, no votedFor), so a node that cannot win, such
 * as one cut off from the others, never raises its term and never disrupts a healthy leader.
 */
export interface PreVote {
  type: "PreVote";
  /** The term it would stand in: its currentTerm + 1. */
  term: number;
  candidateId: string;
  lastLogIndex: number;
  lastLogTerm: number;
}

export interface PreVoteReply {
  type: "PreVoteReply";
  /** The term asked about when granted; the voter's currentTerm when refused. */
  term: number;
  voteGranted: boolean;
}

/** Sent by the leader to replicate entries, and empty as a heartbeat (§5.3). */
export interface AppendEntries<C> {
  type: "AppendEntries";
  term: number;
  leaderId: string;
  /** Index and term of the entry just before `entries`: the follower's log must hold it (the consistency check). */
  prevLogIndex: number;
  prevLogTerm: number;
  /** The entries from prevLogIndex + 1 on; many per message (batching), none for a heartbeat. */
  entries: LogEntry<C>[];
  /** The leader's commitIndex. */
  leaderCommit: number;
  /**
   * Which round of this leader's messages this one belongs to; the reply echoes it. A read
   * index waits for a majority to answer a round that began after the read (thesis §6.4).
   */
  round: number;
}

export interface AppendEntriesReply {
  type: "AppendEntriesReply";
  term: number;
  /** Whether the follower's log held prevLogIndex with prevLogTerm, and now holds the entries after it. */
  success: boolean;
  /** On success, the last index the follower's log now has in common with the leader's. */
  matchIndex: number;
  /**
   * On failure, where the leader should look next: the follower's first index of the term that
   * conflicts (`conflictTerm`, 0 when its log is simply too short), so that one reply skips a
   * whole term instead of one entry (§5.3, at the end).
   */
  conflictIndex: number;
  conflictTerm: number;
  round: number;
}

/** Any of the messages, without its addresses. */
export type RaftMessage<C> = RequestVote | RequestVoteReply | PreVote | PreVoteReply | AppendEntries<C> | AppendEntriesReply;

/** A message with who sent it and who it is for: what a transport carries. */
export type Envelope<C> = RaftMessage<C> & { from: string; to: string };

/** The message types, in the order a learner meets them. */
export const MESSAGE_TYPES = ["RequestVote", "RequestVoteReply", "PreVote", "PreVoteReply", "AppendEntries", "AppendEntriesReply"] as const;
