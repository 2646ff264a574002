// Helpers for testing code built on this package: a manual clock, a scripted log client and
// reply builders. Generic over the event type, so this package's tests and the apps' share them
// (`@lab/replication/testing`); nothing here is used outside tests.
import type { LogEntry } from "./log.ts";
import type { AckRequest, EventsReply, NodeReply, SnapshotReply } from "./protocol.ts";
import type { FetchOptions, LogClient } from "./log-client.ts";
import type { WaitClock } from "./tail-waiters.ts";

export const LEADER_URL = "http://leader.test:3000";
export const LOG_ID = "0123456789abcdef";

/** A manual clock, small enough to keep this package free of the lab's own (it imports nothing of ours). */
export function manualClock(start = 0) {
  let now = start;
  let sleeps: { at: number; wake(): void }[] = [];
  const clock: WaitClock & { advance(ms: number): void; readonly sleeping: number } = {
    now: () => now,
    sleep(ms, signal) {
      if (ms <= 0 || signal?.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const sleep = { at: now + ms, wake: () => resolve() };
        sleeps.push(sleep);
        signal?.addEventListener("abort", () => {
          sleeps = sleeps.filter((s) => s !== sleep);
          resolve();
        });
      });
    },
    timer(ms, fire) {
      let cancelled = false;
      const sleep = { at: now + ms, wake: () => queueMicrotask(() => cancelled || fire()) };
      if (ms <= 0) sleep.wake();
      else sleeps.push(sleep);
      return () => {
        cancelled = true;
        sleeps = sleeps.filter((s) => s !== sleep);
      };
    },
    advance(ms) {
      now += ms;
      const due = sleeps.filter((s) => s.at <= now);
      sleeps = sleeps.filter((s) => s.at > now);
      for (const s of due) s.wake();
    },
    get sleeping() {
      return sleeps.length;
    },
  };
  return clock;
}

/** A `GET /events` reply from a leader starting at `from`; `head` defaults to just past the last event. */
export function reply<E>(from: number, events: LogEntry<E>[], head = from + events.length, extra: Partial<EventsReply<E>> = {}): EventsReply<E> {
  return { ok: true, leader: true, nodeId: "leader", chain: ["leader"], logId: LOG_ID, start: 0, from, nextFrom: from + events.length, head, heldMs: 0, stalenessMs: 0, events, ...extra };
}

/** A `GET /snapshot` reply. */
export function snapshotReply<S>(offset: number, state: S, logId = LOG_ID): SnapshotReply<S> {
  return { ok: true, leader: true, logId, offset, state };
}

/** What the fake client does on one fetch: answer, throw, or hang until the fetch is aborted. */
export type Step<E> = EventsReply<E> | Error | "hang";

export interface FakeClient<E, S = unknown> extends LogClient<E, S> {
  /** Every fetch, in order, with what it asked for. */
  readonly calls: ({ from: number } & Omit<FetchOptions, "signal">)[];
  /** Every ack sent. */
  readonly acks: AckRequest[];
  /** How many hanging fetches were aborted. */
  readonly aborted: number;
  /** Queues what the next fetches do, one step per fetch. */
  script(...steps: Step<E>[]): void;
  /** Queues what the next snapshot fetches return (or throw). */
  scriptSnapshots(...snapshots: (SnapshotReply<S> | Error)[]): void;
  /** What `describeNode` answers (or throws); a leader of epoch 0 by default. */
  describeAs(node: NodeReply | Error): void;
  /** Resolves once `count` fetches have been made. */
  whenCalled(count: number): Promise<void>;
}

/** A LogClient whose replies a test scripts; a fetch with nothing scripted fails loudly. */
export function fakeClient<E, S = unknown>(steps: Step<E>[] = [], leaderUrl = LEADER_URL): FakeClient<E, S> {
  const queue = [...steps];
  const snapshots: (SnapshotReply<S> | Error)[] = [];
  const calls: FakeClient<E, S>["calls"] = [];
  const acks: AckRequest[] = [];
  let watchers: { count: number; resolve: () => void }[] = [];
  let aborted = 0;
  let described: NodeReply | Error = { ok: true, nodeId: "leader", role: "leader", chain: ["leader"], epoch: 0, logId: LOG_ID, head: 0 };

  return {
    leaderUrl,
    describeAs: (node) => void (described = node),
    async describeNode() {
      if (described instanceof Error) throw described;
      return structuredClone(described);
    },
    calls,
    acks,
    get aborted() {
      return aborted;
    },
    script: (...more) => void queue.push(...more),
    scriptSnapshots: (...more) => void snapshots.push(...more),
    whenCalled(count) {
      return new Promise((resolve) => {
        if (calls.length >= count) resolve();
        else watchers.push({ count, resolve });
      });
    },
    async fetchEvents(from, { signal, ...options } = {}) {
      calls.push({ from, ...options });
      const ready = watchers.filter((w) => calls.length >= w.count);
      watchers = watchers.filter((w) => calls.length < w.count);
      for (const w of ready) w.resolve();

      const step = queue.shift();
      if (step === undefined) throw new Error(`fake client: no reply scripted for fetch #${calls.length} (from=${from})`);
      if (step instanceof Error) throw step;
      if (step === "hang") {
        return new Promise<never>((_resolve, reject) => {
          const abort = () => {
            aborted++;
            reject(new DOMException("the fetch was aborted", "AbortError"));
          };
          if (signal?.aborted) abort();
          else signal?.addEventListener("abort", abort, { once: true });
        });
      }
      return structuredClone(step);
    },
    async openStream() {
      throw new Error("fake client: streams are not scripted; test them against a real node");
    },
    async fetchSnapshot() {
      const next = snapshots.shift();
      if (next === undefined) throw new Error("fake client: no snapshot scripted");
      if (next instanceof Error) throw next;
      return structuredClone(next);
    },
    async sendAck(ack) {
      acks.push(ack);
    },
    close: async () => {},
  };
}

/** Lets every queued promise callback run (one turn of the event loop; no time passes). */
export function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
