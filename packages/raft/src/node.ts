import { acceptAppendEntries } from "./append-entries.ts";
import { advanceCommitIndex, majority } from "./commit.ts";
import { decidePreVote, decideVote, DEFAULT_ELECTION_TIMEOUT, DEFAULT_HEARTBEAT_MS, randomElectionTimeout, type ElectionTimeout, type Voter } from "./election.ts";
import { createRaftLog, type LogEntry } from "./log.ts";
import type { AppendEntries, AppendEntriesReply, Envelope, PreVote, PreVoteReply, RaftMessage, RequestVote, RequestVoteReply } from "./messages.ts";
import { confirmReads, type PendingRead } from "./read-index.ts";
import { expireBatch, newProgress, takeBatch, takeReply, type Progress } from "./replication.ts";
import type { CommittedEntry, Proposal, Ready, ReadState } from "./ready.ts";
import type { PersistentState } from "./storage.ts";

export type Role = "follower" | "pre-candidate" | "candidate" | "leader";

export interface RaftStatus {
  id: string;
  role: Role;
  currentTerm: number;
  votedFor: string | null;
  /** The leader this node follows in currentTerm (itself when it leads), or null while it knows none. */
  leaderId: string | null;
  lastLogIndex: number;
  lastLogTerm: number;
  commitIndex: number;
  lastApplied: number;
  /** On the leader, what it knows of each follower. */
  peers?: { id: string; nextIndex: number; matchIndex: number }[];
}

export interface RaftNodeOptions<C> {
  id: string;
  /** The other members' ids. Every member must be given the same group. */
  peers: readonly string[];
  /** What storage held: a restarted node begins from it, as a follower. */
  persisted?: PersistentState<C> | undefined;
  /** Only `now()` is used: the node keeps deadlines and the caller calls `tick` when one is due. */
  clock: { now(): number };
  /** In [0, 1), for the election timeouts; seeded in tests. */
  random: () => number;
  electionTimeout?: ElectionTimeout | undefined;
  /** How often the leader sends AppendEntries when it has nothing else to send; well below electionTimeout.min. Default 50 ms. */
  heartbeatIntervalMs?: number | undefined;
  /** The most entries one AppendEntries carries. Default 128. */
  maxEntriesPerAppend?: number | undefined;
  /** Ask for pre-votes before standing (thesis §9.6). Default true. */
  preVote?: boolean | undefined;
  /** A leader that has not heard from a majority within electionTimeout.max steps down (thesis §6.2). Default true. */
  checkQuorum?: boolean | undefined;
  /** One line per election, vote and step-down. */
  logLine?: ((line: string) => void) | undefined;
}

export interface RaftNode<C> {
  readonly id: string;
  /** Time has passed: start an election, or send heartbeats, if a deadline is due. */
  tick(): void;
  /** A message from another member arrived. Messages not addressed to this node, or from outside the group, change nothing. */
  receive(message: Envelope<C>): void;
  /** On the leader, appends `command` to the log; it is committed later, or lost if leadership is. */
  propose(command: C): Proposal;
  /** Asks to serve a linearizable read; the answer comes in a later Ready's `reads`. */
  readIndex(id: number): void;
  takeReady(): Ready<C>;
  /** When `tick` has something to do next. */
  nextDeadline(): number;
  status(): RaftStatus;
}

/**
 * A Raft node as a state machine: its inputs are `tick`, `receive`, `propose` and `readIndex`;
 * its outputs wait in `takeReady`. It does no I/O and keeps no timers, so the same code runs
 * under a simulation that decides when each message arrives and when time passes, and in a
 * server whose clock and sockets are real.
 *
 * The rules are Figure 2 of the Raft paper plus pre-vote, checkQuorum, the leader's no-op entry
 * and the read index from Ongaro's thesis. Each concept has its own file (election.ts,
 * append-entries.ts, replication.ts, commit.ts, read-index.ts); this one keeps the state and the
 * role changes between them.
 */
