import { applyEvent, checkOrderId, createOrders, decide, type Order, type OrderCommand, type OrderEvent, type Refusal } from "@lab/orders";
import type { CommittedEntry } from "@lab/raft";

/**
 * What the Raft log holds here: a client's command and the leader's clock when it took it.
 *
 * Not the event `decide` would make of it: with Raft, a command is decided when it is applied, on
 * every node alike, at lastApplied. Deciding on the leader before appending would decide against
 * a state that entries still on their way to commit will change: two creates of one order, both
 * in the log before either is applied, would both pass, and the second would not fit when
 * applied. `at` is fixed once, by the leader, so that every node decides the same.
 */
export interface OrderEntry {
  command: OrderCommand;
  at: number;
}

/** What applying an entry came to: the order as it now stands and the event, or the refusal. */
export type Applied = { ok: true; order: Order; event: OrderEvent } | ({ ok: false } & Refusal);

const COMMANDS = new Set(["create", "confirm", "cancel"]);

/** Checks an entry's command as it came from a peer; a sentence saying what is wrong, or undefined. */
export function checkOrderEntry(value: unknown): string | undefined {
  const entry = value as Partial<OrderEntry> | null;
  if (typeof entry !== "object" || entry === null) return "must be an object such as {\"command\":{\"type\":\"create\",\"orderId\":\"o-1\"},\"at\":1700000000000}";
  if (!Number.isSafeInteger(entry.at)) return `at must be a time in ms, got ${JSON.stringify(entry.at)}`;
  if (!COMMANDS.has(entry.command?.type as string)) return `command.type must be create, confirm or cancel, got ${JSON.stringify(entry.command?.type)}`;
  const id = checkOrderId(entry.command!.orderId);
  return id.ok ? undefined : `command.orderId: ${id.message}`;
}

/**
 * The lab's orders as the state machine of a Raft group: every committed entry, in index order,
 * decided and applied with the one `applyEvent` every node of the lab uses. A refusal (an order
 * that exists, a transition that is not allowed) is an outcome like any other: the same on every
 * node, and nothing changes.
 */
export function createOrdersMachine() {
  const orders = createOrders();
  return {
    orders,
    apply(entry: CommittedEntry<OrderEntry>): Applied | undefined {
      if (!("command" in entry)) return undefined; // a leader's no-op
      const decision = decide(orders, entry.command.command, entry.command.at);
      if (!decision.ok) return decision;
      return { ok: true, order: applyEvent(orders, decision.event), event: decision.event };
    },
  };
}
