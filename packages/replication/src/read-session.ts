import { request } from "undici";

/**
 * What a session is promised about its reads, and so where they may go:
 * - `any`: any follower, in turn; fast and spread out, and a read may go back in time;
 * - `sticky`: always the same follower (monotonic while that follower lives);
 * - `monotonic-reads`: any follower, but never older than what this session has already seen:
 *   it carries the highest offset it has seen and asks with `?minOffset=`;
 * - `read-your-writes`: any follower, but never older than this session's last write;
 * - `bounded-staleness`: any follower that can prove it is at most `maxStalenessMs` behind the
 *   leader (`?maxStalenessMs=`), trying the next one when it cannot.
 * Whenever no follower can keep the promise in time (or none answers), the read goes to the
 * leader, which always can.
 */
export type ReadGuarantee = "any" | "sticky" | "monotonic-reads" | "read-your-writes" | "bounded-staleness";

export const READ_GUARANTEES: readonly ReadGuarantee[] = ["any", "sticky", "monotonic-reads", "read-your-writes", "bounded-staleness"];

/** A reply, and which node gave it. */
export interface SessionReply {
  servedBy: "leader" | "follower";
  /** The URL of the node that answered. */
  url: string;
  status: number;
  body: unknown;
}

export interface ReadSessionOptions {
  leaderUrl: string;
  followerUrls: readonly string[];
  guarantee: ReadGuarantee;
  /** For `bounded-staleness`: how stale a read may be. */
  maxStalenessMs?: number;
  /** For `monotonic-reads` and `read-your-writes`: how long a follower may wait to catch up before the session gives up on it. */
  timeoutMs?: number;
  /** For `sticky`: which follower this session sticks to (default the first). */
  stickTo?: number;
}

/**
 * A client session that reads from followers as far as its guarantee allows and writes to the
 * leader: the chapter's closing question, "where should a read go?", as code. It remembers
 * the offset of its last write (every write reply carries `event.offset`) and the highest offset
 * any of its reads reflected (`appliedOffset` in every read reply, the leader's included).
 */
export function createReadSession({ leaderUrl, followerUrls, guarantee, maxStalenessMs = 1000, timeoutMs = 2000, stickTo = 0 }: ReadSessionOptions) {
  if (followerUrls.length === 0) throw new Error("a read session needs at least one follower URL");
  let lastWriteOffset: number | undefined;
  let highestSeen: number | undefined;
  let turn = 0;

  const noteSeen = (offset: unknown) => {
    if (typeof offset === "number" && Number.isSafeInteger(offset)) highestSeen = Math.max(highestSeen ?? -1, offset);
  };

  const send = async (servedBy: SessionReply["servedBy"], url: URL, method: "GET" | "POST" = "GET", body?: unknown): Promise<SessionReply> => {
    const reply = await sendJson(servedBy, url, method, body);
    if (reply.status < 300) noteSeen((reply.body as { appliedOffset?: unknown } | null)?.appliedOffset);
    return reply;
  };

  /** The followers to try for this read, in order: one for `sticky`, all (starting with the next in turn) otherwise. */
  const candidates = () => {
    if (guarantee === "sticky") return [followerUrls[stickTo % followerUrls.length]!];
    const first = turn++ % followerUrls.length;
    return [...followerUrls.slice(first), ...followerUrls.slice(0, first)];
  };

  /** The query that states this session's guarantee to a follower. */
  const conditions = (waitMs: number): Record<string, number> => {
    if (guarantee === "bounded-staleness") return { maxStalenessMs };
    const minOffset = guarantee === "monotonic-reads" ? highestSeen : guarantee === "read-your-writes" ? lastWriteOffset : undefined;
    return minOffset === undefined ? {} : { minOffset, timeoutMs: waitMs };
  };

  return {
    guarantee,
    /** The offset of this session's last acknowledged write, if it wrote anything. */
    get lastWriteOffset() {
      return lastWriteOffset;
    },
    /** The highest offset this session has seen reflected in a read (or written). */
    get highestSeen() {
      return highestSeen;
    },

    /** Sends a write to the leader and remembers its offset. */
    async write(path: string, body?: unknown): Promise<SessionReply> {
      const reply = await send("leader", new URL(path, leaderUrl), "POST", body);
      const offset = (reply.body as { event?: { offset?: unknown } } | null)?.event?.offset;
      if (reply.status < 300 && typeof offset === "number") {
        lastWriteOffset = offset;
        noteSeen(offset);
      }
      return reply;
    },

    /**
     * Reads `path` from the first follower that keeps this session's promise, or from the
     * leader. With `any`, the first follower in turn answers, however stale. `timeoutMs`
     * overrides the session's for this read.
     */
    async read(path: string, options: { timeoutMs?: number } = {}): Promise<SessionReply> {
      const query = conditions(options.timeoutMs ?? timeoutMs);
      const tryEach = guarantee === "bounded-staleness"; // each follower proves its own freshness; the others only wait
      for (const base of candidates()) {
        const url = new URL(path, base);
        for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
        try {
          const reply = await send("follower", url);
          if (reply.status !== 503 && reply.status !== 504) return reply;
          if (!tryEach) break;
        } catch {
          // That follower is down: try the next, or the leader.
        }
      }
      return send("leader", new URL(path, leaderUrl));
    },
  };
}

export type ReadSession = ReturnType<typeof createReadSession>;

/** Sends one request and parses its JSON reply, noting which node answered. */
export async function sendJson(servedBy: SessionReply["servedBy"], url: URL, method: "GET" | "POST" = "GET", body?: unknown): Promise<SessionReply> {
  const reply = await request(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
  });
  return { servedBy, url: url.origin, status: reply.statusCode, body: await reply.body.json() };
}
