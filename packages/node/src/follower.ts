import type { Order, OrderEvent } from "@lab/orders";
import { createLogClient, type Link, type LogClient } from "@lab/replication";
import { bootNode, type NodeFiles } from "./boot.ts";
import type { FollowerStatus } from "./follower-role.ts";
import type { LabNode } from "./node.ts";
import type { Clock, LogLine } from "@lab/service";
import type { SyncSettings } from "./sync-policy.ts";

export type { FollowerStatus } from "./follower-role.ts";

/** What a follower is built from. */
export interface FollowerDeps {
  /** How it reads its upstream's log (and, to resync, its snapshot): the leader, or another follower. */
  client: LogClient<OrderEvent, Order[]>;
  /** FOLLOWER_ID: its name in its upstream's `/replication`, in chains, and in its own replies. */
  followerId?: string;
  /** How long each event waits before it is applied (APPLY_LAG_MS). */
  applyLagMs: number;
  /** The pause between fetches when there is nothing new (POLL_INTERVAL_MS); with long-polling, the base of the backoff. */
  pollIntervalMs: number;
  /** LONG_POLL_MS: how long the upstream may hold a fetch until a new event exists; 0 (the default here) polls every pollIntervalMs, as in the chapter. */
  longPollMs?: number;
  /** BATCH_WAIT_MS: with long-polling, the pause after a fetch that brought more than one event, so the next brings a batch; 0 (the default here) fetches again at once. */
  batchWaitMs?: number;
  /** STREAM=1: one stream open to the upstream instead of a fetch per batch (needs longPollMs > 0, its heartbeat). */
  stream?: boolean;
  /** Time and waiting; a test passes a manual clock to decide when the lag elapses. */
  clock?: Clock;
  /** Where log lines go (one per applied event, and outages). */
  logLine?: LogLine;
  /** How many events one fetch asks for. */
  batchLimit?: number;
  /** RETAIN_EVENTS: how many received events it keeps for followers of its own (never fewer than it has yet to apply). */
  retainEvents?: number;
  /** How often, at most, to save the checkpoint while applying. */
  checkpointEveryMs?: number;
  /** FOLLOWER_TIMEOUT_MS: a follower of this one not heard from for this long (and with no fetch held) is disconnected. */
  followerTimeoutMs?: number;
  /** Whether its admin routes (/admin/...) may change it: only when it is bound to loopback. Default true. */
  adminAllowed?: boolean;
  /** Restarts it as a process restarts (`POST /admin/restart`); unset, that route answers 501. */
  restart?: () => Promise<void>;
  /** Its DATA_DIR files (log, checkpoint, node.json); in memory without. */
  files?: NodeFiles | undefined;
  /** The URL clients reach it at. */
  url?: string | undefined;
  /** Opens a client to another node, for `POST /admin/follow`; undici's by default. */
  connect?: (url: string) => LogClient<OrderEvent, Order[]>;
  /** What its writes wait for, should it be promoted. */
  sync?: SyncSettings;
}

/** A node started as a follower: the node, and the follower's half of it as tests and servers drive it. */
export interface Follower extends LabNode {
  /** Fetches once from the upstream, appends what arrives, and applies what is already due; resolves to the ms to wait before the next fetch. */
  pollOnce(signal?: AbortSignal): Promise<number>;
  /** Applies every received event whose lag has elapsed by now; returns how many. */
  applyDue(): number;
  /** What `GET /status` shows while it follows. */
  status(): FollowerStatus;
  /** Resolves true once `offset` is applied, false if `timeout` settles first. */
  waitForApplied(offset: number, timeout: Promise<void>): Promise<boolean>;
  /** Its link to its upstream, which /admin/pause cuts. */
  readonly link: Link<OrderEvent, Order[]>;
}

/**
 * Creates a node that starts as a follower of `client`'s upstream (the way apps/worker starts
 * one). It rebuilds its upstream's state only from the upstream's log, with the same
 * `applyEvent` the leader uses: it never decides anything and never reads its own clock to
 * build state. What it receives goes into its own log at the same offsets, which it serves,
 * with the same routes as the leader, to followers of its own (cascading replication). Nothing
 * runs until `start()` (or a test's `pollOnce()` / `applyDue()`).
 */
export async function createFollower(deps: FollowerDeps): Promise<Follower> {
  const { client } = deps;
  const id = deps.followerId ?? "follower";
  let given: LogClient<OrderEvent, Order[]> | undefined = client; // for its first upstream; any later one gets a client of its own
  const node = await bootNode({
    id,
    url: deps.url,
    startAs: "follower",
    upstreamUrl: client.leaderUrl,
    files: deps.files,
    connect:
      deps.connect ??
      ((url) => {
        const first = given;
        given = undefined;
        return first && url === first.leaderUrl ? first : createLogClient<OrderEvent, Order[]>({ leaderUrl: url });
      }),
    following: { applyLagMs: deps.applyLagMs, pollIntervalMs: deps.pollIntervalMs, longPollMs: deps.longPollMs ?? 0, batchWaitMs: deps.batchWaitMs ?? 0, stream: deps.stream, batchLimit: deps.batchLimit },
    sync: deps.sync,
    retainEvents: deps.retainEvents,
    followerTimeoutMs: deps.followerTimeoutMs,
    clock: deps.clock,
    logLine: deps.logLine,
    checkpointEveryMs: deps.checkpointEveryMs,
    adminAllowed: deps.adminAllowed,
    restart: deps.restart,
  });
  const following = () => {
    const f = node.following;
    if (!f) throw new Error(`${id} is not a follower now: it leads epoch ${node.epoch}`);
    return f;
  };
  const follower = Object.assign(node, {
    pollOnce: (signal?: AbortSignal) => following().pollOnce(signal),
    applyDue: () => following().applyDue(),
    status: () => following().status(),
    waitForApplied: (offset: number, timeout: Promise<void>) => following().replica.waitForApplied(offset, timeout),
  });
  return Object.defineProperty(follower, "link", { get: () => following().link }) as Follower;
}
