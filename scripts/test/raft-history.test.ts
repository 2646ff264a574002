import { allAnomalies, checkHistory, countAnomalies, type Operation, type Verdict } from "@lab/history";
import { describe, expect, it } from "vitest";
import { runRaftScenario, type Facts, type RaftLab } from "../lab/raft-lab.ts";

/**
 * Histories recorded on a Raft group of apps/raft nodes (real HTTP on 127.0.0.1, a manual clock
 * moved 5 ms at a time), put through packages/history's checker: what a linearizable store could
 * not show must not be there, and what a possibly stale read can show must be named.
 */
const record = (run: (lab: RaftLab) => Promise<Facts>, group = { dataDir: true }) => runRaftScenario({ name: "raft-history", group, run }, { deterministic: true });
const anomalies = (verdict: Verdict) => allAnomalies(verdict).map((a) => a.message);
const KEYS = ["k-1", "k-2", "k-3", "k-4", "k-5", "k-6", "k-7", "k-8"];

describe("a Raft group's history, through the checker", () => {
  it("writes and linearizable reads from four clients, across a leader crash with requests in flight: nothing a linearizable store could not show", async () => {
    const recording = await record(async (lab) => {
      const first = await lab.elect();
      /** Where a client sends its next request: the leader the group agrees on, or, while none is known, the last one it used. */
      let known = first;
      const target = () => (known = lab.group.leader(lab.group.running().filter((id) => !lab.group.node(id).link.disconnected)) ?? known);
      const writer = async (client: string, keys: string[], then: "confirm" | "cancel") => {
        for (const key of keys) await lab.write(client, "create", key, target());
        for (const key of keys) await lab.write(client, then, key, target());
      };
      const reader = async (client: string, rounds: number, keys = KEYS) => {
        for (let round = 0; round < rounds; round++) for (const key of keys) await lab.read(client, target(), key, "linearizable");
      };

      // All four at once, on the first leader.
      await Promise.all([writer("a", ["k-1", "k-2", "k-3"], "confirm"), writer("b", ["k-4", "k-5", "k-6"], "cancel"), reader("c", 2), reader("d", 2, [...KEYS].reverse())]);
      // The leader crashes with writes and reads on their way to it: each is acknowledged, or its client told nothing.
      const inFlight = [lab.write("a", "create", "k-7", first), lab.write("b", "create", "k-8", first), lab.write("a", "confirm", "k-1", first), lab.read("c", first, "k-2", "linearizable"), lab.read("d", first, "k-7", "linearizable")];
      await lab.crash(first);
      await Promise.all(inFlight);
      const second = await lab.elect();
      // The same clients carry on with the new leader, while the old one comes back from its DATA_DIR.
      await Promise.all([writer("a", ["k-7"], "confirm"), writer("b", ["k-8"], "cancel"), reader("c", 2), reader("d", 2), lab.restart(first)]);
      await lab.finalReads(KEYS);
      return { first, second, secondTerm: lab.group.node(second).raft.status().currentTerm };
    });
    const { history, facts } = recording;
    const verdict = checkHistory(history);
    expect(anomalies(verdict), "anomalies").toEqual([]);
    expect(facts.second).not.toBe(facts.first);
    expect(facts.secondTerm).toBeGreaterThan(1);

    // Not an empty test: writes acknowledged by both leaders, reads that saw them, writes whose fate their clients never learnt.
    const crashedAt = recording.timeline.find((e) => typeof e.text !== "string" && e.text.en.startsWith("✖ crashed"))!.at;
    const acknowledged = history.filter((op) => op.kind === "write" && op.ok);
    expect(acknowledged.filter((w) => w.node === facts.first).length, "acknowledged by the first leader").toBeGreaterThanOrEqual(6);
    expect(acknowledged.filter((w) => w.node === facts.second).length, "acknowledged by the second").toBeGreaterThanOrEqual(2);
    const linearizable = history.filter((op) => op.kind === "read" && op.role === "leader" && op.ok);
    expect(linearizable.filter((r) => r.value !== null && r.start < crashedAt).length, "linearizable reads that found an order, before the crash").toBeGreaterThan(10);
    expect(linearizable.filter((r) => r.value !== null && r.start > crashedAt).length, "and after it").toBeGreaterThan(10);

    // By what each read returned rather than by the position its node gave: the same verdict.
    expect(anomalies(checkHistory(history.map(({ offset, ...op }) => (op.kind === "read" ? op : { ...op, offset })))), "judged by the values read").toEqual([]);

    // And the checker is not blind here: a linearizable read that had missed a write acknowledged before it began is a lost write.
    const read = linearizable.find((r) => r.node === facts.second && acknowledged.some((w) => w.key === r.key && w.end < r.start))!;
    const missed = acknowledged.filter((w) => w.key === read.key && w.end < read.start).at(-1)!;
    const broken: Operation[] = history.map((op) => (op === read ? { ...op, offset: missed.offset! - 1 } : op));
    expect(checkHistory(broken).lostWrites.map((a) => a.operations)).toEqual([[missed, { ...read, offset: missed.offset! - 1 }]]);
  });

  it("local reads on a follower cut off from the leader are stale, and the checker names them; linearizable reads on the leader are not", async () => {
    const { history } = await record(async (lab) => {
      const leader = await lab.elect();
      await lab.disconnect("n3");
      await lab.write("a", "create", "k-1");
      await lab.read("c", "n3", "k-1", "local");
      await lab.read("c", leader, "k-1", "linearizable");
      await lab.write("a", "confirm", "k-1");
      await lab.read("c", "n3", "k-1", "local");
      await lab.read("c", leader, "k-1", "linearizable");
      await lab.reconnect("n3");
      await lab.settle();
      await lab.read("c", "n3", "k-1", "local");
      await lab.finalReads(["k-1"]);
      return { leader };
    });
    const verdict = checkHistory(history);
    expect(verdict.staleReads.map((a) => a.message)).toEqual([
      "c read k-1 not found from n3, but k-1 PENDING (offset 2) was acknowledged before the read started",
      "c read k-1 not found from n3, but k-1 CONFIRMED (offset 3) was acknowledged before the read started",
    ]);
    expect(verdict.monotonicReads.map((a) => a.message), "c, from the leader to n3: back in time").toEqual(["c read k-1 not found from n3 after it had read k-1 PENDING (offset 2) from n1: back in time"]);
    expect(countAnomalies(verdict), "nothing else: no lost write, no stale read on the leader, n3 fresh once back").toBe(3);
    const reads = history.filter((op) => op.kind === "read" && !op.final).map((op) => `${op.node} ${op.role === "leader" ? "linearizable" : "local"}: ${op.value ?? "404"}`);
    expect(reads).toEqual(["n3 local: 404", "n1 linearizable: PENDING", "n3 local: 404", "n1 linearizable: CONFIRMED", "n3 local: CONFIRMED"]);
  });
});
