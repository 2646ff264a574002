import { applyEvent, type Order, type OrderEvent, type Orders } from "@lab/orders";
import { LeaderReplyError, LeaderUnreachableError, latestEpoch, type LogClient, type ReplicationLog } from "@lab/replication";
import { httpError, jsonErrorHandler, notFoundRoute, sameNode, silentLogger, systemClock, type Clock, type LogLine } from "@lab/service";
import express, { Router, type Express, type RequestHandler } from "express";
import { adminRoutes } from "./admin-routes.ts";
import type { Checkpointer } from "./checkpointer.ts";
import { createFollowerRole, type FollowerRole, type FollowingSettings } from "./follower-role.ts";
import { followerRoutes } from "./follower-routes.ts";
import { BODY_LIMIT_BYTES } from "./order-requests.ts";
import { ordersRoutes } from "./orders-routes.ts";
import { DEFAULT_FOLLOWER_TIMEOUT_MS, serveLog } from "./serve-log.ts";
import { ASYNC, createSyncPolicy, type SyncSettings } from "./sync-policy.ts";
import { createChangeFeed, followersSignature, watchRoute } from "./watch.ts";
import { createWritePath } from "./write-path.ts";
import type { NodeFile } from "./node-file.ts";


/** The newest leadership a node has heard of, and where its leader takes writes (if it was said). */
export interface Newest {
  epoch: number;
  leaderUrl?: string | undefined;
}

/** What a node is built from. */
export interface NodeDeps {
  /** Its name: in `/replication`, in chains, in its replies, in the epochs it begins. */
  id: string;
  /** The URL clients reach it at: passed down chains so every follower can say where writes go, and recorded with each epoch it begins. */
  url?: string | undefined;
  /** Its log: what it appended as a leader, or received as a follower. */
  log: ReplicationLog<OrderEvent>;
  /** Its state: every offset of the log below `appliedNext`, applied with `applyEvent`. */
  orders: Orders;
  /** Every offset of the log below this one is in `orders`; what the log holds after it has yet to be applied. Default: all of it. */
  appliedNext?: number;
  /** How it starts: as the leader, or following the upstream that `follow` reads from. */
  role: { lead: true } | { follow: LogClient<OrderEvent, Order[]> };
  /** Opens a client to another node's log, for `POST /admin/follow`. */
  connect(url: string): LogClient<OrderEvent, Order[]>;
  /** How it follows, while it does (APPLY_LAG_MS, LONG_POLL_MS, ...). */
  following: FollowingSettings;
  /** What a write waits for, while it leads (SYNC_REPLICAS, ...); asynchronous by default. */
  sync?: SyncSettings | undefined;
  clock?: Clock | undefined;
  logLine?: LogLine | undefined;
  /** FOLLOWER_TIMEOUT_MS: a follower of this node not heard from for this long (and with no fetch held) is disconnected. */
  followerTimeoutMs?: number | undefined;
  /** Saves its state and position (DATA_DIR), so that a restart resumes there. */
  checkpointer?: Checkpointer | undefined;
  /** Whether its admin routes may change it: only when it is bound to loopback. Default true. */
  adminAllowed?: boolean | undefined;
  /** Restarts it as a process restarts (`POST /admin/restart`); unset, that route answers 501. */
  restart?: (() => Promise<void>) | undefined;
  /** The newest leadership it heard of before (DATA_DIR/node.json). */
  newest?: Newest | undefined;
  /** Keeps its role and the newest leadership it heard of across restarts (DATA_DIR/node.json). */
  remember?: ((file: NodeFile) => void) | undefined;
}

/**
 * One node of the lab, whatever its role. It is a log and the state built from it, served to its
 * own followers (`/events`, `/snapshot`, `/replication`, long-polling), plus a role:
 *
 * - leader: decides each write, appends it, applies it, and acknowledges it once it is durable
 *   (and, when synchronous, once enough followers have it);
 * - follower: receives its upstream's log and applies it after APPLY_LAG_MS; writes are refused.
 *
 * The role changes without a restart. `promote()` makes a follower the leader of a new epoch
 * (a numbered leadership): it applies everything it has received, records where the epoch
 * begins, and takes writes from there, at the same offsets. `follow(url)` makes any node follow
 * another: a replaced leader's log is cut back to where the histories part (see serve-log.ts and
 * receiver.ts). A leader that hears of a newer epoch than its own is fenced: it takes no more
 * writes, and says where they go.
 */
