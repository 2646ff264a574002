import type { Request, Response } from "express";

/** The most updates a page gets in a second. */
const MAX_UPDATES_PER_SECOND = 10;

export interface PageStreamOptions {
  /** What the pages draw, now. */
  state(): unknown;
  /** The first page opened: start watching the nodes. */
  onFirst(): void;
  /** The last page closed: stop watching them. */
  onLast(): void;
}

/**
 * The pages' feed, `GET /stream` (server-sent events): a page gets the state as soon as it
 * opens, then each new one at most MAX_UPDATES_PER_SECOND times a second, and nothing while the
 * state stays the same. Watching starts with the first page and stops with the last, so that
 * nobody looking costs nothing at all.
 */
export function createPageStream({ state, onFirst, onLast }: PageStreamOptions) {
  const streams = new Set<Response>();
  let lastSentAt = 0;
  let pending: NodeJS.Timeout | undefined;
  let sent = "";

  const broadcast = () => {
    pending = undefined;
    const data = JSON.stringify(state());
    if (data === sent) return;
    sent = data;
    lastSentAt = Date.now();
    for (const res of streams) res.write(`data: ${data}\n\n`);
  };

  return {
    /** The route: `app.get("/stream", stream.route)`. */
    route(req: Request, res: Response) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      res.write(`data: ${JSON.stringify(state())}\n\n`);
      streams.add(res);
      if (streams.size === 1) onFirst();
      req.on("close", () => {
        streams.delete(res);
        if (streams.size === 0) onLast();
      });
    },
    /** The state may have changed: sends it to every page, at most MAX_UPDATES_PER_SECOND times a second. */
    changed() {
      if (pending) return;
      const wait = Math.max(0, lastSentAt + 1000 / MAX_UPDATES_PER_SECOND - Date.now());
      pending = setTimeout(broadcast, wait);
    },
    /** Ends every page's stream. */
    close() {
      if (pending) clearTimeout(pending);
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
