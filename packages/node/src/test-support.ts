// Helpers shared by the follower's unit tests (not a test file itself: vitest only runs *.test.ts).
import type { Order, OrderEvent, OrderEventType } from "@lab/orders";
import type { EventsReply, LogEntry } from "@lab/replication";
import { fakeClient as genericFakeClient, reply as genericReply, type FakeClient as GenericFakeClient, type Step } from "@lab/replication/testing";

export { flushPromises, LEADER_URL, LOG_ID, snapshotReply } from "@lab/replication/testing";

/** One log entry as the leader would send it. */
export function entry(offset: number, type: OrderEventType, orderId: string, at: number): LogEntry<OrderEvent> {
  return { offset, type, orderId, at };
}

/** A `GET /events` reply from the leader starting at `from`; `head` defaults to just past the last event. */
export function reply(from: number, events: LogEntry<OrderEvent>[], head = from + events.length, extra: Partial<EventsReply<OrderEvent>> = {}): EventsReply<OrderEvent> {
  return genericReply(from, events, head, extra);
}

export type FakeClient = GenericFakeClient<OrderEvent, Order[]>;

/** A log client for a follower of orders whose replies a test scripts. */
export function fakeClient(steps: Step<OrderEvent>[] = []): FakeClient {
  return genericFakeClient<OrderEvent, Order[]>(steps);
}