export function createNode(deps: NodeDeps) {
  const { id, url, log, orders, connect, following } = deps;
  const clock = deps.clock ?? systemClock;
  const logLine = deps.logLine ?? silentLogger;
  const settings = deps.sync ?? ASYNC;
  const checkpointer = deps.checkpointer;
  let newest: Newest = deps.newest && deps.newest.epoch > latestEpoch(log.epochs) ? deps.newest : { epoch: latestEpoch(log.epochs) };

  type LeaderRole = ReturnType<typeof leaderRole>;
  let role: LeaderRole | ReturnType<typeof followerRole>;

  const served = serveLog({
    log,
    clock,
    followerTimeoutMs: deps.followerTimeoutMs ?? DEFAULT_FOLLOWER_TIMEOUT_MS,
    node: {
      id,
      role: () => role.kind,
      chain: () => (role.kind === "leader" ? [id] : [...role.receiver.upstreamChain, id]),
      notReady: () => (role.kind === "follower" && role.replica.logId === undefined ? `follower ${id} has not reached its upstream at ${role.client.leaderUrl} yet: it has no log to serve` : undefined),
      stalenessMs: () => (role.kind === "leader" ? 0 : role.receiver.freshness.receivedStalenessMs(clock.now())),
      leaderUrl: () => writesTo(),
      describe: () => ({
        epochs: log.epochs,
        ...(role.kind === "follower" ? { upstream: { url: role.client.leaderUrl, chain: [...role.receiver.upstreamChain], reachable: role.receiver.leaderReachable ?? null, lastContactAt: role.receiver.lastContactAt ?? null } } : {}),
        ...fencedBy(),
      }),
      heardOfEpoch: (epoch, from) => hear({ epoch, leaderUrl: from.leaderUrl }, `${from.follower ?? "a follower"} has seen epoch ${epoch}`),
    },
    snapshot: () => ({ offset: role.kind === "leader" ? role.appliedUpTo : role.replica.appliedNext, state: [...orders.values()] }),
  });

  /** The epoch this node leads, or follows. */
  const epoch = () => latestEpoch(log.epochs);
  /** The epoch for replies: only once there has been a promotion, so that the chapter's replies stay as they are. */
  const epochOnceNumbered = () => (log.epochs.length > 0 ? epoch() : undefined);
  /** Set while this node leads an epoch older than one it has heard of. */
  const fenced = () => role.kind === "leader" && newest.epoch > epoch();
  const fencedBy = () => (fenced() ? { fencedBy: { epoch: newest.epoch, leaderUrl: newest.leaderUrl ?? null } } : {});
  /** Where writes go: this node, or the leader as its upstream says; null while unknown. */
  const writesTo = (): string | undefined => {
    if (role.kind === "follower") return role.receiver.leaderUrl;
    return fenced() ? newest.leaderUrl : url;
  };

  /** Takes note of a newer leadership than any this node knew (a follower's fetch said so). */
  function hear(heard: Newest, how: string) {
    if (heard.epoch <= newest.epoch) return;
    newest = heard;
    remember();
    const where = heard.leaderUrl ? `, led from ${heard.leaderUrl}` : "";
    if (role.kind === "leader") logLine(`fenced: ${how}${where}; this node leads epoch ${epoch()} and takes no more writes (421 NOT_LEADER). POST /admin/follow to rejoin`);
    else logLine(`heard of epoch ${heard.epoch}: ${how}${where}`);
    feed.bump();
  }

  function remember() {
    deps.remember?.({
      role: role.kind,
      ...(role.kind === "follower" ? { upstreamUrl: role.client.leaderUrl } : {}),
      newestEpoch: Math.max(newest.epoch, epoch()),
      ...(newest.leaderUrl ? { newestLeaderUrl: newest.leaderUrl } : {}),
    });
  }

  // What a dashboard watches: a new version with every event a leader appends, and whenever a
  // follower's position, a follower of this node, the role or the epoch visibly moves.
  const feed = createChangeFeed(clock, () =>
    JSON.stringify([role.kind, epoch(), newest.epoch, role.kind === "follower" ? followerSignature(role) : "", followersSignature(served.downstream.list())]),
  );
  log.subscribe(() => (role.kind === "leader" ? feed.bump() : feed.changed()));
  served.downstream.subscribe(() => feed.changed());
  served.acknowledgements.subscribe(() => feed.bump()); // a write begins or ends waiting for followers
  served.downstream.subscribe(() => {
    if (role.kind === "follower") role.receiver.reportProgress(); // pass the followers below this one up the chain at once
  });

  function leaderRole() {
    const sync = createSyncPolicy({ settings, acknowledgements: served.acknowledgements, downstream: served.downstream, clock, logLine, head: () => log.head });
    const refuseIfFenced = () => {
      if (!fenced()) return;
      const where = newest.leaderUrl ? `send writes to the leader of epoch ${newest.epoch} at ${newest.leaderUrl}` : `a leader of epoch ${newest.epoch} exists; ask the other nodes where it is`;
      throw httpError(421, "NOT_LEADER", `this node led epoch ${epoch()}, but a newer leadership (epoch ${newest.epoch}) exists: it takes no more writes; ${where}`, {
        leader: newest.leaderUrl ?? null,
        epoch: newest.epoch,
        fencedEpoch: epoch(),
      });
    };
    const writePath = createWritePath({ orders, log, clock, logLine, sync, fence: refuseIfFenced });
    const router = Router();
    router.use(ordersRoutes({ orders, writePath, bodyLimitBytes: BODY_LIMIT_BYTES, epoch: epochOnceNumbered }));
    const status = () => ({
      ok: true as const,
      leader: true as const,
      nodeId: id,
      role: "leader" as const,
      epoch: epoch(),
      url: url ?? null,
      logId: log.logId,
      start: log.start,
      head: log.head,
      followers: served.downstream.list().length,
      ...(sync.reports ? { replication: sync.describe() } : {}),
      ...fencedBy(),
    });
    return {
      kind: "leader" as const,
      writePath,
      sync,
      front: router,
      back: undefined as Router | undefined,
      get appliedUpTo() {
        return writePath.appliedUpTo;
      },
      status,
      health: () => ({ ok: true, leader: true, nodeId: id, role: "leader", epoch: epoch(), logId: log.logId, start: log.start, head: log.head, followersWaiting: served.waiting, ...(sync.reports ? { replication: sync.describe() } : {}), ...fencedBy() }),
      view: () => {
        const newestEvents = log.readFrom(Math.max(log.start, log.head - 12), 12);
        return {
          leader: true,
          events: newestEvents.ok ? newestEvents.entries : [],
          replication: { ...sync.describe(), writesWaiting: served.acknowledgements.waiting },
          logId: log.logId,
          start: log.start,
          head: log.head,
          status: status(),
        };
      },
      /** Steps down: nothing of its own runs, but it stops watching the followers; resolves once every write it appended is durable. */
      async stop() {
        sync.close();
        if (writePath.appliedUpTo > 0) await log.whenDurable(writePath.appliedUpTo - 1);
      },
    };
  }

  /** The follower's routes, on top of its role. */
  const followerRouter = (f: FollowerRole) =>
    followerRoutes({
      orders,
      clock,
      leaderUrl: () => f.receiver.leaderUrl,
      applyLagMs: () => f.replica.applyLagMs,
      position: f.position,
      // An offset counts once the follower has heard from its upstream: until then its log may hold a replaced leader's history.
      waitForApplied: async (offset, timeout) => (await f.receiver.whenInContact(timeout)) && f.replica.waitForApplied(offset, timeout),
      stalenessMs: () => f.receiver.freshness.appliedStalenessMs(clock.now()),
      epoch: epochOnceNumbered,
    });

  function followerRole(client: LogClient<OrderEvent, Order[]>, resumeAt: { logId: string; nextOffset: number } | undefined) {
    const f = createFollowerRole({ id, orders, log, client, clock, logLine, settings: following, checkpointer, downstream: () => served.downstream.report(id), changed: () => feed.changed(), resumeAt });
    return Object.assign(f, { front: undefined as Router | undefined, back: followerRouter(f) });
  }

  // Its first role. Everything the log holds past what the state covers is applied first if it leads.
  const appliedNext = deps.appliedNext ?? log.head;
  if ("lead" in deps.role) {
    applyRest(appliedNext);
    role = leaderRole();
  } else {
    role = followerRole(deps.role.follow, deps.appliedNext === undefined ? undefined : { logId: log.logId, nextOffset: appliedNext });
  }

  /** Applies what the log holds from `from` on, at once (a follower's received events, when it becomes the leader). */
  function applyRest(from: number) {
    for (let next = from; next < log.head; ) {
      const read = log.readFrom(next, 1024);
      if (!read.ok) throw new Error(`cannot apply offsets ${next} to ${log.head - 1}: the log holds ${read.start} to ${read.head - 1}`);
      for (const entry of read.entries) applyEvent(orders, entry);
      next = read.nextFrom;
    }
  }

  const followerSignature = (f: FollowerRole) => {
    const { nextFrom, appliedOffset, head, logId, resyncs, truncations, leaderReachable, upstreamProblem, upstreamChain, applyLagMs, link, error } = f.status();
    return JSON.stringify([nextFrom, appliedOffset, head, logId, resyncs, truncations, leaderReachable, upstreamProblem, upstreamChain, applyLagMs, link, error]);
  };

  const status = () => (role.kind === "leader" ? role.status() : { ...role.status(), ...(newest.epoch > epoch() ? { newestEpoch: newest.epoch } : {}) });
  const view = (ids: string[]) => ({
    role: role.kind,
    nodeId: id,
    url: url ?? null,
    epoch: epoch(),
    ...(role.kind === "leader" ? role.view() : { follower: true, status: status() }),
    followers: served.downstream.list(),
    orders: Object.fromEntries(ids.map((orderId) => [orderId, orders.get(orderId) ?? null])),
  });

  /** Stops the current role and runs `next` in its place; a watcher sees it at once. */
  async function changeRole(next: () => typeof role) {
    const was = role;
    await was.stop();
    if (was.kind === "follower") await was.client.close();
    role = next();
    if (role.kind === "follower" && running) role.start();
    remember();
    feed.bump();
  }

  /** Makes this follower the leader of a new epoch. */
  async function promote() {
    if (role.kind === "leader") throw httpError(409, "ALREADY_LEADER", `${id} already leads epoch ${epoch()}: only a follower can be promoted`, { role: "leader", epoch: epoch() });
    if (role.replica.failure) throw httpError(409, "CANNOT_PROMOTE", `${id} stopped applying (${role.replica.failure.message}): its state does not match its log`, { role: "follower" });
    const follower = role;
    await follower.stop();
    await follower.client.close();
    // What it received is all it will have: apply it now, lag or not, then begin the new epoch
    // where its log ends, before the first write of that epoch can be appended.
    const before = follower.replica.appliedNext;
    follower.applyDue(Number.POSITIVE_INFINITY);
    const applied = follower.replica.appliedNext - before;
    const begun = { epoch: Math.max(epoch(), newest.epoch) + 1, start: log.head };
    await log.beginEpoch(begun.epoch, { start: begun.start, leader: id, url });
    newest = { epoch: begun.epoch, leaderUrl: url };
    role = leaderRole();
    remember();
    checkpointer?.maybeSave(true);
    const caught = applied > 0 ? `applied the ${applied} received ${applied === 1 ? "event" : "events"} still waiting, then ` : "";
    logLine(`promoted (POST /admin/promote): ${caught}leading epoch ${begun.epoch} from offset ${begun.start} of log ${log.logId}`);
    feed.bump();
    return { ...status(), promoted: true };
  }

  /** Makes this node follow the node at `upstreamUrl`, after checking that it can. */
  async function follow(upstreamUrl: string) {
    if (url !== undefined && sameNode(upstreamUrl, url)) throw httpError(409, "REPLICATION_LOOP", `${id} cannot follow itself (${upstreamUrl} is its own address)`, { nodeId: id });
    const client = connect(upstreamUrl);
    try {
      const there = await client.describeNode().catch((err: unknown) => {
        if (err instanceof LeaderUnreachableError) throw httpError(502, "UPSTREAM_UNREACHABLE", `no node answers at ${upstreamUrl} (${err.reason}): nothing changed`, { leaderUrl: upstreamUrl });
        if (err instanceof LeaderReplyError) throw httpError(400, "NOT_A_LAB_NODE", `${upstreamUrl} is not a node of this lab (its /replication answered ${err.status}${err.code === "BAD_REPLY" ? " with something else" : ` ${err.code}`}): nothing changed`, { leaderUrl: upstreamUrl });
        throw httpError(502, "UPSTREAM_UNREACHABLE", `could not ask ${upstreamUrl} what it is (${(err as Error)?.message ?? err}): nothing changed`, { leaderUrl: upstreamUrl });
      });
      if (there.nodeId === id || there.chain.includes(id)) {
        throw httpError(409, "REPLICATION_LOOP", `${upstreamUrl} is ${there.nodeId}, ${there.nodeId === id ? "this node itself" : `which follows this node (${there.chain.join(" -> ")})`}: following it would make a loop; nothing changed`, { chain: there.chain });
      }
      const seen = Math.max(epoch(), newest.epoch);
      if (there.epoch < seen) {
        throw httpError(409, "STALE_EPOCH", `${there.nodeId} at ${upstreamUrl} is at epoch ${there.epoch}, but this node has seen epoch ${seen}: it was replaced; follow the newer leader; nothing changed`, { epoch: there.epoch, seen });
      }
      const was = role.kind;
      await changeRole(() => followerRole(client, { logId: log.logId, nextOffset: role.kind === "leader" ? role.appliedUpTo : role.replica.appliedNext }));
      logLine(`following ${there.nodeId} at ${upstreamUrl} (POST /admin/follow), ${was === "leader" ? "no longer leading" : "a new upstream"}; from offset ${log.head} of log ${log.logId}, epoch ${epoch()}`);
      return { ...status(), following: upstreamUrl };
    } catch (err) {
      if (role.kind !== "follower" || role.client !== client) await client.close().catch(() => {});
      throw err;
    }
  }

  const asFollower = (what: string): FollowerRole => {
    if (role.kind === "follower") return role;
    throw httpError(409, "NOT_A_FOLLOWER", `${id} is the leader: it has no upstream to ${what}`, { role: "leader", epoch: epoch() });
  };

  const front: RequestHandler = (req, res, next) => (role.front ? role.front(req, res, next) : next());
  const back: RequestHandler = (req, res, next) => (role.back ? role.back(req, res, next) : next());
  const app: Express = express();
  app.disable("x-powered-by");
  // Express hashes every reply body (SHA-1) into an ETag so that a GET can be answered "304 Not
  // Modified". A write's reply and a batch of the log are never asked for again that way.
  app.set("etag", false);
  app.use(front); // the leader's order routes come first: they are what a leader serves most
  app.use(served.router);
  app.use(watchRoute(feed, view));
  app.get("/health", (_req, res) => {
    res.json(role.kind === "leader" ? role.health() : { ok: true, follower: true, nodeId: id, role: "follower", epoch: epoch() });
  });
  app.get("/status", (_req, res) => {
    res.json(status());
  });
  app.use(
    adminRoutes({
      allowed: deps.adminAllowed ?? true,
      setApplyLagMs(ms) {
        asFollower("apply from").setApplyLagMs(ms);
        logLine(`APPLY_LAG_MS is now ${ms} (changed through /admin/apply-lag)`);
        feed.changed();
      },
      cutLink(how) {
        const f = asFollower("cut the link to");
        f.link.cut(how);
        logLine(`link to ${f.client.leaderUrl} ${how === "hold" ? "held" : "dropped"} through /admin/pause: ${how === "hold" ? "requests wait" : "requests fail"} until /admin/resume`);
        feed.changed();
      },
      openLink() {
        const f = asFollower("open the link to");
        f.link.open();
        logLine(`link to ${f.client.leaderUrl} open again through /admin/resume`);
        feed.changed();
      },
      promote,
      follow,
      restart: deps.restart,
      status,
    }),
  );
  app.use(back); // the follower's reads, and its READONLY answer to every write
  app.use(notFoundRoute);
  app.use(jsonErrorHandler(logLine));

  let running = false;

  return {
    app,
    id,
    log,
    orders,
    get role() {
      return role.kind;
    },
    /** The epoch it leads or follows. */
    get epoch() {
      return epoch();
    },
    /** The follower's half, while it follows. */
    get following(): FollowerRole | undefined {
      return role.kind === "follower" ? role : undefined;
    },
    status,
    promote,
    follow,
    /** What a checkpoint saves now: the log and the next offset the state does not hold (undefined before a follower knows its log). */
    checkpointPosition(): { logId: string; nextOffset: number } | undefined {
      if (role.kind === "leader") return { logId: log.logId, nextOffset: role.appliedUpTo };
      return role.replica.logId === undefined ? undefined : { logId: role.replica.logId, nextOffset: role.replica.appliedNext };
    },
    /** Starts the follower's loops (and those of any role it takes later). */
    start() {
      running = true;
      if (role.kind === "follower") role.start();
    },
    /** Stops whatever runs and resolves once it has; a follower saves its checkpoint. */
    async stop() {
      running = false;
      if (role.kind === "follower") await role.stop();
    },
    /** Releases its upstream's connections and its log. */
    async close() {
      if (role.kind === "follower") await role.client.close();
      await log.close();
    },
  };
}

export type LabNode = ReturnType<typeof createNode>;
