import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Operation, Verdict } from "@lab/history";
import type { LabNode } from "@lab/node";
import { createManualClock, systemClock, type ManualClock } from "@lab/service";
import { send, startCluster, type Cluster, type ClusterOptions, type Reply } from "../cluster.ts";
import { historyClock } from "./history-clock.ts";
import type { Text } from "./i18n.ts";
import { laneTextOf } from "./node-lines.ts";

/** Which node a step talks to: the leader, or a follower by its place in the scenario's list. */
export type NodeRef = "leader" | number;

/** One thing the timeline shows: on a node's or a client's lane, at a time (ms since the scenario began). */
export interface TimelineEntry {
  at: number;
  lane: string;
  /** In the timeline's language when it says more than names and numbers. */
  text: string | Text;
  /** The read this entry shows, so the checker's verdict can mark it fresh or stale. */
  read?: Operation;
  /** The reads one entry shows together (the final reads of a key, one per node): marked as the worst of them. */
  reads?: Operation[];
}

/** What a scenario's steps can do: write, read, let time pass, and watch the nodes. */
export interface Lab {
  cluster: Cluster;
  /** ms since the scenario began. */
  now(): number;
  /** Writes through `at` (the leader by default; a promoted follower takes writes too, and so does a leader that was replaced). */
  write(client: string, op: "create" | "confirm" | "cancel", id: string, at?: NodeRef): Promise<Reply>;
  /** Reads order `id` from a node; `query` such as `{ minOffset: 3, timeoutMs: 5000 }` or `{ maxStalenessMs: 1000 }`. */
  read(client: string, node: NodeRef, id: string, query?: Record<string, number>): Promise<Reply>;
  /** Lets `ms` pass. */
  wait(ms: number): Promise<void>;
  /** Lets time pass until every running node that follows has applied everything its upstream has (but one whose link is cut). */
  settle(): Promise<void>;
  /** Reads each order from every node once everything has settled (each must show every acknowledged write); one line per order on the timeline. */
  finalReads(ids: string[]): Promise<void>;
  /** A line on a lane of the timeline (a node restarted, a follower stopped). */
  note(lane: NodeRef | string, text: string | Text): void;
  /** The lane name of a node. */
  lane(node: NodeRef): string;
}

/** A narrated scenario: what it shows, the question it asks, its steps, and what it means. */
export interface Scenario {
  name: string;
  title: Text;
  /** What will happen, told before it runs. */
  story: Text;
  /** The learner's prediction: a question with one-key answers, and the right one. */
  question: { prompt: Text; choices: { key: string; text: Text }[]; answer: string };
  /** The cluster it runs on (the clock and the loops are the runner's). */
  cluster: Omit<ClusterOptions, "clock" | "run" | "logLine" | "leaderDataDir">;
  /** The leader keeps its log on disk (DATA_DIR in a new temporary directory, removed after the run), so that it can come back with it. */
  leaderDataDir?: boolean;
  run(lab: Lab): Promise<void>;
  /** Three lines: what happened, and why. */
  explain(verdict: Verdict): Text[];
}

/** What a run recorded: the history for the checker, and the timeline to print. */
export interface Recording {
  history: Operation[];
  timeline: TimelineEntry[];
  lanes: string[];
  clients: string[];
}

/** The timeline's one line for the final reads of order `id`, one read a node: "@all 3 nodes → X" when they agree, each node's value when not. */
export function finalReadsEntry(id: string, reads: Operation[]): TimelineEntry {
  const values = reads.map((r) => r.value ?? "404");
  const text: Text = values.every((v) => v === values[0])
    ? { en: `read ${id} @all ${reads.length} nodes → ${values[0]}`, ja: `read ${id} @全${reads.length}ノード → ${values[0]}` }
    : { en: `read ${id} → ${reads.map((r, i) => `${r.node} ${values[i]}`).join(", ")}`, ja: `read ${id} → ${reads.map((r, i) => `${r.node} ${values[i]}`).join("、")}` };
  return { at: reads[0]!.start, lane: "final", text, reads };
}

/** Time steps in which a deterministic run lets time pass, applying what falls due on the way. */
const STEP_MS = 50;

/**
 * Runs a scenario against real nodes on loopback (the harness: a leader and followers, real HTTP)
 * and records what happened.
 *
 * `deterministic: false` (what `pnpm lab` does): the real clock, the followers' own loops,
 * long-polling; waits are real. `deterministic: true` (the tests): a manual clock and followers
 * driven step by step. A write is delivered at once, as long-polling does; time passes in 50 ms
 * steps, each applying what fell due; a read that waits on a follower (`minOffset`) lets time
 * pass until it is answered. The same steps then give the same history every time.
 */
