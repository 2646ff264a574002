import type { Clock } from "@lab/service";
import { request, type Dispatcher } from "undici";

/** How long the node may hold a watch while the cluster is idle (it answers sooner when something changes). */
const WATCH_WAIT_MS = 25_000;
/** While the cluster is busy, a round of asking every node starts every ROUND_MS, from the start of one to the start of the next: five updates a second, four or more even when the nodes are slow to answer. */
export const ROUND_MS = 200;
/** How long a round waits for a node: past that it counts as not answering, so that one stuck node does not stop the page for the others. */
const ROUND_ANSWER_MS = 1000;

export type View = Record<string, unknown>;

export interface WatchOptions<N extends { url: string }> {
  /** The nodes to watch, each asked at its `url`. */
  nodes: readonly N[];
  dispatcher: Dispatcher;
  clock: Clock;
  /** The orders to ask every node about. */
  ids(): string[];
  /** Whether the cluster is busy (things change with time even without events: lag grows). */
  busy(): boolean;
  /** A node's view; null when it did not answer. Nothing is pushed from here: see onChange. */
  onView(node: N, view: View | null): void;
  /** Views came in (one held watch answered, or a round is in): the pages are to get the state. */
  onChange(): void;
}

/**
 * Watches every node's `GET /watch`. While the cluster is idle each node is asked with the
 * version it has and holds the request until its view changes, and its answer goes to the pages
 * at once: an idle cluster costs one held request per node and nothing else. While the cluster
 * is busy the nodes are asked together, one round every ROUND_MS, and the pages get the state
 * once per round, when every node of it has answered (or failed, or taken too long): lag that
 * grows with time shows as it grows, and a busy cluster costs each node one request a round,
 * whatever its views bring. A node that does not answer is reported as null and left out of
 * the asking for a growing pause.
 */
export function watchNodes<N extends { url: string }>({ nodes, dispatcher, clock, ids, busy, onView, onChange }: WatchOptions<N>) {
  const watched = nodes.map((node) => ({ node, version: 0, failures: 0, retryAt: 0 }));
  type Watched = (typeof watched)[number];
  const stopping = new AbortController();
  /** Aborted by wake(), or by a held view that makes the cluster busy: lets go of the held watches, or skips the pause before the next round. */
  let woken = new AbortController();

  /** Asks a node once, held (with the version it has) or not, and reports its view, or null when it does not answer (or its view cannot be taken in); false when the asking was called off. */
  const ask = async (w: Watched, held: boolean, signal: AbortSignal): Promise<boolean> => {
    const query = new URLSearchParams({ version: String(held ? w.version : 0), waitMs: String(held ? WATCH_WAIT_MS : 0) });
    const asked = ids();
    if (asked.length) query.set("ids", asked.join(","));
    try {
      const timeouts = held ? {} : { headersTimeout: ROUND_ANSWER_MS, bodyTimeout: ROUND_ANSWER_MS };
      const reply = await request(`${w.node.url}/watch?${query}`, { dispatcher, signal, ...timeouts });
      const view = (await reply.body.json()) as View & { version?: number };
      if (reply.statusCode !== 200 || typeof view.version !== "number") throw new Error(`watch answered ${reply.statusCode}`);
      w.version = view.version;
      w.failures = 0;
      onView(w.node, view);
    } catch {
      if (signal.aborted) return false;
      w.failures++;
      w.retryAt = clock.now() + Math.min(2000, 250 * 2 ** Math.min(w.failures, 3));
      onView(w.node, null);
    }
    return true;
  };

  /** Idle: every node holds a watch, each answer on the pages at once. Returns when a view makes the cluster busy, or on wake(). */
  const hold = async () => {
    const phase = (woken = new AbortController());
    await Promise.all(
      watched.map(async (w) => {
        while (!phase.signal.aborted) {
          if (w.retryAt > clock.now()) await clock.sleep(w.retryAt - clock.now(), phase.signal);
          if (phase.signal.aborted || !(await ask(w, true, phase.signal))) return;
          onChange();
          if (busy()) phase.abort(); // the others are asked again at once, in rounds
        }
      }),
    );
  };

  /** Busy: rounds of asking every node (but those pausing after a failure), the pages told once per round. Returns when the cluster is idle. */
  const rounds = async () => {
    while (!stopping.signal.aborted && busy()) {
      const { signal } = (woken = new AbortController());
      const start = clock.now();
      await Promise.all(watched.filter((w) => w.retryAt <= start).map((w) => ask(w, false, stopping.signal)));
      if (stopping.signal.aborted) return;
      onChange();
      await clock.sleep(start + ROUND_MS - clock.now(), signal);
    }
  };

  void (async () => {
    while (!stopping.signal.aborted) await (busy() ? rounds() : hold());
  })();

  return {
    /** Every node is asked again at once (a control was used): a held watch is let go, the pause before the next round and after a failure cut short. */
    wake() {
      for (const w of watched) w.retryAt = 0;
      woken.abort();
    },
    stop() {
      stopping.abort();
      woken.abort();
    },
  };
}
