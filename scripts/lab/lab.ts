import type { Operation, Verdict } from "@lab/history";
import { createManualClock, systemClock, type ManualClock } from "@lab/service";
import { startCluster, type Cluster, type ClusterOptions, type Reply } from "../cluster.ts";
import type { Text } from "./i18n.ts";

/** Which node a step talks to: the leader, or a follower by its place in the scenario's list. */
export type NodeRef = "leader" | number;

/** One thing the timeline shows: on a node's or a client's lane, at a time (ms since the scenario began). */
export interface TimelineEntry {
  at: number;
  lane: string;
  text: string;
  /** The read this entry shows, so the checker's verdict can mark it fresh or stale. */
  read?: Operation;
}

/** What a scenario's steps can do: write, read, let time pass, and watch the nodes. */
export interface Lab {
  cluster: Cluster;
  /** ms since the scenario began. */
  now(): number;
  write(client: string, op: "create" | "confirm" | "cancel", id: string): Promise<Reply>;
  /** Reads order `id` from a node; `query` such as `{ minOffset: 3, timeoutMs: 5000 }` or `{ maxStalenessMs: 1000 }`. */
  read(client: string, node: NodeRef, id: string, query?: Record<string, number>): Promise<Reply>;
  /** Lets `ms` pass. */
  wait(ms: number): Promise<void>;
  /** Lets time pass until every running follower has applied everything the leader has. */
  settle(): Promise<void>;
  /** Reads each order from every node once everything has settled: each must show every acknowledged write. */
  finalReads(ids: string[]): Promise<void>;
  /** A line on a lane of the timeline (a node restarted, a follower stopped). */
  note(lane: NodeRef | string, text: string): void;
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
  cluster: Omit<ClusterOptions, "clock" | "run" | "logLine">;
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
  // Times in the history: ms since the start, plus a millionth of a ms per stamp taken, so that
  // an operation that began after another ended is later even when no time passed between them
  // (always on the manual clock; often within one ms on the real one).
  const clockMs = manual ? () => manual.now() : () => performance.now();
  const t0 = clockMs();
  let stamps = 0;
  const now = () => clockMs() - t0 + ++stamps * 1e-6;
  // When the leader appended each offset (its log line says), so its lane shows the append where
  // it happened, not when the write was acknowledged: a synchronous write waits in between.
  const appendedAt = new Map<number, number>();
  const specs = scenario.cluster.followers ?? [{}];
  const laneOf = (node: NodeRef) => (node === "leader" ? "leader" : (specs[node]?.id ?? `follower-${node + 1}`));

  const cluster = await startCluster({
    ...scenario.cluster,
    followers: specs.map((spec, i) => ({ ...spec, id: laneOf(i) })),
    clock,
    run: !deterministic,
    longPollMs: deterministic ? 0 : 500,
    logLine: (line) => {
      const match = /^\[([^\]]+)\] (.*)$/.exec(line);
      if (!match) return;
      const [, lane, text] = match as unknown as [string, string, string];
      const appended = lane === "leader" ? /^appended offset=(\d+) /.exec(text) : null;
      if (appended) appendedAt.set(Number(appended[1]), now());
      const applied = /^applied offset=(\d+) type=Order(\w+) orderId=(\S+)/.exec(text);
      const burst = /^applied offset=(\d+)\.\.(\d+) \((\d+) events/.exec(text);
      if (applied) timeline.push({ at: now(), lane, text: `▸ #${applied[1]} ${applied[3]} ${applied[2]!.toLowerCase()}` });
      else if (burst) timeline.push({ at: now(), lane, text: `▸ #${burst[1]}..#${burst[2]} (${burst[3]} events)` });
      else if (text.startsWith("resync")) timeline.push({ at: now(), lane, text: `⟲ resync: ${/loaded the \w+'s snapshot .* at offset (\d+)/.exec(text)?.[0] ?? text}` });
    },
  });

  const running = () => cluster.followers.filter((f) => f.running);
  /** The log a node's state belongs to now, so the checker never compares offsets of two histories. */
  const logIdOf = (node: NodeRef) => (node === "leader" ? cluster.log.logId : (cluster.followers[node]!.node.status().logId ?? undefined));
  /** Deterministic runs: every running follower fetches once (upstreams first) and applies what is due. */
  const deliver = async () => {
    if (deterministic) await cluster.poll();
  };
  const step = async (ms: number) => {
    manual!.advance(ms);
    for (const f of running()) f.applyDue();
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

  const lab: Lab = {
    cluster,
    now,
    lane: laneOf,
    note(lane, text) {
      timeline.push({ at: now(), lane: typeof lane === "string" ? lane : laneOf(lane), text });
    },
    async write(client, op, id) {
      if (!clients.includes(client)) clients.push(client);
      const start = now();
      const reply = await driveUntil(op === "create" ? cluster.createOrder(id) : op === "confirm" ? cluster.confirm(id) : cluster.cancel(id));
      const end = now();
      const ok = reply.status < 300;
      history.push({ client, node: "leader", role: "leader", kind: "write", key: id, start, end, ok, value: reply.body.order?.status, offset: reply.body.event?.offset, logId: cluster.log.logId });
      const took = end - start >= 100 ? ` (${Math.round(end - start)} ms)` : "";
      timeline.push({ at: start, lane: client, text: `${op} ${id}${ok ? ` ✓ #${reply.body.event.offset}` : ` ✗ ${reply.body.code}`}${took}` });
      if (reply.body.event) {
        const offset: number = reply.body.event.offset;
        timeline.push({ at: appendedAt.get(offset) ?? end, lane: "leader", text: `● #${offset} ${id} ${reply.body.order.status}` });
        appendedAt.delete(offset);
        const replication = reply.body.replication;
        if (!ok) timeline.push({ at: end, lane: "leader", text: `✗ #${offset} not acknowledged: ${reply.body.code} (it stays in the log)` });
        else if (replication?.waitedMs > 0) {
          const how = replication.mode === "sync" ? `${replication.followers.join(", ")} ${replication.ack} it` : "asynchronously (degraded)";
          timeline.push({ at: end, lane: "leader", text: `✓ #${offset} acknowledged: ${how}` });
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
        node: laneOf(node),
        role: node === "leader" ? "leader" : "follower",
        kind: "read",
        key: id,
        start,
        end,
        ok,
        value,
        offset: reply.body.appliedOffset ?? -1,
        logId: logIdOf(node),
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
      if (!deterministic) {
        for (const f of running()) await f.expectCaughtUp(30_000);
        return;
      }
      const head = () => cluster.log.head;
      for (let i = 0; i < 10_000 && running().some((f) => f.node.status().appliedOffset !== head() - 1); i++) await step(STEP_MS);
    },
    async finalReads(ids) {
      await lab.settle();
      for (const id of ids) {
        for (const node of ["leader" as const, ...running().map((f) => cluster.followers.indexOf(f))]) {
          const start = now();
          const reply = node === "leader" ? await cluster.readLeader(id) : await cluster.followers[node]!.read(id);
          const end = now();
          const value = reply.status === 200 ? reply.body.order.status : null;
          history.push({ client: "final", node: laneOf(node), role: node === "leader" ? "leader" : "follower", kind: "read", key: id, start, end, ok: true, final: true, value, offset: reply.body.appliedOffset ?? -1, logId: logIdOf(node) });
        }
      }
    },
  };

  try {
    await scenario.run(lab);
  } finally {
    await cluster.close();
  }
  const lanes = ["leader", ...specs.map((_, i) => laneOf(i))];
  timeline.sort((a, b) => a.at - b.at);
  return { history, timeline, lanes, clients };
}
