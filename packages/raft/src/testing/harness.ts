import { isDeepStrictEqual } from "node:util";
import type { ElectionTimeout } from "../election.ts";
import { createRaftNode, type RaftNode, type RaftStatus } from "../node.ts";
import type { CommittedEntry, Proposal, ReadState } from "../ready.ts";
import { createMemoryStorage, type RaftStorage } from "../storage.ts";
import { createSimulatedNetwork, type SimulatedNetwork } from "./network.ts";
import { createSafetyChecker } from "./safety.ts";
import { seededRandom } from "./seeded-random.ts";

export interface HarnessOptions<C> {
  /** How many members; default 3. Their ids are n1, n2, ... */
  nodes?: number;
  /** Seeds every random choice (election timeouts, latencies, drops); default 1. */
  seed?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxEntriesPerAppend?: number;
  electionTimeout?: ElectionTimeout;
  heartbeatIntervalMs?: number;
  /** One-way latency of each message; default 1-5 ms. */
  latencyMs?: { min: number; max: number };
  /**
   * Opens a node's storage, at its first start and again at each restart (after `close`, at its
   * crash): on disk, each restart reads back what is there. Default: one storage in memory per
   * node, kept across its restarts.
   */
  openStorage?: (id: string) => RaftStorage<C> & { close?(): void };
}

/** How long `checkSingleLeader` and the `waitFor` helpers let simulated time run before failing. */
const WITHIN_MS = 3_000;

/**
 * A Raft group in one process, after eliben/raft's Harness: N nodes, each with its own storage,
 * on a simulated network that the test can cut, partition and make lossy, all on one simulated
 * clock. Nothing runs between the test's lines: time moves only inside `runFor` and the
 * `waitFor...`/`check...` helpers, which run the simulation event by event (each message
 * delivered, each deadline ticked, each Ready carried out), so a story reads top to bottom and
 * fails the same way every time it fails.
 *
 * While it runs, it checks Raft's safety properties at every step (safety.ts), and a failure
 * says the seed, the time, every node's state and the last log lines.
 */
