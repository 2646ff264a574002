import { httpError, readJsonObject } from "@lab/service";
import express, { Router, type Request } from "express";

/** The longest APPLY_LAG_MS: ten minutes. */
export const MAX_APPLY_LAG_MS = 600_000;

export interface AdminDeps {
  /** Whether this follower may be changed through these routes: only when it is bound to loopback. */
  allowed: boolean;
  setApplyLagMs(ms: number): void;
  cutLink(how: "hold" | "drop"): void;
  openLink(): void;
  /** Restarts the follower as a process restarts; unset where the follower cannot (a test harness without it). */
  restart?: (() => Promise<void>) | undefined;
  status(): object;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/**
 * Routes that change a running follower, for live demos (the dashboard's controls):
 * - `POST /admin/apply-lag {"applyLagMs": N}`: change APPLY_LAG_MS, for what is waiting too;
 * - `POST /admin/pause {"mode": "hold" | "drop"}`: cut its link to its upstream (fault
 *   injection): requests wait, or fail at once as if the upstream were unreachable;
 * - `POST /admin/resume`: open the link again;
 * - `POST /admin/restart`: restart it as a process restarts (from its DATA_DIR, or empty).
 * They answer only on loopback, and only for a follower bound to loopback: anyone who can reach a
 * follower bound elsewhere must not be able to change it. Each answers with the new status.
 */
export function adminRoutes(deps: AdminDeps): Router {
  const router = Router();
  const json = express.json({ limit: 1024 });
  const guard = (req: Request) => {
    if (!deps.allowed) {
      throw httpError(403, "ADMIN_LOOPBACK_ONLY", "admin routes are served only by a follower bound to loopback (HOST unset, 127.0.0.1 or ::1); this one is bound elsewhere");
    }
    if (!LOOPBACK.has(req.socket.remoteAddress ?? "")) throw httpError(403, "ADMIN_LOOPBACK_ONLY", "admin routes answer only requests from this machine (loopback)");
  };

  router.post("/admin/apply-lag", json, (req, res) => {
    guard(req);
    const value = readJsonObject(req, '{"applyLagMs":3000}').applyLagMs;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || value > MAX_APPLY_LAG_MS) {
      throw httpError(400, "INVALID_BODY", `applyLagMs must be a whole number from 0 to ${MAX_APPLY_LAG_MS}, got ${JSON.stringify(value)}`);
    }
    deps.setApplyLagMs(value);
    res.json(deps.status());
  });

  router.post("/admin/pause", json, (req, res) => {
    guard(req);
    const body = req.body === undefined ? {} : readJsonObject(req, '{"mode":"hold"}');
    const mode = body.mode ?? "hold";
    if (mode !== "hold" && mode !== "drop") throw httpError(400, "INVALID_BODY", `mode must be "hold" (requests wait) or "drop" (requests fail), got ${JSON.stringify(mode)}`);
    deps.cutLink(mode);
    res.json(deps.status());
  });

  router.post("/admin/resume", (req, res) => {
    guard(req);
    deps.openLink();
    res.json(deps.status());
  });

  router.post("/admin/restart", async (req, res) => {
    guard(req);
    if (!deps.restart) throw httpError(501, "NOT_IMPLEMENTED", "this follower cannot restart itself here");
    await deps.restart();
    res.json({ ok: true, follower: true, restarted: true });
  });

  return router;
}
