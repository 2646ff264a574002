import { createReadSession, sendJson, type SessionReply } from "./read-session.ts";

export type { SessionReply } from "./read-session.ts";

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
 *   WAIT_FOR_EXECUTED_GTID_SET), and go to the leader only if the follower times out: a
 *   read session with the `read-your-writes` guarantee (read-session.ts).
 *
 * The session's token is the `event.offset` every write reply carries.
 */
export function createReadYourWritesClient({ leaderUrl, followerUrl, stickyMs = 5000, now = Date.now }: ReadYourWritesOptions) {
  const session = createReadSession({ leaderUrl, followerUrls: [followerUrl], guarantee: "read-your-writes" });
  let lastWriteAt = Number.NEGATIVE_INFINITY;

  return {
    /** The offset of this session's last acknowledged write, if it wrote anything. */
    get lastWriteOffset() {
      return session.lastWriteOffset;
    },

    /** Sends a write to the leader and remembers when, and at which offset, it landed. */
    async write(path: string, body: unknown): Promise<SessionReply> {
      const reply = await session.write(path, body);
      if (reply.status < 300) lastWriteAt = now();
      return reply;
    },

    /** Reads from the leader within `stickyMs` of this session's last write, from the follower otherwise. */
    read(path: string): Promise<SessionReply> {
      const fromLeader = now() - lastWriteAt < stickyMs;
      return fromLeader ? sendJson("leader", new URL(path, leaderUrl)) : sendJson("follower", new URL(path, followerUrl));
    },

    /**
     * Reads from the follower once it has applied this session's last write, waiting up to
     * `timeoutMs` there; if the follower cannot promise that in time (or is down), reads from the leader.
     */
    readWithMinOffset(path: string, { timeoutMs = 2000 }: { timeoutMs?: number } = {}): Promise<SessionReply> {
      return session.read(path, { timeoutMs });
    },
  };
}

export type ReadYourWritesClient = ReturnType<typeof createReadYourWritesClient>;