export function createHarness<C = number>(options: HarnessOptions<C> = {}) {
  const size = options.nodes ?? 3;
  const seed = options.seed ?? 1;
  const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  const random = seededRandom(seed);
  const network: SimulatedNetwork<C> = createSimulatedNetwork<C>({ random: seededRandom(seed + 1), latencyMs: options.latencyMs ?? { min: 1, max: 5 } });
  const inMemory = new Map<string, RaftStorage<C>>(ids.map((id) => [id, createMemoryStorage<C>()]));
  const openStorage = options.openStorage ?? ((id: string) => inMemory.get(id)!);
  const storage = new Map<string, RaftStorage<C> & { close?(): void }>();
  const nodes = new Map<string, RaftNode<C>>();
  /** What each node has applied since it last started (a restart rebuilds its state from its log). */
  const applied = new Map<string, CommittedEntry<C>[]>(ids.map((id) => [id, []]));
  const proposals: { command: C; node: string; index: number; term: number }[] = [];
  const reads = new Map<number, ReadState & { node: string; appliedThen: number }>();
  const dieAtNextReady = new Set<string>();
  const lines: string[] = [];
  let now = 0;
  let nextReadId = 1;

  const fail = (message: string): never => {
    const statuses = ids.map((id) => {
      const node = nodes.get(id);
      if (!node) return `${id}: crashed`;
      const { role, currentTerm, leaderId, lastLogIndex, lastLogTerm, commitIndex, lastApplied, peers } = node.status();
      const progress = peers ? `; ${peers.map((p) => `${p.id} next ${p.nextIndex} match ${p.matchIndex}`).join(", ")}` : "";
      return `${id}: ${role} of term ${currentTerm} (leader ${leaderId}), log ${lastLogIndex}@${lastLogTerm}, commitIndex ${commitIndex}, lastApplied ${lastApplied}${progress}`;
    });
    const tail = lines.slice(-Number(process.env.RAFT_LOG_LINES ?? 25));
    throw new Error(`${message} (seed ${seed}, at ${now} ms)\nnodes:\n${statuses.join("\n")}\nlast log lines:\n${tail.join("\n")}`);
  };

  const safety = createSafetyChecker<C>(fail);
  const { history } = safety;

  function start(id: string) {
    storage.set(id, openStorage(id));
    const node = createRaftNode<C>({
      id,
      peers: ids.filter((p) => p !== id),
      persisted: storage.get(id)!.load(),
      clock: { now: () => now },
      random,
      electionTimeout: options.electionTimeout,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      maxEntriesPerAppend: options.maxEntriesPerAppend,
      preVote: options.preVote,
      checkQuorum: options.checkQuorum,
      logLine: (line) => lines.push(`${String(now).padStart(6)} ms ${id}: ${line}`),
    });
    nodes.set(id, node);
    applied.set(id, []);
  }
  ids.forEach(start);

  /** Carries out a node's Ready as a server would: save, then send, then apply; and checks what it did. */
  function carryOut(id: string) {
    const node = nodes.get(id)!;
    const recorded = safety.isLeaderOf(id, node.status().currentTerm);
    const ready = node.takeReady();
    storage.get(id)!.save(ready);
    if (dieAtNextReady.delete(id)) {
      lines.push(`${String(now).padStart(6)} ms ${id}: crashed after saving, before sending ${ready.messages.length} messages`);
      return stop(id);
    }
    for (const message of ready.messages) network.send(message, now);
    const mine = applied.get(id)!;
    for (const entry of ready.committed) {
      safety.applied(id, mine.length, entry);
      mine.push(entry);
    }
    for (const read of ready.reads) reads.set(read.id, { ...read, node: id, appliedThen: mine.length });
    const { role, currentTerm } = node.status();
    if (role === "leader" && !recorded) safety.becameLeader(id, currentTerm, storage.get(id)!.load().log);
  }

  function stop(id: string) {
    nodes.delete(id);
    storage.get(id)!.close?.();
  }

  /** Runs the simulation until `now + ms`, event by event in time order: deliveries first, then due deadlines. */
  function runFor(ms: number) {
    const end = now + ms;
    for (;;) {
      const deadlines = [...nodes.values()].map((n) => n.nextDeadline());
      const next = Math.min(network.nextDeliveryAt(), ...deadlines);
      if (next > end) break;
      now = Math.max(now, next);
      if (network.nextDeliveryAt() <= now) {
        const message = network.takeDue(now);
        const to = message && nodes.get(message.to);
        if (to) {
          to.receive(message!);
          carryOut(message!.to);
        }
        continue;
      }
      for (const [id, node] of nodes) {
        if (node.nextDeadline() > now) continue;
        node.tick();
        carryOut(id);
      }
    }
    now = end;
  }

  /** Runs 10 ms at a time until `check` returns something, failing after WITHIN_MS with `what`. */
  function waitFor<T>(what: string, check: () => T | undefined, withinMs = WITHIN_MS): T {
    for (const end = now + withinMs; ; ) {
      const got = check();
      if (got !== undefined) return got;
      if (now >= end) return fail(`${what}: not within ${withinMs} ms`);
      runFor(10);
    }
  }

  const alive = () => ids.filter((id) => nodes.has(id));
  /** Alive and not disconnected: eliben's "connected". */
  const connected = () => alive().filter((id) => !network.isDisconnected(id));
  const status = (id: string): RaftStatus => (nodes.get(id) ?? fail(`${id} is not running`)).status();
  const leadersAmong = (among: readonly string[]) => among.filter((id) => nodes.get(id)?.status().role === "leader");

  const harness = {
    ids,
    seed,
    network,
    lines,
    history,
    proposals,
    get now() {
      return now;
    },
    runFor,
    waitFor,
    status,
    alive,
    connected,
    isAlive: (id: string) => nodes.has(id),
    /** When `id` will next act on its own (its election timeout, or its next heartbeat as leader). */
    deadline: (id: string) => (nodes.get(id) ?? fail(`${id} is not running`)).nextDeadline(),
    /** What `id` has applied since it last started, commands only (no-ops left out). */
    commands: (id: string) => applied.get(id)!.flatMap((e) => ("command" in e ? [e.command] : [])),
    applied: (id: string) => applied.get(id)!,

    /** Waits until exactly one of `among` (default: the connected nodes) is a leader, and returns it with its term. */
    checkSingleLeader(among: readonly string[] = connected()) {
      const leaderId = waitFor(`a single leader among ${among.join(", ")}`, () => {
        const leaders = leadersAmong(among);
        return leaders.length === 1 ? leaders[0] : undefined;
      });
      return { leaderId, term: status(leaderId).currentTerm };
    },
    /** Checks that none of `among` (default: the connected nodes) thinks it leads. */
    checkNoLeader(among: readonly string[] = connected()) {
      const leaders = leadersAmong(among);
      if (leaders.length > 0) fail(`${leaders.join(", ")} leads (term ${status(leaders[0]!).currentTerm}); want no leader among ${among.join(", ")}`);
    },
    /**
     * Checks that every one of `among` (default: the connected nodes) has applied `command`, at
     * the same index (all before it agree: the harness checks that at every step). Returns how
     * many have, and the index.
     */
    checkCommitted(command: C, among: readonly string[] = connected()) {
      const indexes = among.map((id) => applied.get(id)!.find((e) => isCommand(e, command))?.index);
      const missing = among.filter((_, i) => indexes[i] === undefined);
      if (missing.length > 0) fail(`${JSON.stringify(command)} is not applied on ${missing.join(", ")}`);
      if (new Set(indexes).size !== 1) fail(`${JSON.stringify(command)} is applied at indexes ${indexes.join(", ")}`);
      return { count: among.length, index: indexes[0]! };
    },
    /** Checks that no running node has applied `command`. */
    checkNotCommitted(command: C) {
      for (const id of alive()) if (applied.get(id)!.some((e) => isCommand(e, command))) fail(`${id} applied ${JSON.stringify(command)}; want it applied nowhere`);
    },
    /** Runs until every one of `among` has applied `command`, then checks it as checkCommitted does. */
    waitCommitted(command: C, among: readonly string[] = connected()) {
      waitFor(`${JSON.stringify(command)} applied on ${among.join(", ")}`, () => (among.every((id) => applied.get(id)!.some((e) => isCommand(e, command))) ? true : undefined));
      return harness.checkCommitted(command, among);
    },
    /**
     * Commits `command` as a careful client does (the chapter's Q&A on Submit): submits it to the
     * leader, and again to the next one only once the entry it was given is known to be lost, so
     * that it is never committed twice. Lost: another entry was committed at its index, or an
     * entry of a later term was committed before it (terms only grow along a log, so nothing of
     * an older term can be committed after that). Returns once every one of `among` has applied it.
     */
    commit(command: C, among: readonly string[] = connected()) {
      let given: Proposal | undefined;
      waitFor(`${JSON.stringify(command)} committed and applied on ${among.join(", ")}`, () => {
        const there = given?.ok ? history[given.index - 1] : undefined;
        const replaced = there !== undefined && (there.term !== (given as { term: number }).term || !isCommand(there, command));
        const overtaken = given?.ok === true && there === undefined && (history.at(-1)?.term ?? 0) > given.term;
        const lost = given !== undefined && (!given.ok || replaced || overtaken);
        if (given === undefined || lost) {
          const leader = leadersAmong(among)[0];
          given = leader === undefined ? undefined : harness.submitToServer(leader, command);
          return undefined;
        }
        return among.every((id) => applied.get(id)!.length >= (given as { index: number }).index) ? true : undefined;
      });
      return harness.checkCommitted(command, among);
    },
    /** Runs until every one of `among` has applied every entry any node has: nothing committed is left to apply. */
    waitApplied(among: readonly string[] = connected()) {
      waitFor(`all ${history.length} entries applied on ${among.join(", ")}`, () => (among.every((id) => applied.get(id)!.length === history.length) ? true : undefined));
    },
    /** Submits `command` to `id`, as a client would (Submit in eliben/raft); the leader's acceptance is recorded. */
    submitToServer(id: string, command: C): Proposal {
      const node = nodes.get(id) ?? fail(`${id} is not running`);
      const proposal = node.propose(command);
      if (proposal.ok) proposals.push({ command, node: id, index: proposal.index, term: proposal.term });
      carryOut(id);
      return proposal;
    },
    /**
     * The proposals acknowledged to their client: applied by the node that accepted them, at the
     * index and term it gave (a server answers the client only then).
     */
    acknowledged() {
      return proposals.filter((p) => {
        const entry = history[p.index - 1];
        return entry?.term === p.term && applied.get(p.node)!.length >= p.index;
      });
    },
    /** Asks `id` for a linearizable read; its answer, once there is one, is `readResult(readId)`. */
    readIndex(id: string): number {
      const readId = nextReadId++;
      (nodes.get(id) ?? fail(`${id} is not running`)).readIndex(readId);
      carryOut(id);
      return readId;
    },
    readResult: (readId: number) => reads.get(readId),

    disconnectPeer: (id: string) => network.disconnect(id),
    reconnectPeer: (id: string) => network.reconnect(id),
    partition: (...groups: string[][]) => network.partition(groups),
    heal: () => network.heal(),
    /** Stops `id` at once: what it saved stays in its storage, what it had not is gone; its messages on the wire still arrive. */
    crashPeer(id: string) {
      if (!nodes.has(id)) fail(`${id} is not running; cannot crash it`);
      stop(id);
      lines.push(`${String(now).padStart(6)} ms ${id}: crashed`);
    },
    /** Makes `id` crash in the middle of its next Ready: after saving, before sending or applying anything. */
    crashAtNextReady: (id: string) => void dieAtNextReady.add(id),
    /** Starts `id` again from its storage, as a follower that has applied nothing yet. */
    restartPeer(id: string) {
      if (nodes.has(id)) fail(`${id} is running; cannot restart it`);
      dieAtNextReady.delete(id);
      start(id);
      lines.push(`${String(now).padStart(6)} ms ${id}: restarted from storage (term ${status(id).currentTerm}, ${status(id).lastLogIndex} entries)`);
    },
    /** Ends every fault: heals the network, makes it reliable, cancels crashes to come, restarts every crashed node. */
    calm() {
      network.heal();
      network.dropRate = 0;
      network.duplicateRate = 0;
      dieAtNextReady.clear();
      for (const id of ids) if (!nodes.has(id)) harness.restartPeer(id);
    },
    /** Stops every node (closing its storage), for a test's end. */
    shutdown: () => alive().forEach(stop),
    /** The log `id` has saved. */
    savedLog: (id: string) => storage.get(id)!.load().log,
    fail,
  };
  return harness;
}

export type Harness<C = number> = ReturnType<typeof createHarness<C>>;

/** Whether `entry` is `command` (and not a no-op). */
function isCommand<C>(entry: CommittedEntry<C>, command: C): boolean {
  return "command" in entry && isDeepStrictEqual(entry.command, command);
}
