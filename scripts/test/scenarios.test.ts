import { allAnomalies, checkHistory, countAnomalies, type Anomaly, type Verdict } from "@lab/history";
import { describe, expect, it } from "vitest";
import type { Recording } from "../lab/lab.ts";
import { runAnyScenario, scenarios } from "../lab/scenarios.ts";
import { lostWritesOf } from "../lab/scenarios/failover-steps.ts";
import { renderTimeline, renderTimelineHtml } from "../lab/timeline.ts";

/**
 * Every scenario of `pnpm lab`, run deterministically (a manual clock, followers driven step by
 * step), with the history checker's verdict asserted: what the scenario is there to show must
 * be found, and what its fix is there to prevent must not.
 */
const run = async (name: string) => {
  const scenario = scenarios.find((s) => s.name === name)!;
  const recording = await runAnyScenario(scenario, { deterministic: true });
  return { recording, verdict: checkHistory(recording.history), scenario };
};
/** The writes the checker found lost, each once: `o-4 PENDING #4 epoch 0`. */
const lost = (verdict: Verdict) => lostWritesOf(verdict).map((w) => `${w.key} ${w.value} #${w.offset} epoch ${w.epoch}`);
/** What a lane of the timeline says, in English. */
const lanes = (recording: Recording, lane: string) => recording.timeline.filter((e) => e.lane === lane).map((e) => (typeof e.text === "string" ? e.text : e.text.en));
const anomalies = (verdict: Verdict) => allAnomalies(verdict).map((a) => a.message);
const by = (anomalies: Anomaly[]) => anomalies.map((a) => `${a.operations.at(-1)!.client}@${a.operations.at(-1)!.node}`);

