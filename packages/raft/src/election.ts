import { isAtLeastAsUpToDate, type LogPosition } from "./log.ts";
import type { PreVote, RequestVote } from "./messages.ts";

/** The range an election timeout is drawn from, in ms. */
export interface ElectionTimeout {
  min: number;
  max: number;
}

/** The chapter's range: 150-300 ms, a few heartbeats (50 ms) long. */
export const DEFAULT_ELECTION_TIMEOUT: ElectionTimeout = { min: 150, max: 300 };
/** How often a leader sends heartbeats when it has nothing else to send: well below the election timeout. */
export const DEFAULT_HEARTBEAT_MS = 50;

/**
 * Draws a randomized election timeout (§5.2). Each node draws its own, again at every reset, so
 * that one of them usually times out well before the others, wins, and sends heartbeats before
 * anyone else stands: split votes are rare and do not repeat. `random` is in [0, 1).
 */
export function randomElectionTimeout(random: () => number, { min, max }: ElectionTimeout): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** What a voter knows when a request for its vote arrives. */
export interface Voter extends LogPosition {
  currentTerm: number;
  votedFor: string | null;
  /**
   * It is the leader, or heard from a leader of its term less than a minimum election timeout
   * ago: that leader is alive, so it refuses a pre-vote (thesis §9.6).
   */
  hearsFromLeader: boolean;
}

/** A voter's answer, and a few words saying why, for its log line. */
export type VoteDecision = { granted: boolean; reason: string };

const position = (p: LogPosition) => `${p.lastLogIndex}@${p.lastLogTerm}`;

/**
 * Decides a RequestVote (Figure 2, "RequestVote RPC: receiver implementation"). The caller has
 * already moved to the request's term if it was newer, so `request.term` is at most
 * `currentTerm` here. One vote per term, first come first served, and only for a candidate whose
 * log is at least as up-to-date.
 */
export function decideVote(voter: Voter, request: RequestVote): VoteDecision {
  if (request.term < voter.currentTerm) return { granted: false, reason: `its term ${request.term} is older than ours` };
  if (voter.votedFor !== null && voter.votedFor !== request.candidateId) return { granted: false, reason: `already voted for ${voter.votedFor} in term ${voter.currentTerm}` };
  if (!isAtLeastAsUpToDate(request, voter)) return { granted: false, reason: `its log (last entry ${position(request)}) is behind ours (${position(voter)})` };
  return { granted: true, reason: `its log (last entry ${position(request)}) is at least as up-to-date as ours (${position(voter)})` };
}

/**
 * Decides a PreVote: would this voter grant a RequestVote for `request.term` now? The same
 * election restriction, plus two refusals that keep a node which cannot win from forcing an
 * election: the term it proposes must be newer than ours, and we must not be hearing from a
 * leader. Nothing is recorded either way.
 */
export function decidePreVote(voter: Voter, request: PreVote): VoteDecision {
  if (request.term <= voter.currentTerm) return { granted: false, reason: `the term it proposes, ${request.term}, is not newer than ours` };
  if (voter.hearsFromLeader) return { granted: false, reason: "we still hear from a leader" };
  if (!isAtLeastAsUpToDate(request, voter)) return { granted: false, reason: `its log (last entry ${position(request)}) is behind ours (${position(voter)})` };
  return { granted: true, reason: `no leader heard from, and its log (last entry ${position(request)}) is at least as up-to-date as ours (${position(voter)})` };
}
