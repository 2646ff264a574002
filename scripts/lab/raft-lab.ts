import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Operation, Verdict } from "@lab/history";
import { startGroup, type Group, type Reply } from "@lab/raft-app/group";
import { createManualClock, systemClock } from "@lab/service";
import { historyClock } from "./history-clock.ts";
import type { Text } from "./i18n.ts";
import { finalReadsEntry, type Recording, type TimelineEntry } from "./lab.ts";
import { raftLaneTextOf } from "./raft-lines.ts";

/** What a Raft scenario's steps can do: write and read through any node, let time pass, crash, cut off and join nodes again. */
export interface RaftLab {
  group: Group;
  /** ms since the scenario began. */
  now(): number;
  /** The node every running, connected node follows now; throws if there is none. */
  leader(): string;
  /** Writes through node `at` (the leader by default). A node that dies under the request gives status 0, code NO_ANSWER. */
  write(client: string, op: "create" | "confirm" | "cancel", id: string, at?: string): Promise<Reply>;
  /** Reads order `id` from node `at`: `linearizable` (the leader only) or `local` (any node, possibly stale). */
  read(client: string, at: string, id: string, consistency: "linearizable" | "local"): Promise<Reply>;
  /** Lets `ms` pass. */
  wait(ms: number): Promise<void>;
  /** Lets time pass until one of the running, connected nodes leads and the others follow it; returns it. */
  elect(): Promise<string>;
  /** A running node's currentTerm. */
  term(id: string): number;
  /** Stops a node at once (its DATA_DIR stays), as a crash: what it was answering gets no answer or 503. */
  crash(id: string): Promise<void>;
  /** Starts a crashed node again, from its DATA_DIR. */
  restart(id: string): Promise<void>;
  /** `POST /admin/disconnect` and `/admin/reconnect` on a node. */
  disconnect(id: string): Promise<void>;
  reconnect(id: string): Promise<void>;
  /** Lets time pass until every running, connected node has applied all the leader has committed. */
  settle(): Promise<void>;
  /** Reads each order from every running node once everything has settled (each must show every acknowledged write). */
  finalReads(ids: string[]): Promise<void>;
  /** A line on a lane of the timeline. */
  note(lane: string, text: string | Text): void;
}

/** What a Raft scenario tells its explanation besides the checker's verdict (terms, who led). */
export type Facts = Record<string, string | number | boolean>;

/** A narrated scenario on a Raft group of apps/raft nodes. */
export interface RaftScenario {
  name: string;
  title: Text;
  story: Text;
  question: { prompt: Text; choices: { key: string; text: Text }[]; answer: string };
  /** The group it runs on: how many nodes (3 by default), pre-vote (on by default), a DATA_DIR each (in a temporary directory removed after the run). */
  group: { nodes?: number; preVote?: boolean; dataDir?: boolean };
  run(lab: RaftLab): Promise<Facts>;
  explain(verdict: Verdict, facts: Facts): Text[];
}

export interface RaftRecording extends Recording {
  facts: Facts;
}

/**
 * Runs a Raft scenario on a group of apps/raft nodes in this process (real HTTP on 127.0.0.1)
 * and records what happened, as `runScenario` does for the leader and its followers: the history
 * for the checker, and a timeline with a lane per node (its elections, votes and step-downs, from
 * its log lines, each with its term) and per client.
 *
 * `deterministic: false` (what `pnpm lab` does): the real clock. `deterministic: true` (the
 * tests): a manual clock that moves 5 ms at a time with every message delivered in between, and
 * each node's election timeout drawn at a fixed place in its range, so the same steps give the
 * same story every time.
 *
 * A write's offset in the history is the log index it was committed at; a read's is the node's
 * lastApplied when it answered. A linearizable read is recorded as served by the leader (a write
 * it misses is lost); a local read promises nothing, so one it misses is only stale.
 */
