import { createChangeFeed, watchRoute } from "@lab/node";
import type { TimerClock } from "@lab/raft";
import { Router } from "express";

/** How often a node reads its own status while a watcher is held: far below an election timeout (150 ms), so a new term shows at once. */
export const CHECK_MS = 20;

/**
 * `GET /watch?version=V&waitMs=W`: the node's `/status` and a version, with the contract of every
 * other node's `/watch` (it is packages/node's route): asked with the version it has, a watcher
 * is held until what it would see changes, or W ms pass. So the dashboard watches a Raft group
 * as it watches a leader and its followers, and an idle group costs it one held request per node.
 * (`ids`, the orders a leader-follower node adds to its view, is checked and changes nothing here.)
 *
 * The Raft server does not say when its state changes: its timer and its peers' messages change
 * it inside. So while at least one watcher is held, the node reads its own status every CHECK_MS,
 * and the version moves only when that reads differently. A heartbeat changes nothing there, and
 * while nobody watches, nothing runs.
 */
export function raftWatchRoute({ clock, status }: { clock: TimerClock; status(): object }): Router {
  const feed = createChangeFeed(clock, () => JSON.stringify(status()));
  let held = 0;
  let stopLooking = new AbortController();
  const look = async (signal: AbortSignal) => {
    while (!signal.aborted) {
      feed.changed();
      await clock.sleep(CHECK_MS, signal);
    }
  };

  const router = Router();
  router.get("/watch", (_req, res, next) => {
    if (held++ === 0) {
      stopLooking = new AbortController();
      void look(stopLooking.signal);
    }
    res.once("close", () => {
      if (--held === 0) stopLooking.abort();
    });
    next();
  });
  router.use(watchRoute(feed, () => status()));
  return router;
}
