import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runCommand } from "./command.ts";
import { findPostgres } from "./binaries.ts";
import { downPair, type Pair } from "./pair.ts";
import { serverUser } from "./server-user.ts";
import { readPairSettings } from "./settings.ts";

/** `pnpm pg:down`: stops the pair in PG_DIR (default .pg/) and removes the directory. With nothing there, says so. */
runCommand("pg:down", async (log) => {
  const dir = resolve(readPairSettings(process.env).dir);
  if (!existsSync(dir)) {
    log(`nothing to stop: there is no ${dir}`);
    return;
  }
  const file = join(dir, "pair.json");
  const recorded = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Pair) : undefined;
  let binDir = recorded?.binDir;
  if (binDir === undefined || !existsSync(binDir)) {
    const found = findPostgres();
    if (!found.ok) throw new Error(found.message);
    binDir = found.binaries.binDir;
  }
  const stopped = await downPair(dir, binDir, serverUser(log), log);
  log(`${stopped.length === 0 ? "no server was running; " : ""}removed ${dir}`);
});
