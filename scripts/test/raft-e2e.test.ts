import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { raftFiles } from "@lab/raft";
import { afterAll, describe, expect, it } from "vitest";
import { startRaftProcesses, type RaftProcesses } from "../raft-processes.ts";
import { until } from "./until.ts";

/**
 * The election timeouts of this test, stated rather than left to the defaults (they are the
 * defaults: the chapter's 150-300 ms, a heartbeat every 50 ms). A follower stands once it has
 * heard nothing for its timeout, drawn from 150-300 ms; with pre-vote, an election is one round
 * trip of PreVote and one of RequestVote more. So a new leader is expected some 200-400 ms after
 * the old one dies; 2 s bounds that with room for a loaded machine, and would catch a node that
 * waited for a second timeout (a split vote every time, a timer not reset) or never stood.
 */
const TIMEOUTS = { ELECTION_TIMEOUT_MIN_MS: "150", ELECTION_TIMEOUT_MAX_MS: "300", HEARTBEAT_MS: "50" };
const ELECTION_BOUND_MS = 2_000;

/** The log a node saved in its DATA_DIR, entry by entry (its header, which names the node, left out). */
const savedLog = (dir: string) => readFileSync(raftFiles(dir).log, "utf8").split("\n").slice(1, -1);

/**
 * A Raft group of three apps/raft processes, each with a DATA_DIR: writes flow from four clients
 * to the leader, the leader is killed with SIGKILL, the survivors elect another, and the killed
 * node, started again on its DATA_DIR, catches up. Every wait is on a condition (a node's
 * /status, its "listening on" line), never on time.
 */
describe("end to end: a Raft group of three processes loses its leader to SIGKILL", () => {
  let group: RaftProcesses | undefined;
  const dir = mkdtempSync(join(tmpdir(), "lab-raft-e2e-"));
  afterAll(async () => {
    await group?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`a new leader within ${ELECTION_BOUND_MS} ms (election timeouts 150-300 ms); no acknowledged write missing on the survivors; the killed node, restarted, catches up to the same log`, async ({ annotate }) => {
    const g = (group = await startRaftProcesses({ nodes: 3, dataDir: dir, env: TIMEOUTS }));
    const first = await until("a leader that all three follow", () => g.leader(), 10_000);

    // Four clients write to the leader, one write after another each, until it dies under them.
    const acknowledged: string[] = [];
    let forty!: () => void;
    const fortyAcknowledged = new Promise<void>((resolve) => (forty = resolve));
    const client = async (c: number) => {
      for (let i = 0; ; i++) {
        const reply = await g.send("POST", `${g.urlOf(first)}/orders`, { id: `c${c}-${i}` }).catch(() => undefined);
        if (!reply) return; // the leader is gone: this write's fate is unknown, and it was promised nothing
        expect(reply.status, JSON.stringify(reply.body)).toBe(201);
        if (acknowledged.push(`c${c}-${i}`) === 40) forty();
      }
    };
    const clients = Promise.all([1, 2, 3, 4].map(client));
    await fortyAcknowledged;
    const killedAt = performance.now();
    await g.kill(first);
    await clients;

    const second = await until("a new leader that both survivors follow", () => g.leader(), 10_000);
    const electionMs = performance.now() - killedAt;
    await annotate(`${second} was elected ${Math.round(electionMs)} ms after ${first} was killed (${acknowledged.length} writes acknowledged before)`);
    expect(second).not.toBe(first);
    expect(electionMs, `the time from the SIGKILL of ${first} to a leader both survivors follow`).toBeLessThan(ELECTION_BOUND_MS);
    const survivors = g.running();
    const elected = (await g.status(second)).currentTerm as number;
    expect(g.proc(second).lines.some((l) => l.startsWith(`[${second}] term ${elected}: won the election with votes from`)), "its log line").toBe(true);

    // A write on the new leader: once acknowledged, it and everything before it is on both survivors' logs.
    const next = await g.send("POST", `${g.urlOf(second)}/orders`, { id: "n-1" });
    expect(next.status, JSON.stringify(next.body)).toBe(201);
    const { index } = next.body.committed as { index: number };
    await until("both survivors have applied n-1", async () => ((await Promise.all(survivors.map(g.status))).every((s) => s.lastApplied >= index) ? true : undefined));
    for (const id of [...acknowledged, "n-1"]) {
      expect((await g.send("GET", `${g.urlOf(second)}/orders/${id}`)).status, `${id} on the new leader, read linearizably`).toBe(200);
      for (const node of survivors) expect((await g.send("GET", `${g.urlOf(node)}/orders/${id}?consistency=local`)).status, `${id} on ${node}`).toBe(200);
    }

    // The killed node comes back on its DATA_DIR, with its own log, and catches up.
    await g.start(first);
    const back = await g.status(first);
    expect(back.logLength, "read back from DATA_DIR: at least what it had acknowledged").toBeGreaterThanOrEqual(acknowledged.length + 1);
    const caughtUp = await until(`${first} follows ${second} and has its log`, async () => {
      const [leader, again] = await Promise.all([g.status(second), g.status(first)]);
      const same = again.leaderId === second && again.logLength === leader.logLength && again.lastLogTerm === leader.lastLogTerm && again.lastApplied === leader.commitIndex;
      return same ? again : undefined;
    });
    expect(caughtUp).toMatchObject({ role: "follower", currentTerm: elected });
    for (const id of [...acknowledged, "n-1"]) expect((await g.send("GET", `${g.urlOf(first)}/orders/${id}?consistency=local`)).status, `${id} on ${first}, restarted`).toBe(200);

    // The same log, entry for entry, in all three DATA_DIRs (stopped cleanly first, so each has saved all it holds).
    for (const id of g.running()) await g.stop(id);
    const logs = Object.fromEntries(g.ids.map((id) => [id, savedLog(g.dataDirOf(id)!)]));
    for (const id of g.ids) expect(logs[id], `${id}'s saved log, against ${second}'s`).toEqual(logs[second]);
    const created = logs[second]!.flatMap((line) => JSON.parse(line).command?.command.orderId ?? []);
    for (const id of acknowledged) expect(created.filter((c: string) => c === id), `${id} in the log`).toHaveLength(1);
  }, 30_000);
});
