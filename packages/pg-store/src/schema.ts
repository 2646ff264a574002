import type pg from "pg";

/**
 * The leader's tables. `orders` is the state, as the lab's leader holds it in memory;
 * `order_events` is the lab's log, one row per change, numbered by the lab's offset. Both change
 * in the same transaction, so the state always holds exactly the events below the head.
 *
 * Neither is what PostgreSQL replicates: the standby receives the WAL, the log PostgreSQL keeps
 * of every change to every page, positioned by LSN, and replays it. The events table is kept
 * because it lets a learner see the lab's offset and PostgreSQL's LSN side by side: on the
 * standby, the highest offset it shows is what the follower has applied, and the write reply
 * carries both.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS order_events (
  "offset"  bigint PRIMARY KEY,  -- the lab's offset: 0, 1, 2, ... in commit order, no gaps
  type      text   NOT NULL CHECK (type IN ('OrderCreated', 'OrderConfirmed', 'OrderCanceled')),
  order_id  text   NOT NULL,
  at        bigint NOT NULL      -- the leader's clock when it decided the change (ms since 1970)
);
CREATE TABLE IF NOT EXISTS orders (
  id         text   PRIMARY KEY,
  status     text   NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELED')),
  updated_at bigint NOT NULL     -- the "at" of its last event
);`;

/** Creates the tables if they are missing (on the primary: the standby gets them through the WAL). */
export async function createSchema(pool: pg.Pool): Promise<void> {
  await pool.query(SCHEMA);
}

/** SQLSTATE 42P01: the table is not there (on a standby, not replayed yet). */
export const UNDEFINED_TABLE = "42P01";
