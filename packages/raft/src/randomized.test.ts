import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./testing/harness.ts";
import { pick, randomInt, seededRandom } from "./testing/seeded-random.ts";

/** Operations per run: RAFT_FUZZ_OPS=20000 for a long one. */
const OPS = Number(process.env.RAFT_FUZZ_OPS ?? 2_000);
/** RAFT_FUZZ_SEED=n replays one run, step for step. */
const SEEDS = process.env.RAFT_FUZZ_SEED ? [Number(process.env.RAFT_FUZZ_SEED)] : [11, 12, 13, 14];

/**
 * A random story: proposals to whoever thinks it leads, crashes (in the middle of a Ready too),
 * restarts, partitions, disconnections, lost and duplicated messages, all at random from a seed.
 * The harness checks the safety properties at every step (one leader per term, one entry per
 * index across all nodes, a new leader holds every applied entry). At the end everything heals,
 * and then: every proposal acknowledged to its client is on every node, at the index it was given;
 * every node's applied sequence is the one history, or a prefix of it; no command is in it twice.
 */
function runStory(h: Harness, random: () => number, ops: number) {
  let command = 0;
  const someone = (which: string[]) => (which.length > 0 ? pick(random, which) : undefined);
  for (let op = 0; op < ops; op++) {
    const r = random();
    const crashed = h.ids.filter((id) => !h.isAlive(id));
    if (r < 0.45) {
      const leaders = h.alive().filter((id) => h.status(id).role === "leader");
      const to = someone(leaders) ?? someone(h.alive());
      if (to) h.submitToServer(to, ++command);
    } else if (r < 0.65) h.runFor(randomInt(random, 1, 60));
    else if (r < 0.69) {
      const id = someone(h.alive());
      if (id) h.crashPeer(id);
    } else if (r < 0.71) {
      const id = someone(h.alive());
      if (id) h.crashAtNextReady(id);
    } else if (r < 0.78) {
      const id = someone(crashed);
      if (id) h.restartPeer(id);
    } else if (r < 0.82) {
      const shuffled = [...h.ids].sort(() => random() - 0.5);
      const cut = randomInt(random, 1, h.ids.length - 1);
      h.partition(shuffled.slice(0, cut), shuffled.slice(cut));
    } else if (r < 0.87) h.heal();
    else if (r < 0.91) h.disconnectPeer(pick(random, h.ids));
    else if (r < 0.95) h.reconnectPeer(pick(random, h.ids));
    else if (r < 0.98) {
      h.network.dropRate = random() < 0.5 ? 0 : random() * 0.2;
      h.network.duplicateRate = random() < 0.5 ? 0 : random() * 0.1;
    } else {
      h.calm(); // a calm spell, so that the story is not all chaos
      h.runFor(600);
    }
    h.runFor(randomInt(random, 0, 3));
  }
  return command;
}

describe("a randomized story of crashes and partitions", () => {
  it.each(SEEDS.flatMap((seed) => [3, 5].map((nodes) => [seed, nodes] as const)))(`${OPS} operations; every acknowledged proposal survives (seed %i, %i nodes)`, (seed, nodes) => {
    const h = createHarness({ nodes, seed, latencyMs: { min: 1, max: 10 } });
    const proposed = runStory(h, seededRandom(seed * 7919), OPS);

    h.calm();
    h.commit(proposed + 1, h.ids);
    h.waitApplied(h.ids);

    const replay = `replay with RAFT_FUZZ_SEED=${seed}`;
    const acknowledged = h.acknowledged();
    expect(acknowledged.length, `acknowledged proposals of ${proposed}: the story must make progress (${replay})`).toBeGreaterThan(proposed / 10);
    for (const id of h.ids) {
      const mine = h.applied(id);
      expect(isDeepStrictEqual(mine, h.history.slice(0, mine.length)), `${id}'s applied sequence is a prefix of the history (${replay})`).toBe(true);
      expect(mine.length, `${id} applied everything (${replay})`).toBe(h.history.length);
      for (const p of acknowledged) {
        const entry = mine[p.index - 1];
        if (!entry || !("command" in entry) || entry.command !== p.command) h.fail(`acknowledged proposal ${p.command} (index ${p.index}, term ${p.term}) is missing on ${id}`);
      }
    }
    const commands = h.commands(h.ids[0]!);
    expect(new Set(commands).size, `no command twice (${replay})`).toBe(commands.length);
  }, Math.max(20_000, OPS * 2)); // a long run (RAFT_FUZZ_OPS) takes its time
});