export function createRaftNode<C>(options: RaftNodeOptions<C>): RaftNode<C> {
  const { id, clock, random } = options;
  const peers = [...options.peers];
  const members = new Set([id, ...peers]);
  if (members.size !== peers.length + 1) throw new Error(`the members of ${id}'s group must be distinct and not include ${id} as a peer, got peers ${JSON.stringify(peers)}`);
  const timeout = options.electionTimeout ?? DEFAULT_ELECTION_TIMEOUT;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS;
  const maxEntries = options.maxEntriesPerAppend ?? 128;
  const preVote = options.preVote ?? true;
  const checkQuorum = options.checkQuorum ?? true;
  const logLine = options.logLine ?? (() => {});
  const now = () => clock.now();

  // Persistent state (Figure 2), saved through the Ready before any message that depends on it.
  const persisted = options.persisted ?? { currentTerm: 0, votedFor: null, log: [] };
  let currentTerm = persisted.currentTerm;
  let votedFor = persisted.votedFor;
  const log = createRaftLog<C>(persisted.log);

  // Volatile state.
  let role: Role = "follower";
  let leaderId: string | null = null;
  let commitIndex = 0;
  let lastApplied = 0;
  let electionDeadline = 0;
  let leaderHeardAt = Number.NEGATIVE_INFINITY;
  let votes = new Set<string>();
  // On the leader.
  let progress = new Map<string, Progress>();
  let heartbeatDeadline = 0;
  let round = 0;
  let pendingReads: PendingRead[] = [];

  // What the next Ready holds.
  let hardStateChanged = false;
  let unsavedFrom: number | undefined;
  let outbox: Envelope<C>[] = [];
  let reads: ReadState[] = [];
  const wantAppend = new Set<string>(); // followers to send an AppendEntries when the Ready is taken

  const say = (line: string) => logLine(`term ${currentTerm}: ${line}`);
  const send = (to: string, message: RaftMessage<C>) => void outbox.push({ ...message, from: id, to } as Envelope<C>);
  const position = () => ({ lastLogIndex: log.lastLogIndex, lastLogTerm: log.lastLogTerm });
  const resetElectionTimer = () => void (electionDeadline = now() + randomElectionTimeout(random, timeout));
  const setTerm = (term: number, vote: string | null) => {
    currentTerm = term;
    votedFor = vote;
    hardStateChanged = true;
  };
  const hasMajority = (count: number) => count >= majority(members.size);
  resetElectionTimer();

  /**
   * Becomes a follower, of `leader` if known. The election timer is left alone (Figure 2 resets it
   * only for the current leader's AppendEntries, a vote granted, or an election begun): were a
   * newer term enough, a node that cannot win would keep everyone else from standing.
   */
  function becomeFollower(leader: string | null) {
    if (role === "leader") {
      for (const read of pendingReads) reads.push({ id: read.id, ok: false, leaderId: leader });
      pendingReads = [];
      progress = new Map();
      wantAppend.clear();
      resetElectionTimer(); // a leader's timer was not running
    }
    role = "follower";
    leaderId = leader;
    votes = new Set();
  }

  /** Election timeout: ask for pre-votes first, or stand at once. */
  function startElection() {
    if (!preVote) return becomeCandidate();
    role = "pre-candidate";
    leaderId = null;
    votes = new Set([id]);
    resetElectionTimer();
    say(`election timeout: asking for pre-votes for term ${currentTerm + 1}`);
    for (const peer of peers) send(peer, { type: "PreVote", term: currentTerm + 1, candidateId: id, ...position() });
    if (hasMajority(votes.size)) becomeCandidate();
  }

  function becomeCandidate() {
    setTerm(currentTerm + 1, id);
    role = "candidate";
    leaderId = null;
    votes = new Set([id]);
    resetElectionTimer();
    say(`standing for election (votedFor ${id}), asking for votes`);
    for (const peer of peers) send(peer, { type: "RequestVote", term: currentTerm, candidateId: id, ...position() });
    if (hasMajority(votes.size)) becomeLeader();
  }

  function becomeLeader() {
    role = "leader";
    leaderId = id;
    say(`won the election with votes from ${[...votes].join(", ")} (of ${members.size}): leader`);
    progress = new Map(peers.map((peer) => [peer, newProgress(log.lastLogIndex, now())]));
    appendOwn({ term: currentTerm, noop: true });
    startRound();
  }

  /** Sends every follower an AppendEntries now (with whatever entries it lacks) and restarts the heartbeat. */
  function startRound() {
    round++;
    heartbeatDeadline = now() + heartbeatIntervalMs;
    for (const [peer, p] of progress) {
      expireBatch(p, now(), heartbeatIntervalMs);
      wantAppend.add(peer);
    }
    advanceCommit(); // alone in its group, the leader commits by itself
  }

  function appendOwn(entry: LogEntry<C>) {
    log.append(entry);
    unsavedFrom = Math.min(unsavedFrom ?? log.lastLogIndex, log.lastLogIndex);
  }

  function advanceCommit() {
    const next = advanceCommitIndex({ commitIndex, currentTerm, lastLogIndex: log.lastLogIndex, matchIndexes: [...progress.values()].map((p) => p.matchIndex), termAt: log.termAt });
    if (next > commitIndex) {
      commitIndex = next;
      // Followers learn the new commitIndex with their next AppendEntries: now, unless one is on its way.
      for (const [peer, p] of progress) if (!p.inflight) wantAppend.add(peer);
      confirmPendingReads(); // a first commit in this term may be what a read waited for
    }
  }

  function confirmPendingReads() {
    if (pendingReads.length === 0) return;
    const { confirmed, waiting } = confirmReads(pendingReads, { groupSize: members.size, peerRounds: [...progress.values()].map((p) => p.round), committedInTerm: log.termAt(commitIndex) === currentTerm });
    pendingReads = [...waiting];
    for (const read of confirmed) reads.push({ id: read.id, ok: true, index: commitIndex });
  }

  const voter = (): Voter => ({
    currentTerm,
    votedFor,
    ...position(),
    hearsFromLeader: role === "leader" || (role === "follower" && leaderId !== null && now() - leaderHeardAt < timeout.min),
  });

  function onRequestVote(m: RequestVote & { from: string }) {
    const decision = decideVote(voter(), m);
    if (decision.granted) {
      if (votedFor !== m.candidateId) setTerm(currentTerm, m.candidateId);
      resetElectionTimer();
    }
    say(`${decision.granted ? "voted for" : "refused to vote for"} ${m.candidateId}: ${decision.reason}`);
    send(m.from, { type: "RequestVoteReply", term: currentTerm, voteGranted: decision.granted });
  }

  function onPreVote(m: PreVote & { from: string }) {
    const decision = decidePreVote(voter(), m);
    say(`${decision.granted ? "granted" : "refused"} ${m.candidateId} a pre-vote for term ${m.term}: ${decision.reason}`);
    send(m.from, { type: "PreVoteReply", term: decision.granted ? m.term : currentTerm, voteGranted: decision.granted });
  }

  function onRequestVoteReply(m: RequestVoteReply & { from: string }) {
    if (role !== "candidate" || m.term !== currentTerm || !m.voteGranted) return;
    votes.add(m.from);
    if (hasMajority(votes.size)) becomeLeader();
  }

  function onPreVoteReply(m: PreVoteReply & { from: string }) {
    if (role !== "pre-candidate" || m.term !== currentTerm + 1 || !m.voteGranted) return;
    votes.add(m.from);
    if (hasMajority(votes.size)) becomeCandidate();
  }

  function onAppendEntries(m: AppendEntries<C> & { from: string }) {
    const reply = (r: Omit<AppendEntriesReply, "type" | "term" | "round">) => send(m.from, { type: "AppendEntriesReply", term: currentTerm, round: m.round, ...r });
    if (m.term < currentTerm) return reply({ success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0 }); // a deposed leader: our term tells it so
    if (role === "leader") throw new Error(`two leaders in term ${currentTerm}: ${id} and ${m.leaderId}`);
    if (role !== "follower") {
      say(`${role} steps down: ${m.leaderId} leads term ${currentTerm}`);
      becomeFollower(m.leaderId);
    } else if (leaderId !== m.leaderId) {
      say(`following leader ${m.leaderId}`);
      leaderId = m.leaderId;
    }
    leaderHeardAt = now();
    resetElectionTimer();
    const result = acceptAppendEntries(log, m, commitIndex);
    if (!result.success) return reply({ success: false, matchIndex: 0, conflictIndex: result.conflictIndex, conflictTerm: result.conflictTerm });
    if (result.changedFrom !== undefined) unsavedFrom = Math.min(unsavedFrom ?? result.changedFrom, result.changedFrom);
    // Only up to what this request proved matches: entries past it may still be another leader's.
    commitIndex = Math.max(commitIndex, Math.min(m.leaderCommit, result.matchIndex));
    reply({ success: true, matchIndex: result.matchIndex, conflictIndex: 0, conflictTerm: 0 });
  }

  function onAppendEntriesReply(m: AppendEntriesReply & { from: string }) {
    if (role !== "leader" || m.term !== currentTerm) return;
    const p = progress.get(m.from)!;
    if (takeReply(p, m, log, now())) advanceCommit();
    confirmPendingReads(); // any reply in this term confirms this leadership, for a read, even a failed one
    // The next batch, a retry further back, or the commitIndex it does not know yet (the chapter's second round trip).
    if (!p.inflight && (p.nextIndex <= log.lastLogIndex || p.sentCommit < commitIndex)) wantAppend.add(m.from);
  }

  /** The leader's periodic work: step down without a majority (checkQuorum), else send heartbeats. */
  function leaderTick(t: number) {
    if (t < heartbeatDeadline) return;
    if (checkQuorum) {
      const heard = 1 + [...progress.values()].filter((p) => t - p.lastReplyAt <= timeout.max).length;
      if (!hasMajority(heard)) {
        say(`leader steps down: heard from only ${heard} of ${members.size} members (counting itself) in the last ${timeout.max} ms`);
        return becomeFollower(null);
      }
    }
    startRound();
  }

  return {
    id,
    tick() {
      const t = now();
      if (role === "leader") leaderTick(t);
      else if (t >= electionDeadline) startElection();
    },
    receive(m) {
      if (m.to !== id || m.from === id || !members.has(m.from)) return;
      // All servers (Figure 2): a newer term in any request or reply makes this node a follower
      // in it. Pre-vote traffic is the exception: asking and granting change no term.
      const preVoteTraffic = m.type === "PreVote" || (m.type === "PreVoteReply" && m.voteGranted);
      if (m.term > currentTerm && !preVoteTraffic) {
        const [was, wasTerm] = [role, currentTerm];
        setTerm(m.term, null);
        becomeFollower(m.type === "AppendEntries" ? m.leaderId : null);
        if (was !== "follower") say(`${was} steps down: ${m.from} sent ${m.type} in term ${m.term}, newer than its term ${wasTerm}`);
        else if (m.type === "AppendEntries") say(`following leader ${m.leaderId}`); // a follower that was away, or never heard this term's election
      }
      switch (m.type) {
        case "RequestVote":
          return onRequestVote(m);
        case "PreVote":
          return onPreVote(m);
        case "RequestVoteReply":
          return onRequestVoteReply(m);
        case "PreVoteReply":
          return onPreVoteReply(m);
        case "AppendEntries":
          return onAppendEntries(m);
        case "AppendEntriesReply":
          return onAppendEntriesReply(m);
      }
    },
    propose(command) {
      if (role !== "leader") return { ok: false, leaderId };
      appendOwn({ term: currentTerm, command });
      for (const [peer, p] of progress) if (!p.inflight) wantAppend.add(peer); // the others get it with the reply to what they have
      advanceCommit();
      return { ok: true, index: log.lastLogIndex, term: currentTerm };
    },
    readIndex(readId) {
      if (role !== "leader") return void reads.push({ id: readId, ok: false, leaderId });
      pendingReads.push({ id: readId, round: round + 1 });
      startRound();
      confirmPendingReads(); // alone in its group, the leader confirms by itself
    },
    takeReady() {
      for (const peer of wantAppend) {
        const p = progress.get(peer)!;
        const prevLogIndex = p.nextIndex - 1;
        const entries = takeBatch(p, log, maxEntries, now());
        send(peer, { type: "AppendEntries", term: currentTerm, leaderId: id, prevLogIndex, prevLogTerm: log.termAt(prevLogIndex)!, entries, leaderCommit: commitIndex, round });
        p.sentCommit = commitIndex;
      }
      wantAppend.clear();
      const committed: CommittedEntry<C>[] = [];
      for (let index = lastApplied + 1; index <= commitIndex; index++) {
        const entry = log.entryAt(index);
        committed.push("command" in entry ? { index, term: entry.term, command: entry.command } : { index, term: entry.term, noop: true });
      }
      lastApplied = commitIndex;
      const ready: Ready<C> = {
        ...(hardStateChanged ? { hardState: { currentTerm, votedFor } } : {}),
        ...(unsavedFrom !== undefined ? { entries: { from: unsavedFrom, entries: log.entriesFrom(unsavedFrom) } } : {}),
        messages: outbox,
        committed,
        reads,
      };
      hardStateChanged = false;
      unsavedFrom = undefined;
      outbox = [];
      reads = [];
      return ready;
    },
    nextDeadline: () => (role === "leader" ? heartbeatDeadline : electionDeadline),
    status: () => ({
      id,
      role,
      currentTerm,
      votedFor,
      leaderId,
      ...position(),
      commitIndex,
      lastApplied,
      ...(role === "leader" ? { peers: [...progress].map(([peer, p]) => ({ id: peer, nextIndex: p.nextIndex, matchIndex: p.matchIndex })) } : {}),
    }),
  };
}