describe("pnpm lab scenarios, deterministically", () => {
  it("lists fourteen scenarios, each with a question whose answer is one of its choices, and a story with real line breaks", () => {
    expect(scenarios.map((s) => s.name)).toEqual([
      "stale-read",
      "lag-accumulates",
      "read-your-writes",
      "leader-restart-without-data",
      "follower-falls-behind",
      "monotonic-reads",
      "bounded-staleness",
      "sync-vs-async",
      "failover",
      "failover-sync",
      "split-brain",
      "election",
      "runaway-server",
      "runaway-server-prevote",
    ]);
    for (const s of scenarios) expect(s.question.choices.map((c) => c.key), s.name).toContain(s.question.answer);
    for (const s of scenarios) for (const story of Object.values(s.story)) expect(story, `${s.name}: a backslash and an n printed as they are`).not.toContain("\\n");
  });

  it("stale-read: the follower's 404 after the create and PENDING after the confirm are stale; the leader never is", async () => {
    const { verdict, recording } = await run("stale-read");
    expect(verdict.staleReads.map((a) => a.operations[1]!.value)).toEqual([null, "PENDING"]);
    expect(verdict.lostWrites).toEqual([]);
    const reads = recording.history.filter((op) => op.kind === "read").map((op) => `${op.node}:${op.value}@${Math.round(op.start)}`);
    expect(reads).toEqual(["follower:null@0", "follower:PENDING@3500", "follower:PENDING@3500", "leader:CONFIRMED@3500", "follower:CONFIRMED@7000"]);
  });

  it("lag-accumulates: the fifth order shows only after 2 s", async () => {
    const { verdict, recording } = await run("lag-accumulates");
    const fifth = recording.history.filter((op) => op.kind === "read" && op.key === "a-5").map((op) => [Math.round(op.start), op.value]);
    expect(fifth).toEqual([
      [400, null],
      [1200, null],
      [2000, "PENDING"],
    ]);
    expect(verdict.staleReads.length, "reads of orders not yet applied").toBe(4 + 2);
  });

  it("read-your-writes: the naive client misses its own write; the client with the offset token never does", async () => {
    const { verdict } = await run("read-your-writes");
    expect(by(verdict.readYourWrites)).toEqual(["naive@follower"]);
  });

  it("leader-restart-without-data: the three acknowledged writes are lost on every node", async () => {
    const { verdict } = await run("leader-restart-without-data");
    expect(verdict.lostWrites.map((a) => `${a.operations[0]!.key}@${a.operations[1]!.node}`).sort()).toEqual(["o-1@follower", "o-1@leader", "o-2@follower", "o-2@leader", "o-3@follower", "o-3@leader"]);
  });

  it("follower-falls-behind: it resyncs from the snapshot and nothing is lost", async () => {
    const { verdict, recording } = await run("follower-falls-behind");
    expect(countAnomalies(verdict)).toBe(0);
    expect(recording.timeline.some((e) => e.lane === "follower" && typeof e.text === "string" && e.text.startsWith("⟲ resync"))).toBe(true);
  });

  it("monotonic-reads: the hopper goes back in time; the careful reader, carrying the highest offset, never does", async () => {
    const { verdict } = await run("monotonic-reads");
    expect(by(verdict.monotonicReads)).toEqual(["hopper@slow"]);
    expect(by(verdict.staleReads)).toEqual(["hopper@slow"]);
  });

  it("bounded-staleness: the slow follower refuses maxStalenessMs=1000; the only stale read is the one without a bound", async () => {
    const { verdict, recording } = await run("bounded-staleness");
    const reads = recording.history.filter((op) => op.kind === "read").map((op) => `${op.node}:${op.ok ? op.value : "refused"}`);
    expect(reads).toEqual(["fast:CONFIRMED", "slow:refused", "slow:PENDING"]);
    expect(verdict.staleReads.map((a) => a.operations[1]!.maxStalenessMs)).toEqual([undefined]);
  });

  it("sync-vs-async: no stale read; the write made while the follower was down timed out, was not required, and reached every node", async () => {
    const { verdict, recording } = await run("sync-vs-async");
    expect(countAnomalies(verdict)).toBe(0);
    const writes = recording.history.filter((op) => op.kind === "write").map((op) => [op.key, op.ok, Math.round(op.end - op.start)]);
    expect(writes).toEqual([
      ["s-1", true, 1000],
      ["s-2", false, 2000],
    ]);
    const finals = recording.history.filter((op) => op.final && op.key === "s-2").map((op) => `${op.node}:${op.value}`);
    expect(finals).toEqual(["leader:PENDING", "follower:PENDING"]);
    const nodes = recording.timeline.filter((e) => e.lane === "leader" || e.lane === "follower").map((e) => `${Math.round(e.at)} ${e.lane}: ${e.text}`);
    expect(nodes.slice(0, 6), "the leader appends before the follower applies, and acknowledges after").toEqual([
      "0 leader: ● #0 s-1 PENDING",
      "1000 follower: ▸ #0 s-1 created",
      "1000 leader: ✓ #0 acknowledged: follower applied it",
      "1000 follower: ■ stopped",
      "1000 leader: ● #1 s-2 PENDING",
      "3000 leader: ✗ #1 not acknowledged: REPLICATION_TIMEOUT (it stays in the log)",
    ]);
  });

  it("failover: exactly the writes no follower had when the leader died are lost, the ones the old leader drops on rejoining; the reads that show it are on the timeline", async () => {
    const { verdict, recording } = await run("failover");
    const cut = recording.timeline.find((e) => e.lane === "follower-1" && typeof e.text !== "string" && e.text.en === "✕ link dropped")!.at;
    const unshipped = recording.history.filter((op) => op.kind === "write" && op.ok && op.node === "leader" && op.start > cut);
    expect(unshipped.map((w) => `${w.key} ${w.value}`), "acknowledged after the most advanced follower's link was cut").toEqual(["o-1 CONFIRMED", "o-4 PENDING"]);
    expect(lost(verdict)).toEqual(unshipped.map((w) => `${w.key} ${w.value} #${w.offset} epoch 0`));
    expect(lanes(recording, "leader"), "the old leader's lane").toEqual(expect.arrayContaining(["↓ demoted: follows follower-1", "✂ dropped #3 o-1 confirmed, #4 o-4 created"]));
    expect(lanes(recording, "follower-1")).toContain("★ promoted: leads epoch 1 from #3");
    expect(by(verdict.lostWrites).filter((b) => !b.startsWith("final@")), "you, reading your writes on the new leader").toEqual(["you@follower-1", "you@follower-1"]);
    const text = renderTimeline(recording, verdict, "en");
    for (const line of ["read o-4 @follower-1 → 404  ✗ lost", "read o-1 @follower-1 → PENDING  ✗ lost", "read o-4 @all 3 nodes → 404  ✗ lost", "read o-3 @all 3 nodes → PENDING  ✓ fresh"]) expect(text).toContain(line);
    expect(verdict.staleReads, "a new leader's read is not merely stale").toEqual([]);
  });

  it("failover-sync: the same steps with SYNC_REPLICAS=1 lose no acknowledged write; the two no follower had timed out, and the old leader drops them", async () => {
    const { verdict, recording } = await run("failover-sync");
    expect(countAnomalies(verdict)).toBe(0);
    const writes = recording.history.filter((op) => op.kind === "write").map((op) => `${op.key} ${op.value} ${op.ok ? "acknowledged" : "timed out"}`);
    expect(writes).toEqual(["o-1 PENDING acknowledged", "o-2 PENDING acknowledged", "o-3 PENDING acknowledged", "o-1 CONFIRMED timed out", "o-4 PENDING timed out", "n-1 PENDING acknowledged"]);
    expect(lanes(recording, "leader")).toContain("✂ dropped #3 o-1 confirmed, #4 o-4 created");
  });

  it("split-brain: every write the old leader acknowledged after the partition is lost, and none of the new leader's; its lane shows when it was demoted", async () => {
    const { verdict, recording } = await run("split-brain");
    const partition = recording.timeline.find((e) => e.lane === "leader" && typeof e.text !== "string" && e.text.en.startsWith("⚡ partition"))!.at;
    const oldLeaderAfter = recording.history.filter((op) => op.kind === "write" && op.ok && op.node === "leader" && op.start > partition);
    expect(oldLeaderAfter.map((w) => w.key)).toEqual(["a-1", "a-2"]);
    expect(lost(verdict)).toEqual(oldLeaderAfter.map((w) => `${w.key} ${w.value} #${w.offset} epoch 0`));
    const newLeader = recording.history.filter((op) => op.kind === "write" && op.node === "follower-1").map((w) => `${w.key} #${w.offset} epoch ${w.epoch}`);
    expect(newLeader, "the same offsets, another leadership").toEqual(["b-1 #2 epoch 1", "b-2 #3 epoch 1"]);
    expect(lanes(recording, "leader")).toEqual(expect.arrayContaining(["↓ demoted: follows follower-1", "✂ dropped #2 a-1 created, #3 a-2 created"]));
    expect(countAnomalies(verdict), "nothing but those lost writes, on every node").toBe(2 * 3);
  });

  it("election: the leader of three crashes; the next whose timeout runs out asks for pre-votes, stands in term 2 and wins; the checker finds nothing lost", async () => {
    const { verdict, recording } = await run("election");
    expect(anomalies(verdict)).toEqual([]);
    expect(recording.facts).toMatchObject({ first: "n1", firstTerm: 1, second: "n2", secondTerm: 2, back: "n2" });
    expect(recording.facts.electionMs, "n2's timeout is 225 ms, and an election takes no time on the manual clock").toBe(225);
    expect(lanes(recording, "n2")).toEqual(expect.arrayContaining(["[1] ⏱ timeout: may I stand for term 2? (pre-vote)", "[2] ✋ stands for election in term 2", "[2] ★ leader (votes: n2, n3)"]));
    expect(lanes(recording, "n3")).toEqual(expect.arrayContaining(["[1] ☑ pre-vote for n2 (term 2)", "[2] ☑ votes for n2", "[2] ↪ follows n2"]));
    expect(lanes(recording, "n1").slice(-3), "the old leader's lane").toEqual(["✖ crashed (term 1)", "⟲ restarted from DATA_DIR: term 1, 4 entries", "[2] ↪ follows n2"]);
    const writes = recording.history.filter((op) => op.kind === "write").map((op) => `${op.key} ${op.value} #${op.offset} @${op.node}`);
    expect(writes).toEqual(["o-1 PENDING #2 @n1", "o-2 PENDING #3 @n1", "o-1 CONFIRMED #4 @n1", "o-3 PENDING #6 @n2"]);
    const finals = recording.history.filter((op) => op.final).map((op) => `${op.key}@${op.node}: ${op.value}`);
    expect(finals).toEqual(["o-1@n1: CONFIRMED", "o-1@n2: CONFIRMED", "o-1@n3: CONFIRMED", "o-2@n1: PENDING", "o-2@n2: PENDING", "o-2@n3: PENDING", "o-3@n1: PENDING", "o-3@n2: PENDING", "o-3@n3: PENDING"]);
  });

  it("runaway-server: without pre-vote, n3 cut off stands again and again (term 5); back, its RequestVote deposes the leader, whose log it cannot beat; nothing lost", async () => {
    const { verdict, recording } = await run("runaway-server");
    expect(anomalies(verdict)).toEqual([]);
    expect(recording.facts).toMatchObject({ leader: "n1", leaderTerm: 1, runawayTerm: 5, deposedBy: "RequestVote", votesRefused: 2, after: "n1", afterTerm: 7 });
    expect(lanes(recording, "n3").filter((t) => t.includes("stands for election")), "n3, cut off and once back").toEqual([2, 3, 4, 5, 6].map((t) => `[${t}] ✋ stands for election in term ${t}`));
    expect(lanes(recording, "n1")).toEqual(expect.arrayContaining(["[6] ↓ leader steps down: n3 is in term 6", "[6] ☒ no vote for n3: its log is behind", "[7] ★ leader (votes: n1, n2)"]));
    expect(lanes(recording, "n2")).toContain("[6] ☒ no vote for n3: its log is behind");
  });

  it("runaway-server-prevote: with pre-vote, n3 cut off only asks; back, it is refused and follows; n1 leads term 1 throughout", async () => {
    const { verdict, recording } = await run("runaway-server-prevote");
    expect(anomalies(verdict)).toEqual([]);
    expect(recording.facts).toMatchObject({ leader: "n1", leaderTerm: 1, runawayTerm: 1, deposedBy: "", preVotesRefused: 2, after: "n1", afterTerm: 1, n3Log: 5 });
    expect(lanes(recording, "n3").filter((t) => t.includes("⏱ timeout")), "four cut off, one back").toEqual(Array(5).fill("[1] ⏱ timeout: may I stand for term 2? (pre-vote)"));
    for (const node of ["n1", "n2"]) expect(lanes(recording, node), node).toContain("[1] ☒ no pre-vote for n3: the leader is alive");
    expect(lanes(recording, "n3")).toContain("[1] ↓ pre-candidate steps down: n1 leads");
    expect(recording.timeline.some((e) => e.lane === "n1" && typeof e.text !== "string" && e.text.en.includes("steps down")), "n1 never steps down").toBe(false);
  });

  it("renders the timeline with a lane per node and per client, each read marked fresh or stale, as text and as HTML", async () => {
    const { recording, verdict } = await run("monotonic-reads");
    const text = renderTimeline(recording, verdict, "en");
    expect(text.split("\n")[0]).toMatch(/time \(ms\) │ leader +│ fast +│ slow +│ writer +│ hopper +│ careful/);
    expect(text).toMatch(/read m-1 @slow → PENDING  ✗ stale/);
    expect(text, "the careful reader waited for the slow follower").toMatch(/read m-1 @slow \(minOffset=1\) → CONFIRMED \(3000 ms\)  ✓ fresh/);
    const html = renderTimelineHtml(recording, verdict, "ja", { title: "単調読み取り", summary: ["a < b"] });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<html lang="ja">');
    expect(html).toContain('<td class="stale">read m-1 @slow → PENDING  ✗ 古い</td>');
    expect(html, "escaped").toContain("<li>a &lt; b</li>");
    expect(html, "self-contained").not.toMatch(/<script|<link|src=|href=/);
  });
});
