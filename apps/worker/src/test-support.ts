// Helpers shared by the follower's unit tests (not a test file itself: vitest only runs *.test.ts).
import type { OrderEvent, OrderEventType } from "@lab/orders";
import type { EventsReply, LogClient, LogEntry } from "@lab/replication";

export const LEADER_URL = "http://leader.test:3000";

/** One log entry as the leader would send it. */
export function entry(offset: number, type: OrderEventType, orderId: string, at: number): LogEntry<OrderEvent> {
  return { offset, type, orderId, at };
}

export const LOG_ID = "log-test";

/** A `GET /events` reply starting at `from`; `head` defaults to just past the last event. */
export function reply(from: number, events: LogEntry<OrderEvent>[], head = from + events.length): EventsReply<OrderEvent> {
  // Built as a variable, not returned as a literal, so it type-checks whether or not this
  // version of the protocol has `logId` and `start` (the replication package is being extended).
  const body = { ok: true as const, leader: true as const, logId: LOG_ID, start: 0, from, nextFrom: from + events.length, head, events };
  return body;
}

/** What the fake client does on one fetch: answer, throw, or hang until the fetch is aborted. */
export type Step = EventsReply<OrderEvent> | Error | "hang";

export interface FakeClient extends LogClient<OrderEvent> {
  /** Every fetch, in order, with what it asked for. */
  readonly calls: { from: number; limit: number | undefined }[];
  /** How many hanging fetches were aborted. */
  readonly aborted: number;
  /** Queues what the next fetches do, one step per fetch. */
  script(...steps: Step[]): void;
  /** Resolves once `count` fetches have been made. */
  whenCalled(count: number): Promise<void>;
  /** Not scripted: these tests never resync from a snapshot. */
  fetchSnapshot(options?: { signal?: AbortSignal }): Promise<never>;
}

/** A LogClient whose replies a test scripts; a fetch with nothing scripted fails loudly. */
export function fakeClient(steps: Step[] = [], leaderUrl = LEADER_URL): FakeClient {
  const queue = [...steps];
  const calls: { from: number; limit: number | undefined }[] = [];
  let watchers: { count: number; resolve: () => void }[] = [];
  let aborted = 0;

  return {
    leaderUrl,
    calls,
    get aborted() {
      return aborted;
    },
    script: (...more) => void queue.push(...more),
    whenCalled(count) {
      return new Promise((resolve) => {
        if (calls.length >= count) resolve();
        else watchers.push({ count, resolve });
      });
    },
    async fetchEvents(from, { limit, signal } = {}) {
      calls.push({ from, limit });
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
    fetchSnapshot: async () => {
      throw new Error("fake client: fetchSnapshot is not scripted");
    },
    close: async () => {},
  };
}

/** Lets every queued promise callback run (one turn of the event loop; no time passes). */
export function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
