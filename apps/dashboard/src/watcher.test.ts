import { createManualClock, type ManualClock } from "@lab/service";
import { Agent } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { serveFakeNodes, waitableCount, type FakeNode } from "./test-support.ts";
import { ROUND_MS, watchNodes, type View } from "./watcher.ts";

/**
 * The watchers on a manual clock, against stand-in nodes on loopback: nothing happens with time
 * unless the test moves the clock, so what each node was asked, and when the pages were told,
 * follow from the test's steps alone.
 */
const fakeNode = serveFakeNodes();
const T0 = 1_700_000_000_000;
let clock: ManualClock;
let dispatcher: Agent;
let stops: (() => void)[] = [];
beforeEach(() => {
  clock = createManualClock(T0);
  dispatcher = new Agent();
});
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await dispatcher.close();
});

/** A node that answers at once, a new version each time. */
const prompt = () => fakeNode(clock, (n) => ({ version: n }));

/** Watches `nodes`; `log` lists what the watchers reported, in order ("0 v3": node 0's view, version 3; "1 down"; "change"), and `changes(n)` resolves at the n-th change. */
function watch(nodes: FakeNode[], busy: () => boolean) {
  const log: string[] = [];
  const changed = waitableCount();
  const watching = watchNodes({
    nodes,
    dispatcher,
    clock,
    ids: () => [],
    busy,
    onView: (node, view: View | null) => void log.push(`${nodes.indexOf(node)} ${view === null ? "down" : `v${String(view.version)}`}`),
    onChange() {
      log.push("change");
      changed.add();
    },
  });
  stops.push(() => watching.stop());
  return { log, changes: changed.reached, watching };
}

/** What each change told the pages: the views that came in since the change before, sorted (the nodes of a round answer in any order). */
function told(log: string[]): string[][] {
  const changes: string[][] = [[]];
  for (const entry of log) entry === "change" ? changes.push([]) : changes.at(-1)!.push(entry);
  return changes.slice(0, -1).map((views) => views.sort());
}

describe("watchNodes -> while the cluster is busy", () => {
  it("asks every node once a round, a round every ROUND_MS, and tells the pages once per round, after every node answered", async () => {
    const nodes = [await prompt(), await prompt()];
    const { log, changes } = watch(nodes, () => true);
    await changes(1);
    for (let round = 2; round <= 5; round++) {
      clock.advance(ROUND_MS - 1);
      expect(clock.sleeping, `the pause before round ${round}, 1 ms short of its start`).toBe(1);
      clock.advance(1);
      await changes(round);
    }
    for (const node of nodes) expect(node.asked.map((a) => a.at - T0)).toEqual([0, 200, 400, 600, 800]);
    expect(told(log)).toEqual([1, 2, 3, 4, 5].map((v) => [`0 v${v}`, `1 v${v}`]));
    expect(nodes[0]!.asked[0]!.query.get("waitMs"), "a round's ask is answered at once").toBe("0");
  });

  it("waits for a slow node before telling the pages, and starts the next round ROUND_MS after this one started", async () => {
    let answerSlow: (() => void) | undefined;
    const fast = await prompt();
    const slow = await fakeNode(clock, (n) => (n === 1 ? new Promise<object>((resolve) => (answerSlow = () => resolve({ version: n }))) : { version: n }));
    const { log, changes } = watch([fast, slow], () => true);
    await slow.whenAsked(1);
    await until(() => log.includes("0 v1"));
    clock.advance(150); // the slow node takes 150 ms
    expect(log, "nothing told while a node of the round has not answered").toEqual(["0 v1"]);
    answerSlow!();
    await changes(1);
    expect(log).toEqual(["0 v1", "1 v1", "change"]);
    clock.advance(ROUND_MS - 150);
    await changes(2);
    expect(fast.asked.map((a) => a.at - T0)).toEqual([0, 200]);
  });

  it("starts the next round at once after a round slower than ROUND_MS", async () => {
    let answerSlow: (() => void) | undefined;
    const slow = await fakeNode(clock, (n) => (n === 1 ? new Promise<object>((resolve) => (answerSlow = () => resolve({ version: n }))) : { version: n }));
    const { changes } = watch([slow], () => true);
    await slow.whenAsked(1);
    clock.advance(ROUND_MS + 50);
    answerSlow!();
    await changes(2);
    expect(slow.asked.map((a) => a.at - T0)).toEqual([0, 250]);
  });

  it("wake() starts the next round at once", async () => {
    const nodes = [await prompt(), await prompt()];
    const { changes, watching } = watch(nodes, () => true);
    await changes(1);
    watching.wake();
    await changes(2);
    for (const node of nodes) expect(node.asked.map((a) => a.at - T0)).toEqual([0, 0]);
  });

  it("reports a node that does not answer as down, leaves it out of the rounds for a growing pause, and still tells the pages every round", async () => {
    const up = await prompt();
    const { log, changes } = watch([up, { url: "http://127.0.0.1:9" } as FakeNode], () => true);
    for (let round = 1; round <= 8; round++) {
      await changes(round);
      clock.advance(ROUND_MS);
    }
    // Down at 0 ms: asked again after 500 ms (at 600, the first round past it), then after 1000 ms (at 1600, not reached).
    expect(told(log)).toEqual([["0 v1", "1 down"], ["0 v2"], ["0 v3"], ["0 v4", "1 down"], ["0 v5"], ["0 v6"], ["0 v7"], ["0 v8"]]);
  });

  it("counts a node that takes too long to answer as down, and tells the pages what the others said", async () => {
    const stuck = await fakeNode(clock, () => new Promise<object>(() => {}));
    const { log, changes } = watch([await prompt(), stuck], () => true);
    await changes(1); // after the round's wait for an answer, on undici's own timer
    expect(log).toEqual(["0 v1", "1 down", "change"]);
  });
});