export async function runScenario(scenario: Scenario, { deterministic = false }: { deterministic?: boolean } = {}): Promise<Recording> {
  const manual: ManualClock | undefined = deterministic ? createManualClock(1_700_000_000_000) : undefined;
  const clock = manual ?? systemClock;
  const timeline: TimelineEntry[] = [];
  const history: Operation[] = [];
  const clients: string[] = [];
  const now = historyClock(manual);
  // When each node appended each offset (its log line says), so its lane shows the append where
  // it happened, not when the write was acknowledged: a synchronous write waits in between. By
  // lane: after a failover, two leaders append at the same offsets.
  const appendedAt = new Map<string, number>();
  const specs = scenario.cluster.followers ?? [{}];
  const laneOf = (node: NodeRef) => (node === "leader" ? "leader" : (specs[node]?.id ?? `follower-${node + 1}`));
  const dataDir = scenario.leaderDataDir ? mkdtempSync(join(tmpdir(), `lab-${scenario.name}-`)) : undefined;

  const cluster = await startCluster({
    ...scenario.cluster,
    followers: specs.map((spec, i) => ({ ...spec, id: laneOf(i) })),
    clock,
    run: !deterministic,
    longPollMs: deterministic ? 0 : 500,
    ...(dataDir ? { leaderDataDir: dataDir } : {}),
    logLine: (line) => {
      const match = /^\[([^\]]+)\] (.*)$/.exec(line);
      if (!match) return;
      const [, lane, text] = match as unknown as [string, string, string];
      const appended = /^appended offset=(\d+) /.exec(text);
      if (appended) return void appendedAt.set(`${lane}#${appended[1]}`, now());
      const shown = laneTextOf(text);
      if (shown) timeline.push({ at: now(), lane, text: shown });
    },
  });

  /** The node a step talks to, whatever its role now (a promoted follower leads; a replaced leader may follow). */
  const nodeOf = (node: NodeRef): LabNode => (node === "leader" ? cluster.leader.node : cluster.followers[node]!.node);
  const urlOf = (node: NodeRef) => (node === "leader" ? cluster.leader.url : cluster.followers[node]!.url);
  /** Every node that runs: the leader (on the network or not), and the followers not stopped. */
  const running = (): NodeRef[] => ["leader", ...cluster.followers.flatMap((f, i) => (f.running ? [i] : []))];
  /** The log a node's state belongs to now, so the checker never compares offsets of two histories. */
  const logIdOf = (node: NodeRef) => {
    const n = nodeOf(node);
    return n.following ? (n.following.status().logId ?? undefined) : n.log.logId;
  };
  /** Where a node stands for the checker: its role, its log, and which leadership wrote which offsets of it. */
  const served = (node: NodeRef) => {
    const n = nodeOf(node);
    return { node: laneOf(node), role: n.role, logId: logIdOf(node), epochs: n.log.epochs.map(({ epoch, start }) => ({ epoch, start })) };
  };
  /**
   * The nodes that follow and have not applied exactly what their upstream has yet (in this
   * process: matched by URL). A follower that has not yet copied its upstream's new log (a
   * restarted leader's) or history (a new leader's epoch), or that has applied more than its
   * upstream has (a replaced leader about to drop its suffix), is behind, whatever its offsets
   * say. One whose link is cut cannot catch up, and is not waited for.
   */
  const behind = () =>
    running().filter((node) => {
      const status = nodeOf(node).following?.status();
      const upstream = status && running().find((other) => urlOf(other) === status.leaderUrl);
      if (!status || upstream === undefined || status.link !== "open") return false;
      const { logId, appliedOffset } = status;
      const there = nodeOf(upstream);
      return logId !== there.log.logId || nodeOf(node).epoch !== there.epoch || (appliedOffset ?? -1) !== there.log.head - 1;
    });
  /** Deterministic runs: every running follower fetches once (upstreams first) and applies what is due. */
  const deliver = async () => {
    if (deterministic) await cluster.poll();
  };
  const step = async (ms: number) => {
    manual!.advance(ms);
    for (const node of running()) nodeOf(node).following?.applyDue();
    await cluster.poll(); // followers of followers get what their upstream just applied... and received
  };

  /**
   * Deterministic runs: lets the followers fetch, and time pass, until `pending` is answered: a
   * read that waits on a follower (`minOffset`), a write that waits for followers (synchronous).
   */
  const driveUntil = async <T>(pending: Promise<T>): Promise<T> => {
    let done = false;
    void pending.finally(() => (done = true)).catch(() => {});
    while (deterministic && !done) {
      await cluster.poll(); // the followers fetch and report: a write waiting for them may be released
      if (done) break;
      await Promise.race([pending, manual!.whenSleeping(1)]);
      if (!done) await step(STEP_MS);
    }
    return pending;
  };

  const writeTo = {
    create: (url: string, id: string) => cluster.createOrderAt(url, id),
    confirm: (url: string, id: string) => cluster.confirmAt(url, id),
    cancel: (url: string, id: string) => send("POST", `${url}/orders/${id}/cancel`),
  };

  const lab: Lab = {
    cluster,
    now,
    lane: laneOf,
    note(lane, text) {
      timeline.push({ at: now(), lane: typeof lane === "string" ? lane : laneOf(lane), text });
    },
    async write(client, op, id, at = "leader") {
      if (!clients.includes(client)) clients.push(client);
      const start = now();
      const reply = await driveUntil(writeTo[op](urlOf(at), id));
      const end = now();
      const ok = reply.status < 300;
      const lane = laneOf(at);
      const { logId, role } = served(at);
      history.push({ client, node: lane, role, kind: "write", key: id, start, end, ok, value: reply.body.order?.status, offset: reply.body.event?.offset, logId, epoch: nodeOf(at).epoch });
      const took = end - start >= 100 ? ` (${Math.round(end - start)} ms)` : "";
      const where = at === "leader" ? "" : ` @${lane}`;
      timeline.push({ at: start, lane: client, text: `${op} ${id}${where}${ok ? ` ✓ #${reply.body.event.offset}` : ` ✗ ${reply.body.code}`}${took}` });
      if (reply.body.event) {
        const offset: number = reply.body.event.offset;
        timeline.push({ at: appendedAt.get(`${lane}#${offset}`) ?? end, lane, text: `● #${offset} ${id} ${reply.body.order.status}` });
        appendedAt.delete(`${lane}#${offset}`);
        const replication = reply.body.replication;
        if (!ok) timeline.push({ at: end, lane, text: `✗ #${offset} not acknowledged: ${reply.body.code} (it stays in the log)` });
        else if (replication?.waitedMs > 0) {
          const how = replication.mode === "sync" ? `${replication.followers.join(", ")} ${replication.ack} it` : "asynchronously (degraded)";
          timeline.push({ at: end, lane, text: `✓ #${offset} acknowledged: ${how}` });
        }
      }
      await deliver();
      return reply;
    },
    async read(client, node, id, query = {}) {
      if (!clients.includes(client)) clients.push(client);
      const start = now();
      const reply = await driveUntil(node === "leader" ? cluster.readLeader(id) : cluster.followers[node]!.read(id, query));
      const end = now();
      const ok = reply.status === 200 || reply.body.code === "ORDER_NOT_FOUND";
      const value: string | null = reply.status === 200 ? reply.body.order.status : null;
      const op: Operation = {
        client,
        ...served(node),
        kind: "read",
        key: id,
        start,
        end,
        ok,
        value,
        offset: reply.body.appliedOffset ?? -1,
        ...(query.maxStalenessMs === undefined ? {} : { maxStalenessMs: query.maxStalenessMs }),
      };
      history.push(op);
      const conditions = Object.entries(query).filter(([k]) => k !== "timeoutMs");
      const asked = conditions.length ? ` (${conditions.map(([k, v]) => `${k}=${v}`).join(" ")})` : "";
      const got = (ok ? (value ?? "404") : `${reply.status} ${reply.body.code}`) + (end - start >= 100 ? ` (${Math.round(end - start)} ms)` : "");
      timeline.push({ at: start, lane: client, text: `read ${id} @${laneOf(node)}${asked} → ${got}`, read: ok ? op : undefined });
      return reply;
    },
    async wait(ms) {
      if (!deterministic) return void (await new Promise((resolve) => setTimeout(resolve, ms)));
      for (let left = ms; left > 0; left -= STEP_MS) await step(Math.min(STEP_MS, left));
    },
    async settle() {
      if (deterministic) {
        for (let i = 0; i < 10_000 && behind().length > 0; i++) await step(STEP_MS);
        return;
      }
      for (const giveUpAt = performance.now() + 30_000; behind().length > 0; await new Promise((resolve) => setTimeout(resolve, 10))) {
        if (performance.now() > giveUpAt) throw new Error(`settle: ${behind().map(laneOf).join(", ")} still behind after 30 s`);
      }
    },
    async finalReads(ids) {
      await lab.settle();
      if (!clients.includes("final")) clients.push("final");
      for (const id of ids) {
        const reads: Operation[] = [];
        for (const node of running()) {
          const start = now();
          const reply = await cluster.readAt(urlOf(node), id);
          const end = now();
          const value = reply.status === 200 ? reply.body.order.status : null;
          reads.push({ client: "final", ...served(node), kind: "read", key: id, start, end, ok: true, final: true, value, offset: reply.body.appliedOffset ?? -1 });
        }
        history.push(...reads);
        timeline.push(finalReadsEntry(id, reads));
      }
    },
  };

  try {
    await scenario.run(lab);
  } finally {
    await cluster.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
  const lanes = ["leader", ...specs.map((_, i) => laneOf(i))];
  timeline.sort((a, b) => a.at - b.at);
  return { history, timeline, lanes, clients };
}
