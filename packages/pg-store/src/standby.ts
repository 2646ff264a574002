import type { Order, OrderStatus } from "@lab/orders";
import type pg from "pg";
import { UNDEFINED_TABLE } from "./schema.ts";

/** Where the standby stands: the lab's applied offset (the highest in its events table) and PostgreSQL's replay position. */
export interface StandbyPosition {
  /** The last offset the standby has applied; null before the first (or before the tables reached it). */
  appliedOffset: number | null;
  /** pg_last_wal_replay_lsn(): the end of the last WAL record it replayed. */
  appliedLsn: string | null;
}

/**
 * The order `id` as the standby shows it now, with its position. A standby that has not replayed
 * the leader's CREATE TABLE yet has no tables: to a reader that is "not replicated yet", as on an
 * empty follower, not an error.
 */
export async function readStandbyOrder(pool: pg.Pool, id: string): Promise<StandbyPosition & { order: Order | undefined; applyLagMs?: number }> {
  try {
    // One statement: the order, where the standby stands, and its delay (recovery_min_apply_delay), as a reply needs them.
    const { rows } = await pool.query<{ applied: string | null; lsn: string | null; status: OrderStatus | null; updated_at: string | null; apply_lag_ms: number }>(
      `SELECT (SELECT max("offset") FROM order_events) AS applied, pg_last_wal_replay_lsn()::text AS lsn, o.status, o.updated_at,
              (SELECT setting::int FROM pg_settings WHERE name = 'recovery_min_apply_delay') AS apply_lag_ms
         FROM (SELECT $1::text AS id) AS wanted LEFT JOIN orders o ON o.id = wanted.id`,
      [id],
    );
    const row = rows[0]!;
    return {
      appliedOffset: row.applied === null ? null : Number(row.applied),
      appliedLsn: row.lsn,
      order: row.status === null ? undefined : { id, status: row.status, updatedAt: Number(row.updated_at) },
      applyLagMs: row.apply_lag_ms,
    };
  } catch (err) {
    if ((err as { code?: string }).code !== UNDEFINED_TABLE) throw err;
    return { ...(await readStandbyPosition(pool)), order: undefined };
  }
}

/** The standby's applied offset and replay LSN, in one statement. */
export async function readStandbyPosition(pool: pg.Pool): Promise<StandbyPosition> {
  try {
    const { rows } = await pool.query<{ applied: string | null; lsn: string | null }>(`SELECT (SELECT max("offset") FROM order_events) AS applied, pg_last_wal_replay_lsn()::text AS lsn`);
    return { appliedOffset: rows[0]!.applied === null ? null : Number(rows[0]!.applied), appliedLsn: rows[0]!.lsn };
  } catch (err) {
    if ((err as { code?: string }).code !== UNDEFINED_TABLE) throw err;
    const { rows } = await pool.query<{ lsn: string | null }>("SELECT pg_last_wal_replay_lsn()::text AS lsn");
    return { appliedOffset: null, appliedLsn: rows[0]!.lsn };
  }
}

/**
 * What `/status` says of the standby: its received and replayed positions and how far apart
 * they are (the WAL it holds but has not applied yet: recovery_min_apply_delay at work), its
 * delay setting, and its walreceiver's link to the primary. `lag.ms` is an upper bound: the age
 * of the newest commit it has replayed (now() - pg_last_xact_replay_timestamp()), 0 once it has
 * replayed all it received.
 */
export async function readStandbyStatus(pool: pg.Pool) {
  const [{ rows }, position] = await Promise.all([
    pool.query(`
      SELECT pg_is_in_recovery() AS in_recovery,
             pg_last_wal_receive_lsn()::text AS received_lsn, pg_last_wal_replay_lsn()::text AS replay_lsn,
             pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::float8 AS lag_bytes,
             pg_last_xact_replay_timestamp() AS replay_timestamp,
             (extract(epoch FROM pg_last_xact_replay_timestamp()) * 1000)::float8 AS replayed_ms,
             (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS replayed_age_ms,
             CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END AS paused,
             (SELECT setting::int FROM pg_settings WHERE name = 'recovery_min_apply_delay') AS apply_lag_ms,
             current_setting('recovery_min_apply_delay') AS delay_setting, current_setting('server_version') AS version,
             w.status AS receiver_status, w.sender_host, w.sender_port, w.last_msg_receipt_time,
             (extract(epoch FROM w.last_msg_receipt_time) * 1000)::float8 AS contact_ms
        FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver w ON true`),
    readStandbyPosition(pool),
  ]);
  const r = rows[0]!;
  const caughtUp = r.lag_bytes !== null && r.lag_bytes <= 0;
  return {
    nextFrom: position.appliedOffset === null ? 0 : position.appliedOffset + 1,
    appliedOffset: position.appliedOffset,
    receivedLsn: r.received_lsn as string | null,
    appliedLsn: r.replay_lsn as string | null,
    lag: { bytes: r.lag_bytes as number | null, ms: caughtUp ? 0 : r.replayed_age_ms === null ? null : Math.round(r.replayed_age_ms) },
    lastAppliedAt: r.replayed_ms === null ? null : Math.round(r.replayed_ms),
    applyLagMs: r.apply_lag_ms as number,
    leaderReachable: r.receiver_status === "streaming",
    lastContactAt: r.contact_ms === null ? null : Math.round(r.contact_ms),
    postgres: {
      pg_is_in_recovery: r.in_recovery,
      pg_last_wal_receive_lsn: r.received_lsn,
      pg_last_wal_replay_lsn: r.replay_lsn,
      pg_last_xact_replay_timestamp: r.replay_timestamp,
      pg_is_wal_replay_paused: r.paused,
      recovery_min_apply_delay: r.delay_setting,
      pg_stat_wal_receiver: { status: r.receiver_status, sender_host: r.sender_host, sender_port: r.sender_port, last_msg_receipt_time: r.last_msg_receipt_time },
      server_version: r.version,
    },
  };
}

/**
 * Sets the standby's recovery_min_apply_delay (the lab's APPLY_LAG_MS): ALTER SYSTEM writes it to
 * postgresql.auto.conf, pg_reload_conf() has the running server read it; the startup process
 * applies it from its next commit record on. Needs a superuser (the pair's `lab` is one).
 */
export async function setApplyLag(pool: pg.Pool, ms: number): Promise<void> {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`an apply lag is a whole number of ms, got ${ms}`);
  await pool.query(`ALTER SYSTEM SET recovery_min_apply_delay = '${ms}ms'`); // ALTER SYSTEM takes no parameters; ms is a checked integer
  await pool.query("SELECT pg_reload_conf()");
}
