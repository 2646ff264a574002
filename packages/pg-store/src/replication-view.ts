import type pg from "pg";

/** PostgreSQL's walsender states, in the lab's words (docs/reference.md, `GET /replication`). */
const LAB_STATE: Record<string, string> = { streaming: "streaming", catchup: "catching up", backup: "resyncing", startup: "starting", stopping: "stopping" };

/** One standby of the primary, as the lab's `/replication` names things, with PostgreSQL's own row beside it. */
export interface StandbyRow {
  /** Its application_name (its cluster_name: `standby`), or the name of its replication slot while it is away. */
  id: string;
  via: null;
  /** `streaming`, `catching up` (catchup), `resyncing` (a base backup), `starting`, `stopping`; `disconnected` when only its slot is left. */
  state: string;
  /** sync_state: `async`, `sync`, `potential` or `quorum` (synchronous_standby_names). */
  sync: string | null;
  /** WAL sent to it (sent_lsn), received and on its disk (flush_lsn; write_lsn: received, not yet flushed), and replayed (replay_lsn): the lab's received and applied. */
  sentLsn: string | null;
  writtenLsn: string | null;
  receivedLsn: string | null;
  appliedLsn: string | null;
  /** `bytes`: WAL it has yet to replay (pg_current_wal_lsn() - replay_lsn); `ms`: replay_lag, 0 once it has replayed everything; `receivedMs`: flush_lag. */
  lag: { bytes: number | null; ms: number | null; receivedMs: number | null };
  /** reply_time: when it last reported its positions (every wal_receiver_status_interval, and on each write). */
  lastHeardAt: number | null;
  /** The WAL the primary keeps for it (its replication slot's restart_lsn), like the lab's RETAIN_EVENTS but unbounded. */
  slot: { name: string; active: boolean; keepsFromLsn: string | null } | null;
  postgres: Record<string, unknown>;
}

/**
 * The primary's view of its standbys: pg_stat_replication (one row per connected walsender),
 * with pg_replication_slots beside it so that a standby that went away still shows, as the lab's
 * `disconnected` follower does, with the WAL the primary keeps for it.
 */
export async function readStandbys(pool: pg.Pool): Promise<{ followers: StandbyRow[] }> {
  const { rows } = await pool.query(`
    SELECT r.application_name, r.state, r.sync_state,
           r.sent_lsn::text, r.write_lsn::text, r.flush_lsn::text, r.replay_lsn::text,
           pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(r.replay_lsn, s.restart_lsn))::float8 AS lag_bytes,
           (extract(epoch FROM r.replay_lag) * 1000)::float8 AS replay_lag_ms, (extract(epoch FROM r.flush_lag) * 1000)::float8 AS flush_lag_ms,
           r.write_lag::text, r.flush_lag::text, r.replay_lag::text, r.reply_time, (extract(epoch FROM r.reply_time) * 1000)::float8 AS reply_ms,
           s.slot_name, s.active, s.restart_lsn::text
      FROM (SELECT * FROM pg_stat_replication) r
      FULL JOIN (SELECT * FROM pg_replication_slots WHERE slot_type = 'physical') s ON s.active_pid = r.pid
     ORDER BY coalesce(r.application_name, s.slot_name)`);
  const followers = rows.map((r): StandbyRow => {
    const connected = r.state !== null;
    const caughtUp = connected && r.replay_lsn !== null && r.lag_bytes <= 0; // replayed up to the primary's position now
    return {
      id: r.application_name ?? r.slot_name,
      via: null,
      state: connected ? (LAB_STATE[r.state] ?? r.state) : "disconnected",
      sync: r.sync_state,
      sentLsn: r.sent_lsn,
      writtenLsn: r.write_lsn,
      receivedLsn: r.flush_lsn,
      appliedLsn: r.replay_lsn,
      lag: { bytes: r.lag_bytes, ms: caughtUp ? 0 : r.replay_lag_ms, receivedMs: caughtUp ? 0 : r.flush_lag_ms },
      lastHeardAt: r.reply_ms === null ? null : Math.round(r.reply_ms),
      slot: r.slot_name === null ? null : { name: r.slot_name, active: r.active, keepsFromLsn: r.restart_lsn },
      postgres: {
        application_name: r.application_name,
        state: r.state,
        sync_state: r.sync_state,
        sent_lsn: r.sent_lsn,
        write_lsn: r.write_lsn,
        flush_lsn: r.flush_lsn,
        replay_lsn: r.replay_lsn,
        write_lag: r.write_lag,
        flush_lag: r.flush_lag,
        replay_lag: r.replay_lag,
        reply_time: r.reply_time,
        slot_name: r.slot_name,
        restart_lsn: r.restart_lsn,
      },
    };
  });
  return { followers };
}
