import type { Scenario } from "./lab.ts";
import { boundedStaleness } from "./scenarios/bounded-staleness.ts";
import { failover, failoverSync } from "./scenarios/failover.ts";
import { followerFallsBehind } from "./scenarios/follower-falls-behind.ts";
import { lagAccumulates } from "./scenarios/lag-accumulates.ts";
import { leaderRestartWithoutData } from "./scenarios/leader-restart-without-data.ts";
import { monotonicReads } from "./scenarios/monotonic-reads.ts";
import { readYourWrites } from "./scenarios/read-your-writes.ts";
import { splitBrain } from "./scenarios/split-brain.ts";
import { staleRead } from "./scenarios/stale-read.ts";
import { syncVsAsync } from "./scenarios/sync-vs-async.ts";

/** Every scenario `pnpm lab` knows, in the order a learner meets the ideas. */
export const scenarios: Scenario[] = [staleRead, lagAccumulates, readYourWrites, leaderRestartWithoutData, followerFallsBehind, monotonicReads, boundedStaleness, syncVsAsync, failover, failoverSync, splitBrain];
