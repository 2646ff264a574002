import { request } from "undici";

/** A reply, and which node gave it. */
export interface SessionReply {
  servedBy: "leader" | "follower";
  status: number;
  body: unknown;
}

export interface ReadYourWritesOptions {
  leaderUrl: string;
  followerUrl: string;
  /**
   * How long after this session's last write its reads go to the leader. It must outlast the
   * follower's lag, which nobody can promise: that is the weakness `readWithMinOffset` fixes.
   */
  stickyMs?: number;
  /** The clock, in milliseconds; `Date.now` unless a test passes its own. */
  now?: () => number;
}

/**
 * A client session that reads its own writes while reading mostly from a follower (the chapter's
 * exercise B). Writes always go to the leader. Two ways to keep a read from going back in time:
 *
 * - `read`: for `stickyMs` after its own write, read from the leader; afterwards, the follower.
 *   Simple, and right as long as the follower's lag stays under `stickyMs`.
 * - `readWithMinOffset`: ask the follower to wait until it has applied the offset of this
 *   session's last write (`?minOffset=`, like PostgreSQL's WAIT FOR LSN or MySQL's
 *   WAIT_FOR_EXECUTED_GTID_SET), and go to the leader only if the follower times out.
 *
 * The session's token is the `event.offset` every write reply carries.
 */
export function createReadYourWritesClient({ leaderUrl, followerUrl, stickyMs = 5000, now = Date.now }: ReadYourWritesOptions) {
  let lastWriteAt = Number.NEGATIVE_INFINITY;
  let lastWriteOffset: number | undefined;

  const send = async (servedBy: SessionReply["servedBy"], url: URL, method = "GET", body?: unknown): Promise<SessionReply> => {
    const reply = await request(url, {
      method: method as "GET" | "POST",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? null : JSON.stringify(body),
    });
    return { servedBy, status: reply.statusCode, body: await reply.body.json() };
  };

  return {
    /** The offset of this session's last acknowledged write, if it wrote anything. */
    get lastWriteOffset() {
      return lastWriteOffset;
    },

    /** Sends a write to the leader and remembers when, and at which offset, it landed. */
    async write(path: string, body: unknown): Promise<SessionReply> {
      const reply = await send("leader", new URL(path, leaderUrl), "POST", body);
      const offset = (reply.body as { event?: { offset?: unknown } } | null)?.event?.offset;
      if (reply.status < 300 && typeof offset === "number") {
        lastWriteAt = now();
        lastWriteOffset = offset;
      }
      return reply;
    },

    /** Reads from the leader within `stickyMs` of this session's last write, from the follower otherwise. */
    read(path: string): Promise<SessionReply> {
      const fromLeader = now() - lastWriteAt < stickyMs;
      return fromLeader ? send("leader", new URL(path, leaderUrl)) : send("follower", new URL(path, followerUrl));
    },

    /**
     * Reads from the follower once it has applied this session's last write, waiting up to
     * `timeoutMs` there; if the follower cannot promise that in time (or is down), reads from the leader.
     */
    async readWithMinOffset(path: string, { timeoutMs = 2000 }: { timeoutMs?: number } = {}): Promise<SessionReply> {
      const url = new URL(path, followerUrl);
      if (lastWriteOffset !== undefined) {
        url.searchParams.set("minOffset", String(lastWriteOffset));
        url.searchParams.set("timeoutMs", String(timeoutMs));
      }
      try {
        const reply = await send("follower", url);
        if (reply.status !== 503 && reply.status !== 504) return reply;
      } catch {
        // The follower is down: the leader can always answer.
      }
      return send("leader", new URL(path, leaderUrl));
    },
  };
}

export type ReadYourWritesClient = ReturnType<typeof createReadYourWritesClient>;
