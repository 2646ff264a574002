import type { FollowerView } from "@lab/replication";
import { httpError, readQueryNumber, type Clock } from "@lab/service";
import { Router } from "express";

/**
 * A node's view, versioned: the version moves only when something a watcher would see changes
 * (`bump`, or `changed` when the view's `signature` comes out different). Watchers ask with the
 * version they have and are held until it moves, so a dashboard that watches an idle cluster
 * costs nothing: no request is answered, nothing is computed, until something happens. And
 * while nobody watches, `changed` only marks the view as possibly changed: the signature is
 * worked out when a watcher asks (or, while one is waiting, once per turn of the event loop),
 * never on a hot path nobody looks at.
 */
export function createChangeFeed(clock: Pick<Clock, "sleep">, signature: () => string = () => "") {
  let version = 1;
  let signed = "";
  let dirty = false;
  let checking = false;
  let waiters: (() => void)[] = [];
  const bump = () => {
    version++;
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };
  /** Works out whether the view changed since it was last signed, and moves the version if so. */
  const settle = () => {
    if (!dirty) return;
    dirty = false;
    const next = signature();
    if (next === signed) return;
    signed = next;
    bump();
  };
  return {
    get version() {
      settle();
      return version;
    },
    /** Something visible changed. */
    bump,
    /** Something a watcher might see may have changed: `signature` will tell. */
    changed() {
      dirty = true;
      if (waiters.length === 0 || checking) return;
      checking = true;
      setImmediate(() => {
        checking = false;
        settle();
      });
    },
    /** Resolves once the version is not `seen`, after `ms`, or when `signal` aborts. */
    async wait(seen: number, ms: number, signal?: AbortSignal): Promise<void> {
      settle();
      if (seen !== version || ms <= 0 || signal?.aborted) return;
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      signal?.addEventListener("abort", onAbort, { once: true });
      const wake = () => stop.abort();
      waiters.push(wake);
      await clock.sleep(ms, stop.signal); // a bump, the signal, or the time: whichever comes first
      waiters = waiters.filter((w) => w !== wake);
      signal?.removeEventListener("abort", onAbort);
    },
  };
}

export type ChangeFeed = ReturnType<typeof createChangeFeed>;

/** The longest a watcher may be held. */
export const MAX_WATCH_WAIT_MS = 60_000;
const IDS = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/**
 * `GET /watch?version=V&waitMs=W&ids=o-1,o-2`: the node's view (what a dashboard draws), and its
 * version. With the version a watcher already has, the node holds the request until the view
 * changes or W ms pass (long-polling). `ids` (at most 20) are the orders to show as this node
 * sees them.
 */
export function watchRoute(feed: ChangeFeed, view: (ids: string[]) => object): Router {
  const router = Router();
  router.get("/watch", async (req, res) => {
    const seen = readQueryNumber(req.query, "version", { fallback: 0 });
    const waitMs = readQueryNumber(req.query, "waitMs", { fallback: 0, max: MAX_WATCH_WAIT_MS });
    const raw = req.query.ids;
    if (raw !== undefined && typeof raw !== "string") throw httpError(400, "INVALID_PARAMETER", "ids must be one comma-separated list", { parameter: "ids" });
    const ids = raw ? raw.split(",") : [];
    if (ids.length > 20 || !ids.every((id) => IDS.test(id))) {
      throw httpError(400, "INVALID_PARAMETER", `ids must be at most 20 order ids separated by commas, got ${JSON.stringify(raw)}`, { parameter: "ids" });
    }
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.once("close", onClose);
    await feed.wait(seen, waitMs, gone.signal);
    res.off("close", onClose);
    if (gone.signal.aborted) return;
    res.json({ ok: true, version: feed.version, ...view(ids) });
  });
  return router;
}

/** What a watcher sees of a node's followers, without what changes on every heartbeat (when each was last heard from, whether its fetch is held right now). */
export function followersSignature(rows: FollowerView[]): string {
  return JSON.stringify(rows.map((r) => [r.id, r.via, r.state, r.receivedOffset, r.appliedOffset]));
}
