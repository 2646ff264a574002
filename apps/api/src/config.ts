import { readHost, readPort } from "@lab/service";

/** The leader's settings, read once from the environment at start-up. */
export interface LeaderConfig {
  /** PORT, default 3000 as in the chapter. */
  port: number;
  /** HOST; unset means loopback only (127.0.0.1 and ::1). */
  host: string | undefined;
}

/** Reads and checks the leader's settings; throws a ConfigError naming the variable that is wrong. */
export function readLeaderConfig(env: Record<string, string | undefined>): LeaderConfig {
  return { port: readPort(env, 3000), host: readHost(env) };
}
