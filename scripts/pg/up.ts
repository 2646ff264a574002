import { runCommand } from "./command.ts";
import { findPostgres } from "./binaries.ts";
import { inspectPair, upPair, type Pair } from "./pair.ts";
import { readPairSettings } from "./settings.ts";

/**
 * `pnpm pg:up`: a PostgreSQL primary and a streaming standby on loopback, in PG_DIR (default
 * .pg/), the standby replaying each commit APPLY_LAG_MS late (recovery_min_apply_delay). Run it
 * again and it says the pair is up; a stale directory or a taken port is refused, changing nothing.
 */
runCommand("pg:up", async (log) => {
  const settings = readPairSettings(process.env);
  const state = inspectPair(settings.dir);
  if (state.kind === "running") {
    log(`already up in ${state.pair.dir}: nothing to do (pnpm pg:down stops it)`);
    printPair(state.pair, log);
    return;
  }
  const found = findPostgres();
  if (!found.ok) throw new Error(found.message);
  log(`using ${found.binaries.binDir} (${found.binaries.version}; found by ${found.binaries.foundBy})`);
  const pair = await upPair(settings, found.binaries, log);
  printPair(pair, log);
});

function printPair(pair: Pair, log: (line: string) => void) {
  log(`primary  ${pair.primary.url}   (data ${pair.primary.dataDir}, log ${pair.primary.logFile})`);
  log(`standby  ${pair.standby.url}   (data ${pair.standby.dataDir}, log ${pair.standby.logFile}), recovery_min_apply_delay=${pair.applyLagMs}ms`);
  log("next, in two terminals (bash; see docs/postgres.md for PowerShell and cmd):");
  log(`  STORE=postgres PG_URL=${pair.primary.url} PORT=3000 pnpm --dir apps/api dev`);
  log(`  STORE=postgres PG_URL=${pair.standby.url} PORT=3001 LEADER_URL=http://localhost:3000 pnpm --dir apps/worker dev`);
  log("or the tour: pnpm pg:tour; stop it all: pnpm pg:down");
}
