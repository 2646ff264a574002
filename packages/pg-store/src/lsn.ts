/**
 * PostgreSQL's log positions. An LSN (log sequence number) is a byte position in the WAL,
 * written as two hexadecimal halves, `0/3015FD0`: PostgreSQL's offset. Unlike the lab's offsets
 * it counts bytes, not events, so two LSNs can be compared and subtracted (pg_wal_lsn_diff), but
 * not counted in writes.
 */
const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** The LSN `text` names, as a number of bytes; undefined if it is not one. */
export function parseLsn(text: string): bigint | undefined {
  const match = LSN.exec(text);
  if (!match) return undefined;
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** Whether position `at` (an LSN as PostgreSQL prints it) has reached `target`; false when `at` is null (nothing replayed). */
export function lsnReached(at: string | null, target: bigint): boolean {
  const position = at === null ? undefined : parseLsn(at);
  return position !== undefined && position >= target;
}
