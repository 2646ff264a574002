import { checkOrderId, type Orders } from "@lab/orders";
import { httpError, readQueryNumber, type Clock } from "@lab/service";
import { Router, type Response } from "express";

/** The most a reader may ask the follower to wait for `minOffset`. */
export const MAX_WAIT_MS = 30_000;
/** How long a reader waits for `minOffset` when it does not say. */
export const DEFAULT_WAIT_MS = 2000;
/** The largest `maxStalenessMs` a reader may ask for: a day. */
export const MAX_STALENESS_MS = 86_400_000;

export interface FollowerRoutesDeps {
  orders: Orders;
  clock: Clock;
  /** Where writes go (the leader's URL), if this follower knows. */
  leaderUrl(): string | undefined;
  /** APPLY_LAG_MS as it is now (an admin may change it). */
  applyLagMs(): number;
  /** The replication position, for replies. */
  position(): { nextFrom: number; appliedOffset: number | null; head: number | null };
  /** Resolves true once `offset` is applied, false once `timeout` settles. */
  waitForApplied(offset: number, timeout: Promise<void>): Promise<boolean>;
  /** How stale the applied state may be, as the follower can prove (see freshness.ts); null when it cannot tell. */
  stalenessMs(): number | null;
  /** The epoch its log is at, once there has been a promotion; undefined before (the chapter's replies). */
  epoch(): number | undefined;
}

/**
 * The follower's routes. It only reads: the state it serves is whatever it has applied from the
 * leader's log so far, which is why a read here can be stale. `?minOffset=N` lets a reader ask for
 * "at least up to offset N" (the offset of its own write): the follower waits, bounded, until it
 * has applied N, or answers 504 with its position so the reader can go to the leader instead.
 * `?maxStalenessMs=N` asks for bounded staleness: the follower answers only if it can prove its
 * reply reflects every write the leader acknowledged more than N ms before the read, and
 * otherwise 503 TOO_STALE, saying how stale it may be.
 * Writes are refused with the leader's URL, as Valkey's replicas answer READONLY.
 */
export function followerRoutes(deps: FollowerRoutesDeps): Router {
  const { orders, clock, applyLagMs, position } = deps;
  const writesGoTo = () => {
    const url = deps.leaderUrl();
    return url ? `the leader at ${url}` : "the leader (its address is not known here yet: this follower has not heard from its upstream)";
  };
  const router = Router();

  router.get("/orders/:id", async (req, res) => {
    const check = checkOrderId(req.params.id);
    if (!check.ok) throw httpError(400, "INVALID_ID", check.message);
    const minOffset = readQueryNumber(req.query, "minOffset");
    const timeoutMs = readQueryNumber(req.query, "timeoutMs", { fallback: DEFAULT_WAIT_MS, max: MAX_WAIT_MS });
    const maxStalenessMs = readQueryNumber(req.query, "maxStalenessMs", { max: MAX_STALENESS_MS });
    if (minOffset !== undefined) await waitOrRefuse(res, minOffset, timeoutMs);
    const stalenessMs = maxStalenessMs === undefined ? undefined : refuseIfTooStale(maxStalenessMs);

    const order = orders.get(check.id);
    if (!order) {
      throw httpError(404, "ORDER_NOT_FOUND", "not found (maybe not replicated yet)", { follower: true, ...position() });
    }
    const { nextFrom, appliedOffset } = position();
    const epoch = deps.epoch();
    res.json({ ok: true, follower: true, nextFrom, appliedOffset, applyLagMs: applyLagMs(), ...(stalenessMs === undefined ? {} : { stalenessMs }), ...(epoch === undefined ? {} : { epoch }), order });
  });

  /** Returns how stale the state may be, or throws 503 TOO_STALE if that is more than `maxStalenessMs` (or not known). */
  function refuseIfTooStale(maxStalenessMs: number): number {
    const stalenessMs = deps.stalenessMs();
    if (stalenessMs !== null && stalenessMs <= maxStalenessMs) return stalenessMs;
    const why =
      stalenessMs === null
        ? "this follower cannot yet vouch for how stale it is (it has not applied everything its upstream had when it last heard from it)"
        : `this follower can only vouch for writes acknowledged more than ${stalenessMs} ms ago`;
    throw httpError(503, "TOO_STALE", `${why}, not ${maxStalenessMs} ms; read from ${writesGoTo()} or from a fresher follower`, {
      follower: true,
      maxStalenessMs,
      stalenessMs,
      leader: deps.leaderUrl() ?? null,
      ...position(),
    });
  }

  /** Waits until `minOffset` is applied; throws a 504 that says where the follower stands if it is not in time. */
  async function waitOrRefuse(res: Response, minOffset: number, timeoutMs: number) {
    const gaveUp = new AbortController();
    const onClose = () => gaveUp.abort(); // the reader went away: stop waiting for it
    res.once("close", onClose);
    try {
      const applied = await deps.waitForApplied(minOffset, clock.sleep(timeoutMs, gaveUp.signal));
      if (!applied) {
        const at = position();
        throw httpError(
          504,
          "NOT_YET_APPLIED",
          `follower has applied up to offset ${at.appliedOffset ?? "none"}, not yet ${minOffset}, after waiting ${timeoutMs} ms; read from ${writesGoTo()}`,
          { follower: true, minOffset, waitedMs: timeoutMs, leader: deps.leaderUrl() ?? null, ...at },
        );
      }
    } finally {
      res.off("close", onClose);
      gaveUp.abort("answered"); // releases the timeout's sleep (a reason spares abort() building a DOMException)
    }
  }

  // A follower never takes writes: say where they go instead.
  router.all("/{*path}", (req, _res, next) => {
    if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return next();
    throw httpError(403, "READONLY", `this follower is read-only; send ${req.method} ${req.path} to ${writesGoTo()}`, {
      follower: true,
      leader: deps.leaderUrl() ?? null,
    });
  });

  return router;
}
