import { refusalError } from "@lab/node";
import { applyEvent, createOrders, decide, type Order, type OrderCommand, type OrderEvent, type OrderStatus } from "@lab/orders";
import { HttpError, httpError, type Clock, type LogLine } from "@lab/service";
import type pg from "pg";
import { unavailable } from "./database.ts";


/** A write the primary committed: the order as it now stands, its event at the lab's offset, and the commit's position in the WAL. */
export interface Committed {
  order: Order;
  event: { offset: number } & OrderEvent;
  /** At or past the end of the commit's WAL record: once the standby has replayed this LSN, it shows the write. */
  lsn: string;
}

export interface PgWritePathDeps {
  pool: pg.Pool;
  url: string;
  clock: Clock;
  logLine: LogLine;
  /** How long a commit may wait for a synchronous standby (synchronous_standby_names on the primary) before it is cancelled: SYNC_TIMEOUT_MS. */
  syncTimeoutMs: number;
}

/**
 * The leader's write path on the primary, in one transaction per write, in the same order as
 * the in-memory leader's (packages/node/src/write-path.ts):
 *
 * 1. take the events table's lock, so writes are decided one at a time (as the lab's leader
 *    decides them in one synchronous step) and offsets are gapless and in commit order;
 * 2. read the order and the head; `decide` (the lab's) says whether the command is legal;
 * 3. append the event at the head and apply it with `applyEvent` (the lab's), both in the
 *    transaction; a refused command rolls back, writing nothing;
 * 4. COMMIT: durable on the primary, and, when the primary is synchronous, once its standby has
 *    it. PostgreSQL's statement_timeout does not end that wait, so after `syncTimeoutMs` the write
 *    is cancelled from another connection (pg_cancel_backend): COMMIT then returns with the
 *    WARNING "canceling wait for synchronous replication", the write stays committed on the
 *    primary, and the reply is the lab's 504 REPLICATION_TIMEOUT: not a rollback.
 * 5. the reply carries pg_current_wal_lsn() as read right after COMMIT: at least the end of the
 *    commit record, and never a position the standby could fail to reach.
 */
export function createPgWritePath({ pool, url, clock, logLine, syncTimeoutMs }: PgWritePathDeps) {
  return async function write(command: OrderCommand): Promise<Committed> {
    const client = await pool.connect().catch((err: unknown) => Promise.reject(unavailable(err, "primary", url)));
    let discard = false; // a connection a cancel was sent to is closed, never handed to the next write
    let open = false; // a transaction is open on it
    try {
      await client.query("BEGIN");
      open = true;
      await client.query("LOCK TABLE order_events IN EXCLUSIVE MODE");
      const { rows } = await client.query<{ head: string; pid: number; status: OrderStatus | null; updated_at: string | null }>(
        `SELECT (SELECT coalesce(max("offset") + 1, 0) FROM order_events) AS head, pg_backend_pid() AS pid, o.status, o.updated_at
           FROM (SELECT $1::text AS id) AS wanted LEFT JOIN orders o ON o.id = wanted.id`,
        [command.orderId],
      );
      const row = rows[0]!;
      const orders = createOrders();
      if (row.status !== null) orders.set(command.orderId, { id: command.orderId, status: row.status, updatedAt: Number(row.updated_at) });
      const decision = decide(orders, command, clock.now());
      if (!decision.ok) {
        await client.query("ROLLBACK");
        open = false;
        throw refusalError(decision);
      }
      const event = { offset: Number(row.head), ...decision.event };
      const order = applyEvent(orders, decision.event);
      await client.query(`INSERT INTO order_events ("offset", type, order_id, at) VALUES ($1, $2, $3, $4)`, [event.offset, event.type, event.orderId, event.at]);
      await client.query(`INSERT INTO orders (id, status, updated_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`, [order.id, order.status, order.updatedAt]);
      open = false; // COMMIT ends the transaction, whatever it answers
      const commit = await commitWithin(client, row.pid);
      discard = commit.cancelSent;
      const lsn = (await client.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!.lsn;
      logLine(`committed offset=${event.offset} type=${event.type} orderId=${event.orderId} lsn=${lsn}${commit.replicationTimedOut ? " (its standby did not confirm it in time)" : ""}`);
      if (commit.replicationTimedOut) {
        throw httpError(504, "REPLICATION_TIMEOUT", `the primary committed the write (lsn ${lsn}), but its synchronous standby did not confirm it within SYNC_TIMEOUT_MS=${syncTimeoutMs} ms: it is not rolled back, and reaches the standby once it is back`, {
          leader: true,
          order,
          event,
          lsn,
        });
      }
      return { order, event, lsn };
    } catch (err) {
      if (open) await client.query("ROLLBACK").catch(() => (discard = true));
      if (!(err instanceof HttpError)) discard = true; // the connection itself may be what failed: do not reuse it
      throw unavailable(err, "primary", url);
    } finally {
      client.release(discard);
    }
  };

  /** COMMIT, cancelled from another connection if it is still waiting after `syncTimeoutMs`. */
  async function commitWithin(client: pg.PoolClient, pid: number): Promise<{ replicationTimedOut: boolean; cancelSent: boolean }> {
    const warnings: string[] = [];
    const onNotice = (notice: { message?: string | undefined }) => void warnings.push(notice.message ?? "");
    client.on("notice", onNotice);
    const done = new AbortController();
    let cancel: Promise<unknown> | undefined;
    void clock.sleep(syncTimeoutMs, done.signal).then(() => {
      if (!done.signal.aborted) cancel = pool.query("SELECT pg_cancel_backend($1)", [pid]).catch(() => {});
    });
    try {
      await client.query("COMMIT");
    } finally {
      done.abort("committed"); // a reason spares abort() building a DOMException on every write
      client.off("notice", onNotice);
    }
    if (cancel) await cancel;
    return { replicationTimedOut: warnings.some((w) => w.startsWith("canceling wait for synchronous replication")), cancelSent: cancel !== undefined };
  }
}

