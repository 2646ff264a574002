import { fileURLToPath } from "node:url";
import { MAX_APPLY_LAG_MS } from "@lab/node";
import { readWholeNumber } from "@lab/service";
import type { PairSettings } from "./pair.ts";

/** Where the pair lives unless PG_DIR says otherwise: `.pg/` at the top of the repository (gitignored). */
const DEFAULT_PG_DIR = fileURLToPath(new URL("../../.pg", import.meta.url));
export const DEFAULT_PRIMARY_PORT = 5440;
export const DEFAULT_STANDBY_PORT = 5441;
/** The follower's default APPLY_LAG_MS, so the pair lags as the chapter's follower does. */
export const DEFAULT_APPLY_LAG_MS = 1500;

/** Reads PG_DIR, PG_PRIMARY_PORT, PG_STANDBY_PORT and APPLY_LAG_MS once; throws a ConfigError naming the variable that is wrong. */
export function readPairSettings(env: Record<string, string | undefined>): PairSettings {
  return {
    dir: env.PG_DIR?.trim() || DEFAULT_PG_DIR,
    primaryPort: readWholeNumber(env, "PG_PRIMARY_PORT", DEFAULT_PRIMARY_PORT, { min: 1024, max: 65535 }),
    standbyPort: readWholeNumber(env, "PG_STANDBY_PORT", DEFAULT_STANDBY_PORT, { min: 1024, max: 65535 }),
    applyLagMs: readWholeNumber(env, "APPLY_LAG_MS", DEFAULT_APPLY_LAG_MS, { max: MAX_APPLY_LAG_MS }),
  };
}
