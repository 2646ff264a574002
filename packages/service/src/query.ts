import { parseWholeNumber } from "./config.ts";
import { httpError } from "./errors.ts";

/**
 * Reads an optional whole-number query parameter, refusing anything else with a JSON 400 that
 * names the parameter: `?from=-1`, `?from=abc`, `?from=1&from=2` and a value over `max` all fail.
 */
export function readQueryNumber(
  query: Record<string, unknown>,
  name: string,
  options: { fallback: number; min?: number; max?: number },
): number;
export function readQueryNumber(
  query: Record<string, unknown>,
  name: string,
  options?: { fallback?: undefined; min?: number; max?: number },
): number | undefined;
export function readQueryNumber(
  query: Record<string, unknown>,
  name: string,
  { fallback, min = 0, max = Number.MAX_SAFE_INTEGER }: { fallback?: number | undefined; min?: number; max?: number } = {},
): number | undefined {
  const raw = query[name];
  if (raw === undefined) return fallback;
  const value = typeof raw === "string" ? parseWholeNumber(raw) : undefined;
  if (value === undefined || value < min || value > max) {
    throw httpError(400, "INVALID_PARAMETER", `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`, {
      parameter: name,
    });
  }
  return value;
}
