import { request, type Dispatcher } from "undici";

/** How long the node may hold a watch while the cluster is idle (it answers sooner when something changes). */
const WATCH_WAIT_MS = 25_000;
/** How often a node is asked while the cluster is busy: at least four updates a second. */
export const TICK_MS = 250;

export interface WatchOptions {
  url: string;
  dispatcher: Dispatcher;
  /** The orders to ask the node about. */
  ids(): string[];
  /** Whether the cluster is busy (things change with time even without events: lag grows). */
  busy(): boolean;
  /** Each view the node answers with; null while it does not answer. */
  onView(view: Record<string, unknown> | null): void;
}

/**
 * Watches one node's `GET /watch`. While the cluster is idle it asks with the version it has,
 * and the node holds the request until its view changes: an idle cluster costs one held
 * request per node and nothing else. While the cluster is busy it asks every TICK_MS, so lag
 * that grows with time shows as it grows. A node that does not answer is reported as null and
 * asked again with a growing pause.
 */
export function watchNode({ url, dispatcher, ids, busy, onView }: WatchOptions) {
  let version = 0;
  let stopped = false;
  let held: AbortController | undefined;
  let pause: AbortController | undefined;
  let failures = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      pause = new AbortController();
      const timer = setTimeout(resolve, ms);
      pause.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });

  const loop = async () => {
    while (!stopped) {
      const waiting = !busy();
      held = waiting ? new AbortController() : undefined;
      const query = new URLSearchParams({ version: String(waiting ? version : 0), waitMs: String(waiting ? WATCH_WAIT_MS : 0) });
      const asked = ids();
      if (asked.length) query.set("ids", asked.join(","));
      try {
        const reply = await request(`${url}/watch?${query}`, { dispatcher, ...(held ? { signal: held.signal } : {}) });
        const view = (await reply.body.json()) as Record<string, unknown> & { version?: number };
        if (reply.statusCode !== 200 || typeof view.version !== "number") throw new Error(`watch answered ${reply.statusCode}`);
        version = view.version;
        failures = 0;
        onView(view);
        if (busy()) await sleep(TICK_MS);
      } catch {
        if (stopped) return;
        if (held?.signal.aborted) continue; // woken: ask again at once
        failures++;
        onView(null);
        await sleep(Math.min(2000, 250 * 2 ** Math.min(failures, 3)));
      }
    }
  };
  void loop();

  return {
    url,
    /** Asks again at once: a held watch is let go (the cluster just became busy, or new orders are to be shown). */
    wake() {
      held?.abort();
      pause?.abort();
    },
    stop() {
      stopped = true;
      held?.abort();
      pause?.abort();
    },
  };
}
