import { createRaftNode, type RaftNode, type RaftNodeOptions, type RaftStatus } from "./node.ts";
import type { Envelope } from "./messages.ts";
import type { CommittedEntry, ReadState } from "./ready.ts";
import type { RaftStorage } from "./storage.ts";

/** Time for a server: the node's `now`, and a sleep that an AbortSignal cuts short (it never rejects). */
export interface TimerClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** What a proposal came to: applied (with what applying it returned), or not. */
export type Outcome<R> =
  | { ok: true; index: number; term: number; result: R }
  /** NOT_LEADER: refused at once. LOST: accepted, then replaced by another leader's entry, so never applied. STOPPED: the server stopped first. */
  | { ok: false; code: "NOT_LEADER" | "LOST" | "STOPPED"; leaderId: string | null };

export interface RaftServerOptions<C, R> extends Omit<RaftNodeOptions<C>, "persisted" | "clock"> {
  storage: RaftStorage<C>;
  clock: TimerClock;
  /** Hands a message to the transport. Delivery may fail, come late or twice: Raft copes. */
  send(message: Envelope<C>): void;
  /** The state machine: applies one committed entry (a no-op too), in index order; its result goes to the proposal's caller. */
  apply(entry: CommittedEntry<C>): R;
}

/**
 * A Raft node at work in a process: it carries out every Ready (save, send, apply, answer), keeps
 * one timer armed for the node's next deadline, and turns proposals and reads into promises.
 *
 * Everything that arrives in one turn of the event loop (messages, proposals, reads) is taken in
 * before one Ready is carried out: one save (one fsync) and one AppendEntries per follower for all
 * of it. That is what batches writes under load.
 *
 * A proposal resolves once its entry is applied here, at the index and term it was given: the
 * chapter's "wait for it on the commit channel". It fails as LOST once it never can be: another
 * entry was applied at its index, or one of a later term before it (terms only grow along a log).
 */
export function createRaftServer<C, R>(options: RaftServerOptions<C, R>) {
  const { storage, clock, send, apply } = options;
  const node: RaftNode<C> = createRaftNode<C>({ ...options, persisted: storage.load(), clock });
  const waiting = new Map<number, { term: number; resolve(outcome: Outcome<R>): void }>();
  const reads = new Map<number, (state: ReadState) => void>();
  let nextReadId = 1;
  let appliedTerm = 0;
  let flushQueued = false;
  let stopped = false;
  /** Resolves once the next flush has run: what `receive` returns (see there). */
  let nextFlush: { promise: Promise<void>; resolve(): void } | undefined;
  let timer: { deadline: number; abort: AbortController } | undefined;
  /** Told after every flush: every change to the node's state (a message, a tick, a proposal) is carried out in one. */
  const flushed = new Set<() => void>();

  function queueFlush() {
    if (flushQueued || stopped) return;
    flushQueued = true;
    setImmediate(flush);
  }

  function flush() {
    flushQueued = false;
    if (stopped) return;
    const taken = nextFlush;
    nextFlush = undefined;
    const ready = node.takeReady();
    storage.save(ready);
    for (const message of ready.messages) send(message);
    for (const entry of ready.committed) settle(entry, apply(entry));
    for (const read of ready.reads) {
      reads.get(read.id)?.(read);
      reads.delete(read.id);
    }
    armTimer();
    taken?.resolve();
    for (const listener of flushed) listener();
  }

  function settle(entry: CommittedEntry<C>, result: R) {
    const mine = waiting.get(entry.index);
    if (mine) {
      waiting.delete(entry.index);
      mine.resolve(mine.term === entry.term ? { ok: true, index: entry.index, term: entry.term, result } : lost());
    }
    if (entry.term > appliedTerm) {
      appliedTerm = entry.term;
      for (const [index, w] of waiting) {
        if (w.term < entry.term) {
          waiting.delete(index);
          w.resolve(lost());
        }
      }
    }
  }
  const lost = (): Outcome<R> => ({ ok: false, code: "LOST", leaderId: node.status().leaderId });

  /** Keeps one sleep armed until the node's next deadline, re-armed when the deadline moves. */
  function armTimer() {
    const deadline = node.nextDeadline();
    if (stopped || timer?.deadline === deadline) return;
    timer?.abort.abort();
    const armed = { deadline, abort: new AbortController() };
    timer = armed;
    void clock.sleep(Math.max(0, deadline - clock.now()), armed.abort.signal).then(() => {
      if (armed.abort.signal.aborted || stopped) return;
      timer = undefined;
      node.tick();
      flush();
    });
  }

  return {
    id: node.id,
    /** Arms the election timer: until then the node only answers. */
    start: () => armTimer(),
    /**
     * A message from a peer (already checked: see parse-message.ts). Resolves once the flush that
     * takes it in has run, so every message that answers it has been handed to `send`: a
     * transport can carry those back in the response to the request that brought it. It also
     * resolves if the server stops first (having sent nothing).
     */
    receive(message: Envelope<C>): Promise<void> {
      if (stopped) return Promise.resolve();
      node.receive(message);
      queueFlush();
      if (!nextFlush) {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => (resolve = r));
        nextFlush = { promise, resolve };
      }
      return nextFlush.promise;
    },
    /** Proposes `command`; resolves once it is applied here, or is known never to be. */
    propose(command: C): Promise<Outcome<R>> {
      if (stopped) return Promise.resolve({ ok: false, code: "STOPPED", leaderId: null });
      const proposal = node.propose(command);
      if (!proposal.ok) return Promise.resolve({ ok: false, code: "NOT_LEADER", leaderId: proposal.leaderId });
      queueFlush();
      return new Promise((resolve) => waiting.set(proposal.index, { term: proposal.term, resolve }));
    },
    /**
     * A linearizable read: resolves with the read index once this node has confirmed it still
     * leads (thesis §6.4), by which time everything up to it is applied; or with who leads instead.
     */
    readIndex(): Promise<ReadState> {
      if (stopped) return Promise.resolve({ id: 0, ok: false, leaderId: null });
      const id = nextReadId++;
      node.readIndex(id);
      queueFlush();
      return new Promise((resolve) => reads.set(id, resolve));
    },
    status: (): RaftStatus => node.status(),
    /** Calls `listener` after every flush, when the status may read differently; returns a function that unsubscribes. */
    onFlushed(listener: () => void): () => void {
      flushed.add(listener);
      return () => flushed.delete(listener);
    },
    /** Stops the timer and answers every proposal and read still waiting; takes no more input. */
    stop() {
      stopped = true;
      timer?.abort.abort();
      for (const w of waiting.values()) w.resolve({ ok: false, code: "STOPPED", leaderId: null });
      for (const [id, resolve] of reads) resolve({ id, ok: false, leaderId: null });
      waiting.clear();
      reads.clear();
      nextFlush?.resolve();
      nextFlush = undefined;
    },
  };
}

export type RaftServer<C, R> = ReturnType<typeof createRaftServer<C, R>>;
