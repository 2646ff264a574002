import type { Envelope } from "../messages.ts";
import { randomInt } from "./seeded-random.ts";

/**
 * The network of a simulated group: every message is delivered after a random latency, so
 * messages overtake each other, unless a link is cut (a node disconnected, or the group
 * partitioned) or the message is dropped at random. A cut link loses what is on it, both ways.
 * Time is the harness's: the network only says when the next delivery is due.
 */
export interface SimulatedNetwork<C> {
  send(message: Envelope<C>, now: number): void;
  /** When the next message is due; Infinity when none is in flight. */
  nextDeliveryAt(): number;
  /** The next message due at or before `now`, if its link still holds (else it is dropped and undefined comes back). */
  takeDue(now: number): Envelope<C> | undefined;
  /** Cuts every link to and from `id`. */
  disconnect(id: string): void;
  reconnect(id: string): void;
  /** Only nodes in the same group can talk; nodes in none of them talk to nobody. */
  partition(groups: readonly (readonly string[])[]): void;
  /** Reconnects everyone and ends any partition. */
  heal(): void;
  canTalk(a: string, b: string): boolean;
  isDisconnected(id: string): boolean;
  /** The chance (0 to 1) that a message is lost, and that one is delivered twice. */
  dropRate: number;
  duplicateRate: number;
  /** Calls `listener` with every message delivered, for tests of what went over the wire; returns a function that stops it. */
  watch(listener: (message: Envelope<C>) => void): () => void;
}

export function createSimulatedNetwork<C>({ random, latencyMs }: { random: () => number; latencyMs: { min: number; max: number } }): SimulatedNetwork<C> {
  // In flight, ordered by delivery time, then by when it was sent.
  let inFlight: { at: number; seq: number; message: Envelope<C> }[] = [];
  let seq = 0;
  const disconnected = new Set<string>();
  let groupOf: Map<string, number> | undefined;
  let watchers: ((message: Envelope<C>) => void)[] = [];

  const canTalk = (a: string, b: string) => !disconnected.has(a) && !disconnected.has(b) && (groupOf === undefined || (groupOf.has(a) && groupOf.get(a) === groupOf.get(b)));
  const enqueue = (message: Envelope<C>, at: number) => {
    const item = { at, seq: seq++, message };
    let i = inFlight.length;
    while (i > 0 && inFlight[i - 1]!.at > at) i--;
    inFlight.splice(i, 0, item);
  };

  const network: SimulatedNetwork<C> = {
    dropRate: 0,
    duplicateRate: 0,
    send(message, now) {
      if (!canTalk(message.from, message.to) || random() < network.dropRate) return;
      enqueue(message, now + randomInt(random, latencyMs.min, latencyMs.max));
      if (random() < network.duplicateRate) enqueue(message, now + randomInt(random, latencyMs.min, latencyMs.max));
    },
    nextDeliveryAt: () => inFlight[0]?.at ?? Number.POSITIVE_INFINITY,
    takeDue(now) {
      if (!inFlight.length || inFlight[0]!.at > now) return undefined;
      const { message } = inFlight.shift()!;
      if (!canTalk(message.from, message.to)) return undefined;
      for (const watcher of watchers) watcher(message);
      return message;
    },
    disconnect: (id) => void disconnected.add(id),
    reconnect: (id) => void disconnected.delete(id),
    partition(groups) {
      groupOf = new Map(groups.flatMap((group, i) => group.map((id) => [id, i] as const)));
    },
    heal() {
      disconnected.clear();
      groupOf = undefined;
    },
    canTalk,
    watch(listener) {
      watchers = [...watchers, listener];
      return () => void (watchers = watchers.filter((w) => w !== listener));
    },
    isDisconnected: (id) => disconnected.has(id),
  };
  return network;
}
