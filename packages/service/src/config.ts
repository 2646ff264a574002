/**
 * Reading configuration from the environment: once, at start-up, with a clear refusal that names
 * the variable. A typo in APPLY_LAG_MS should stop the follower with a sentence, not run it with
 * `NaN` milliseconds of lag.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

const WHOLE_NUMBER = /^\d+$/;

/**
 * Parses a non-negative whole number written in decimal digits only ("12", not "1e3", "0x10",
 * " 5" or "-1"), or returns undefined. Shared by env vars and query parameters.
 */
export function parseWholeNumber(text: string): number | undefined {
  if (!WHOLE_NUMBER.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Reads a whole number in `[min, max]` from `env[name]`, or `fallback` when it is unset or empty. */
export function readWholeNumber(env: Env, name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = parseWholeNumber(raw.trim());
  if (value === undefined || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Reads a TCP port (0-65535; 0 picks a free one). */
export function readPort(env: Env, fallback: number): number {
  return readWholeNumber(env, "PORT", fallback, { max: 65535 });
}

/** Reads an http(s) base URL, without a trailing slash. */
export function readUrl(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim() || fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL such as http://localhost:3000, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name} must start with http:// or https://, got ${JSON.stringify(raw)}`);
  }
  if (url.search || url.hash || url.pathname !== "/") {
    throw new ConfigError(`${name} must be a base URL such as http://localhost:3000, without a path, ?query or #fragment, got ${JSON.stringify(raw)}`);
  }
  return url.href.replace(/\/+$/, "");
}

/** Whether a server bound to HOST (as readHost returns it) is reachable only from this machine. */
export function isLoopbackHost(host: string | undefined): boolean {
  return host === undefined || ["127.0.0.1", "::1", "localhost"].includes(host);
}

/** Reads HOST: unset means loopback (both 127.0.0.1 and ::1). */
export function readHost(env: Env): string | undefined {
  const raw = env.HOST?.trim();
  return raw ? raw : undefined;
}

/** Reads one of `choices` from `env[name]`, or `fallback` when it is unset or empty. */
export function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be ${choices.map((c) => JSON.stringify(c)).join(" or ")}, got ${JSON.stringify(env[name])}`);
  return raw as T;
}
