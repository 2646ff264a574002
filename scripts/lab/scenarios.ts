import { runScenario, type Recording, type Scenario } from "./lab.ts";
import { runRaftScenario, type RaftScenario } from "./raft-lab.ts";
import { boundedStaleness } from "./scenarios/bounded-staleness.ts";
import { election } from "./scenarios/election.ts";
import { failover, failoverSync } from "./scenarios/failover.ts";
import { followerFallsBehind } from "./scenarios/follower-falls-behind.ts";
import { lagAccumulates } from "./scenarios/lag-accumulates.ts";
import { leaderRestartWithoutData } from "./scenarios/leader-restart-without-data.ts";
import { monotonicReads } from "./scenarios/monotonic-reads.ts";
import { readYourWrites } from "./scenarios/read-your-writes.ts";
import { runawayServer, runawayServerPreVote } from "./scenarios/runaway-server.ts";
import { splitBrain } from "./scenarios/split-brain.ts";
import { staleRead } from "./scenarios/stale-read.ts";
import { syncVsAsync } from "./scenarios/sync-vs-async.ts";

/** A scenario of either kind: on a leader and its followers, or on a Raft group. */
export type AnyScenario = Scenario | RaftScenario;

/** Every scenario `pnpm lab` knows, in the order a learner meets the ideas: the Raft group's after failover's. */
export const scenarios: AnyScenario[] = [
  staleRead,
  lagAccumulates,
  readYourWrites,
  leaderRestartWithoutData,
  followerFallsBehind,
  monotonicReads,
  boundedStaleness,
  syncVsAsync,
  failover,
  failoverSync,
  splitBrain,
  election,
  runawayServer,
  runawayServerPreVote,
];

/** Runs a scenario on what it needs (a leader and its followers, or a Raft group); what the explanation needs besides the verdict comes in `facts`. */
export async function runAnyScenario(scenario: AnyScenario, options: { deterministic?: boolean } = {}): Promise<Recording & { facts: Record<string, string | number | boolean> }> {
  if ("group" in scenario) return runRaftScenario(scenario, options);
  return { ...(await runScenario(scenario, options)), facts: {} };
}