export async function runRaftScenario(scenario: Pick<RaftScenario, "name" | "group" | "run">, { deterministic = false }: { deterministic?: boolean } = {}): Promise<RaftRecording> {
  const manual = deterministic ? createManualClock(1_700_000_000_000) : undefined;
  const now = historyClock(manual);
  const timeline: TimelineEntry[] = [];
  const history: Operation[] = [];
  const clients: string[] = [];
  const addClient = (client: string) => void (clients.includes(client) || clients.push(client));
  const dataDir = scenario.group.dataDir ? mkdtempSync(join(tmpdir(), `lab-${scenario.name}-`)) : undefined;
  const group = await startGroup({
    nodes: scenario.group.nodes ?? 3,
    clock: manual ?? systemClock,
    dataDir,
    commitTimeoutMs: 1_000,
    env: { PRE_VOTE: String(scenario.group.preVote ?? true) },
    onLine: (id, line) => {
      const text = raftLaneTextOf(line);
      if (text) timeline.push({ at: now(), lane: id, text });
    },
  });
  const connected = () => group.running().filter((id) => !group.node(id).link.disconnected);

  /**
   * Waits for `pending`. On the manual clock, while any request of the scenario is unanswered once
   * the network is quiet (a write without a majority waits on COMMIT_TIMEOUT_MS), time moves on 5
   * ms at a time: one loop for all of them, so that requests sent together do not each move it.
   */
  let unanswered = 0;
  let answered = 0;
  let driving = false;
  const drive = async <T>(pending: Promise<T>): Promise<T> => {
    if (!manual) return pending;
    unanswered++;
    const settled = pending.finally(() => {
      unanswered--;
      answered++;
    });
    if (!driving) {
      driving = true;
      void (async () => {
        while (unanswered > 0) {
          const before = answered;
          await group.quiet();
          for (let turn = 0; turn < 20 && answered === before; turn++) await new Promise((resolve) => setImmediate(resolve));
          if (answered === before && unanswered > 0) await group.advance(5);
        }
        driving = false;
      })();
    }
    return settled;
  };
  const noAnswer = (): Reply => ({ status: 0, body: { ok: false, code: "NO_ANSWER" } });
  const path = { create: "/orders", confirm: "/confirm", cancel: "/cancel" };
  const termOf = (id: string) => (group.running().includes(id) ? group.node(id).raft.status().currentTerm : undefined);

  const lab: RaftLab = {
    group,
    now,
    leader() {
      const leader = group.leader(connected());
      if (!leader) throw new Error(`no single leader among ${connected().join(", ")}`);
      return leader;
    },
    note(lane, text) {
      timeline.push({ at: now(), lane, text });
    },
    async write(client, op, id, at = lab.leader()) {
      addClient(client);
      const url = op === "create" ? `${group.urlOf(at)}/orders` : `${group.urlOf(at)}/orders/${id}${path[op]}`;
      const start = now();
      const reply = await drive(group.send("POST", url, op === "create" ? { id } : undefined)).catch(noAnswer);
      const end = now();
      const ok = reply.status === 200 || reply.status === 201;
      const index: number | undefined = reply.body.committed?.index;
      history.push({ client, node: at, role: "leader", kind: "write", key: id, start, end, ok, value: reply.body.order?.status, ...(ok ? { offset: index } : {}) });
      const answer = ok ? `✓ #${index} (term ${reply.body.committed.term})` : `✗ ${reply.status || "no answer"} ${reply.body.code}`;
      timeline.push({ at: start, lane: client, text: `${op} ${id} @${at} ${answer}` });
      if (ok) timeline.push({ at: end, lane: at, text: { en: `● #${index} ${id} ${reply.body.order.status}: committed`, ja: `● #${index} ${id} ${reply.body.order.status}: コミット済み` } });
      return reply;
    },
    async read(client, at, id, consistency) {
      addClient(client);
      const start = now();
      const reply = await drive(group.send("GET", `${group.urlOf(at)}/orders/${id}?consistency=${consistency}`)).catch(noAnswer);
      const end = now();
      const ok = reply.status === 200 || reply.body.code === "ORDER_NOT_FOUND";
      const value: string | null = reply.status === 200 ? reply.body.order.status : null;
      const op: Operation = { client, node: at, role: consistency === "linearizable" ? "leader" : "follower", kind: "read", key: id, start, end, ok, value, offset: reply.body.lastApplied ?? -1 };
      history.push(op);
      const got = ok ? `${value ?? "404"} (#${reply.body.lastApplied})` : `${reply.status || "no answer"} ${reply.body.code}`;
      timeline.push({ at: start, lane: client, text: `read ${id} @${at} ${consistency === "local" ? "local" : "lin."} → ${got}`, ...(ok ? { read: op } : {}) });
      return reply;
    },
    wait: (ms) => group.advance(ms),
    term: (id) => group.node(id).raft.status().currentTerm,
    elect: () => group.elect(5_000, connected()),
    async crash(id) {
      timeline.push({ at: now(), lane: id, text: { en: `✖ crashed (term ${termOf(id)})`, ja: `✖ クラッシュ（term ${termOf(id)}）` } });
      await group.stop(id);
    },
    async restart(id) {
      await group.restart(id);
      const { currentTerm, lastLogIndex } = group.node(id).raft.status();
      timeline.push({ at: now(), lane: id, text: { en: `⟲ restarted from DATA_DIR: term ${currentTerm}, ${lastLogIndex} entries`, ja: `⟲ DATA_DIR から再起動: term ${currentTerm}、エントリ ${lastLogIndex} 件` } });
    },
    async disconnect(id) {
      const reply = await group.disconnect(id);
      if (reply.status !== 200) throw new Error(`disconnecting ${id}: got ${reply.status} ${JSON.stringify(reply.body)}, want 200`);
    },
    async reconnect(id) {
      const reply = await group.reconnect(id);
      if (reply.status !== 200) throw new Error(`reconnecting ${id}: got ${reply.status} ${JSON.stringify(reply.body)}, want 200`);
    },
    async settle() {
      const settled = () => {
        const leader = group.leader(connected());
        if (!leader) return false;
        const { commitIndex, lastLogIndex } = group.node(leader).raft.status();
        return connected().every((id) => group.node(id).raft.status().lastApplied === commitIndex && group.node(id).raft.status().lastLogIndex === lastLogIndex);
      };
      for (let waited = 0; !settled(); waited += 5) {
        if (waited > 10_000) throw new Error(`settle: the nodes have not caught up with the leader after 10 s:\n${group.lines.slice(-20).join("\n")}`);
        await group.advance(5);
      }
    },
    async finalReads(ids) {
      await lab.settle();
      addClient("final");
      for (const id of ids) {
        const reads: Operation[] = [];
        for (const node of group.running()) {
          const start = now();
          const reply = await group.send("GET", `${group.urlOf(node)}/orders/${id}?consistency=local`);
          const end = now();
          reads.push({ client: "final", node, role: "follower", kind: "read", key: id, start, end, ok: true, final: true, value: reply.status === 200 ? reply.body.order.status : null, offset: reply.body.lastApplied });
        }
        history.push(...reads);
        timeline.push(finalReadsEntry(id, reads));
      }
    },
  };

  let facts: Facts;
  try {
    facts = await scenario.run(lab);
  } finally {
    await group.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
  timeline.sort((a, b) => a.at - b.at);
  return { history, timeline, lanes: group.ids, clients, facts };
}
