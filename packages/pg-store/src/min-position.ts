import { parseWholeNumber, httpError } from "@lab/service";
import { lsnReached, parseLsn } from "./lsn.ts";
import type { StandbyPosition } from "./standby.ts";

/** What a reader asks the follower to have applied first: a lab offset (the write reply's `event.offset`) or an LSN (its `lsn`). */
export type MinPosition = { offset: number; text: string } | { lsn: bigint; text: string };

/** Reads `?minOffset=`: a whole number, or an LSN such as 0/3015FD0; a 400 INVALID_PARAMETER otherwise. */
export function readMinPosition(query: Record<string, unknown>): MinPosition | undefined {
  const raw = query.minOffset;
  if (raw === undefined) return undefined;
  if (typeof raw === "string") {
    const offset = parseWholeNumber(raw);
    if (offset !== undefined) return { offset, text: raw };
    const lsn = parseLsn(raw);
    if (lsn !== undefined) return { lsn, text: raw };
  }
  throw httpError(400, "INVALID_PARAMETER", `minOffset must be an offset (a whole number, the write reply's event.offset) or an LSN such as 0/3015FD0 (its lsn), got ${JSON.stringify(raw)}`, { parameter: "minOffset" });
}

/** Whether the standby's position covers `min`. */
export function hasApplied(at: StandbyPosition, min: MinPosition): boolean {
  return "offset" in min ? at.appliedOffset !== null && at.appliedOffset >= min.offset : lsnReached(at.appliedLsn, min.lsn);
}