describe("watchNodes -> while the cluster is idle", () => {
  it("holds a watch on every node with the version it has, tells the pages of each answer at once, and goes to rounds when a view makes the cluster busy", async () => {
    let busy = false;
    const answerHeld: (() => void)[] = []; // each node's held watch, answered when the test says
    const node = (i: number) => fakeNode(clock, (n, query) => (query.get("version") === "0" || query.get("waitMs") === "0" ? { version: n } : new Promise<object>((resolve) => (answerHeld[i] = () => resolve({ version: n })))));
    const nodes = [await node(0), await node(1)];
    const { log, changes } = watch(nodes, () => busy);
    await changes(2); // each node's first view
    await Promise.all(nodes.map((n) => n.whenAsked(2)));
    for (const n of nodes) expect(Object.fromEntries(n.asked[1]!.query)).toEqual({ version: "1", waitMs: "25000" });
    expect(clock.sleeping, "nothing timed while idle").toBe(0);

    busy = true; // the next view says so (a follower behind)
    answerHeld[0]!();
    await changes(4); // that view at once, then a round of both nodes, also with no time passing
    expect(told(log).slice(0, 2).sort(), "each node's first view, told as it came").toEqual([["0 v1"], ["1 v1"]]);
    expect(told(log).slice(2), "node 1's held watch let go (its answer 2 never came)").toEqual([["0 v2"], ["0 v3", "1 v3"]]);
    for (const n of nodes) expect(n.asked.at(-1)!.query.get("waitMs")).toBe("0");
    expect(clock.now()).toBe(T0);
  });

  it("wake() lets go of the held watches: every node is asked again at once", async () => {
    const node = () => fakeNode(clock, (n, query) => (query.get("version") === "0" ? { version: n } : new Promise<object>(() => {})));
    const nodes = [await node(), await node()];
    const { watching } = watch(nodes, () => false);
    await Promise.all(nodes.map((n) => n.whenAsked(2)));
    watching.wake();
    await Promise.all(nodes.map((n) => n.whenAsked(3)));
    for (const n of nodes) expect(n.asked[2]!.query.get("version")).toBe("1");
  });
});

/** Resolves once `check` holds, looking after each turn of the event loop (no time passes on the manual clock meanwhile). */
async function until(check: () => boolean) {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(check()).toBe(true);
}
