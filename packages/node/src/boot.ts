import { join } from "node:path";
import { applyEvent, createOrders, replaceOrders, type Order, type OrderEvent } from "@lab/orders";
import { createLogClient, createMemoryLog, DEFAULT_RETAIN_EVENTS, newLogId, openFileLog, type LogClient, type LogEntry, type ReplicationLog } from "@lab/replication";
import { silentLogger, systemClock, type Clock, type LogLine } from "@lab/service";
import { createCheckpointer } from "./checkpointer.ts";
import type { FollowingSettings } from "./follower-role.ts";
import { createNode, type LabNode } from "./node.ts";
import { loadNodeFile, saveNodeFile } from "./node-file.ts";
import { DEFAULT_FOLLOWER_TIMEOUT_MS } from "./serve-log.ts";
import type { SyncSettings } from "./sync-policy.ts";

/** Where a node keeps itself with DATA_DIR: its log, its checkpoint (state and position), and node.json (role, newest epoch). */
export interface NodeFiles {
  log: string;
  checkpoint: string;
  node: string;
}

/** The files of a node in `dataDir`, named after the program that starts it (`leader` for apps/api, `follower` for apps/worker), as they always were. */
export function nodeFiles(dataDir: string, kind: "leader" | "follower"): NodeFiles {
  return { log: join(dataDir, `${kind}-log.jsonl`), checkpoint: join(dataDir, `${kind}-checkpoint.json`), node: join(dataDir, "node.json") };
}

export interface BootOptions {
  /** Its name (`leader-3000`, FOLLOWER_ID, ...). */
  id: string;
  /** The URL clients reach it at. */
  url?: string | undefined;
  /** The role its program starts it in: apps/api a leader, apps/worker a follower of `upstreamUrl`. */
  startAs: "leader" | "follower";
  /** LEADER_URL, for a node started as a follower. */
  upstreamUrl?: string | undefined;
  /** DATA_DIR's files; without them the node lives in memory and starts over on every start. */
  files?: NodeFiles | undefined;
  /** Opens a client to another node's log; undici's by default. */
  connect?: ((url: string) => LogClient<OrderEvent, Order[]>) | undefined;
  following: FollowingSettings;
  sync?: SyncSettings | undefined;
  /** RETAIN_EVENTS. */
  retainEvents?: number | undefined;
  followerTimeoutMs?: number | undefined;
  clock?: Clock | undefined;
  logLine?: LogLine | undefined;
  checkpointEveryMs?: number | undefined;
  adminAllowed?: boolean | undefined;
  restart?: (() => Promise<void>) | undefined;
}

/**
 * Builds a node from what it kept (DATA_DIR) or from nothing, the way a process starts:
 *
 * - its role: its program's (apps/api leads, apps/worker follows LEADER_URL), unless node.json
 *   says it changed since: a promoted follower comes back as the leader, and a leader told to
 *   follow comes back following;
 * - its state: the checkpoint, if it has one, then its log past it; a leader with no checkpoint
 *   replays its whole log, as the chapter's leader with DATA_DIR always did. A follower applies
 *   what it had received past its checkpoint again, each its lag after now; a leader applies it
 *   at once.
 *
 * Nothing runs until `start()`.
 */
export async function bootNode(options: BootOptions): Promise<LabNode> {
  const { id, url, files } = options;
  const clock = options.clock ?? systemClock;
  const logLine = options.logLine ?? silentLogger;
  const retain = options.retainEvents ?? DEFAULT_RETAIN_EVENTS;
  const connect = options.connect ?? ((leaderUrl: string) => createLogClient<OrderEvent, Order[]>({ leaderUrl }));

  const kept = files ? loadNodeFile(files.node) : undefined;
  let lead = options.startAs === "leader";
  let upstreamUrl = options.upstreamUrl;
  if (kept?.role === "leader" && !lead) {
    lead = true;
    logLine(`${files!.node} says this node was promoted: it starts as the leader, not as a follower of ${upstreamUrl}`);
  } else if (kept?.role === "follower" && lead) {
    lead = false;
    upstreamUrl = kept.upstreamUrl;
    logLine(`${files!.node} says this node was made to follow ${upstreamUrl}: it starts following it, not leading`);
  }
  if (!lead && upstreamUrl === undefined) throw new Error(`${id} starts as a follower but has no upstream to follow (LEADER_URL)`);

  const orders = createOrders();
  let node: LabNode | undefined;
  const checkpointer = files
    ? createCheckpointer({ file: files.checkpoint, clock, everyMs: options.checkpointEveryMs ?? 1000, logLine, position: () => node?.checkpointPosition(), state: () => [...orders.values()] })
    : undefined;
  const resumed = checkpointer?.load();

  // Received entries are kept until applied (and RETAIN_EVENTS more for followers of this one).
  let keepFrom = () => resumed?.nextOffset ?? 0;
  const replayAll = lead && !resumed; // a leader's state is its whole log, read back
  const replay = (entry: LogEntry<OrderEvent>) => void (replayAll && applyEvent(orders, entry));
  const log: ReplicationLog<OrderEvent> = files
    ? await openFileLog<OrderEvent>({ file: files.log, retain, keepFrom: () => keepFrom(), replay, logLine })
    : createMemoryLog<OrderEvent>({ retain, keepFrom: () => keepFrom() });

  let appliedNext: number | undefined;
  if (resumed) {
    replaceOrders(orders, resumed.state)();
    const logHolds = log.logId === resumed.logId && log.start <= resumed.nextOffset && resumed.nextOffset <= log.head;
    if (!logHolds) await log.reset({ logId: resumed.logId, start: resumed.nextOffset, epochs: log.epochs.filter((e) => e.start <= resumed.nextOffset) }); // the log went on to another history: keep what the checkpoint proves
    appliedNext = resumed.nextOffset;
    const past = log.head - appliedNext;
    const rest = past === 0 ? "" : lead ? `, ${past} events past it in the log, applied now` : `, ${past} received events to apply`;
    logLine(`resumed from checkpoint ${files!.checkpoint}: log ${resumed.logId}, offset ${resumed.nextOffset}, ${orders.size} orders${rest}`);
  } else if (lead) {
    if (log.start > 0) throw new Error(`${files!.log} begins at offset ${log.start}, and there is no checkpoint (${files!.checkpoint}) with the state before it: cannot rebuild this node's state`);
    appliedNext = log.head;
  } else if (log.head > 0) {
    await log.reset({ logId: newLogId(), start: 0 }); // a follower's log with no state to go with it: start over
  }

  node = createNode({
    id,
    url,
    log,
    orders,
    appliedNext,
    role: lead ? { lead: true } : { follow: connect(upstreamUrl!) },
    connect,
    following: options.following,
    sync: options.sync,
    clock,
    logLine,
    followerTimeoutMs: options.followerTimeoutMs ?? DEFAULT_FOLLOWER_TIMEOUT_MS,
    checkpointer,
    adminAllowed: options.adminAllowed,
    restart: options.restart,
    newest: kept ? { epoch: kept.newestEpoch, leaderUrl: kept.newestLeaderUrl } : undefined,
    remember: files ? (state) => saveNodeFile(files.node, state) : undefined,
  });
  const booted = node;
  keepFrom = () => booted.following?.replica.appliedNext ?? log.head;
  return node;
}
