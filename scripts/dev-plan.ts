import { readWholeNumber } from "@lab/service";

/** One process `pnpm dev` starts. */
export interface DevProcess {
  /** The prefix of its lines: `api` and `worker` as in the chapter, `worker-3002` when there are several followers. */
  name: string;
  /** The app directory it runs in. */
  app: "api" | "worker" | "dashboard";
  port: number;
  /** The variables it gets on top of the environment. */
  env: Record<string, string>;
}

/** The most followers `pnpm dev` starts: each is a Node process of about 60 MB. */
export const MAX_DEV_FOLLOWERS = 16;

/**
 * Works out what `pnpm dev` runs from its environment: the leader on LEADER_PORT (3000),
 * FOLLOWERS followers (1) on FOLLOWER_PORT (3001) and the ports after it, and the live dashboard
 * on DASHBOARD_PORT (3100), which watches them all. APPLY_LAG_MS may be
 * one value for every follower or a comma list, one per follower. With several followers each
 * keeps its data (DATA_DIR) in a directory of its own, so they never share a file. Throws a
 * message naming the variable when something does not fit.
 */
export function planDev(env: Record<string, string | undefined>): DevProcess[] {
  const leaderPort = readWholeNumber(env, "LEADER_PORT", 3000, { min: 1, max: 65535 });
  const dashboardPort = readWholeNumber(env, "DASHBOARD_PORT", 3100, { min: 1, max: 65535 });
  const firstPort = readWholeNumber(env, "FOLLOWER_PORT", 3001, { min: 1, max: 65535 });
  const count = readWholeNumber(env, "FOLLOWERS", 1, { min: 0, max: MAX_DEV_FOLLOWERS });
  const lags = readLags(env.APPLY_LAG_MS, count);
  if (count > 1 && env.FOLLOWER_ID?.trim()) {
    throw new Error(`FOLLOWER_ID names one follower; with FOLLOWERS=${count} each is named after its port (follower-${firstPort}, ...): unset FOLLOWER_ID`);
  }
  const ports = Array.from({ length: count }, (_, i) => firstPort + i);
  if (ports.includes(leaderPort)) throw new Error(`LEADER_PORT=${leaderPort} is one of the followers' ports (${ports.join(", ")}): pick another LEADER_PORT or FOLLOWER_PORT`);
  if (ports.at(-1)! > 65535) throw new Error(`FOLLOWER_PORT=${firstPort} with FOLLOWERS=${count} runs past port 65535`);
  if (dashboardPort === leaderPort || ports.includes(dashboardPort)) throw new Error(`DASHBOARD_PORT=${dashboardPort} is a node's port: pick another`);

  const leaderUrl = env.LEADER_URL?.trim() || `http://localhost:${leaderPort}`;
  const dataDir = env.DATA_DIR?.trim();
  return [
    { name: "api", app: "api", port: leaderPort, env: { PORT: String(leaderPort) } },
    ...ports.map((port, i): DevProcess => ({
      name: count === 1 ? "worker" : `worker-${port}`,
      app: "worker",
      port,
      env: {
        PORT: String(port),
        LEADER_URL: leaderUrl,
        ...(lags[i] === undefined ? {} : { APPLY_LAG_MS: lags[i] }),
        ...(dataDir && count > 1 ? { DATA_DIR: `${dataDir}/follower-${port}` } : {}),
      },
    })),
    {
      name: "dashboard",
      app: "dashboard",
      port: dashboardPort,
      env: { DASHBOARD_PORT: String(dashboardPort), LEADER_URL: `http://localhost:${leaderPort}`, FOLLOWER_URLS: ports.map((p) => `http://localhost:${p}`).join(",") },
    },
  ];
}

/** APPLY_LAG_MS as one value per follower (each still checked by the follower itself). */
function readLags(raw: string | undefined, count: number): (string | undefined)[] {
  if (raw === undefined || raw.trim() === "") return Array.from({ length: count }, () => undefined);
  const parts = raw.split(",").map((s) => s.trim());
  if (parts.length === 1) return Array.from({ length: count }, () => parts[0]);
  if (parts.length !== count) {
    throw new Error(`APPLY_LAG_MS lists ${parts.length} lags (${JSON.stringify(raw)}) for FOLLOWERS=${count}: give one lag, or one per follower`);
  }
  return parts;
}
