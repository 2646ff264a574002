import { baseUrl, httpError, readJsonObject } from "@lab/service";
import express, { Router, type Request } from "express";

/** The longest APPLY_LAG_MS: ten minutes. */
export const MAX_APPLY_LAG_MS = 600_000;

export interface AdminDeps {
  /** Whether this node may be changed through these routes: only when it is bound to loopback. */
  allowed: boolean;
  /** Makes a follower the leader of a new epoch; answers what it now is. */
  promote(): Promise<object>;
  /** Makes this node follow the node at a URL, once it has checked that it can; answers what it now is. */
  follow(leaderUrl: string): Promise<object>;
  setApplyLagMs(ms: number): void;
  cutLink(how: "hold" | "drop"): void;
  openLink(): void;
  /** Restarts the follower as a process restarts; unset where the follower cannot (a test harness without it). */
  restart?: (() => Promise<void>) | undefined;
  status(): object;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/**
 * Refuses an admin request a web page sent. A page open in a browser on this machine is on
 * loopback too, and can POST without asking first; the browser says where the page came from.
 * curl and the dashboard (which forwards its own page's controls) send no Origin.
 */
export function refuseWebPages(req: Request): void {
  if (req.headers.origin !== undefined) throw httpError(403, "ADMIN_LOOPBACK_ONLY", `admin routes do not answer requests sent by a web page (Origin ${JSON.stringify(req.headers.origin)}); use curl, or the dashboard`);
}

/**
 * Routes that change a running node, for live demos (the dashboard's controls) and failover:
 * - `POST /admin/promote`: a follower becomes the leader of a new epoch;
 * - `POST /admin/follow {"leaderUrl": URL}`: this node (a leader, too) follows the node at URL;
 * - `POST /admin/apply-lag {"applyLagMs": N}`: change APPLY_LAG_MS, for what is waiting too;
 * - `POST /admin/pause {"mode": "hold" | "drop"}`: cut its link to its upstream (fault
 *   injection): requests wait, or fail at once as if the upstream were unreachable;
 * - `POST /admin/resume`: open the link again;
 * - `POST /admin/restart`: restart it as a process restarts (from its DATA_DIR, or empty).
 * The last four are a follower's. They answer only on loopback, and only for a node bound to
 * loopback: anyone who can reach a node bound elsewhere must not be able to change it. Each
 * answers with the new status.
 */
export function adminRoutes(deps: AdminDeps): Router {
  const router = Router();
  const json = express.json({ limit: 1024 });
  const guard = (req: Request) => {
    if (!deps.allowed) {
      throw httpError(403, "ADMIN_LOOPBACK_ONLY", "admin routes are served only by a node bound to loopback (HOST unset, 127.0.0.1 or ::1); this one is bound elsewhere");
    }
    if (!LOOPBACK.has(req.socket.remoteAddress ?? "")) throw httpError(403, "ADMIN_LOOPBACK_ONLY", "admin routes answer only requests from this machine (loopback)");
    refuseWebPages(req);
  };

  router.post("/admin/promote", async (req, res) => {
    guard(req);
    res.json(await deps.promote());
  });

  router.post("/admin/follow", json, async (req, res) => {
    guard(req);
    const value = readJsonObject(req, '{"leaderUrl":"http://127.0.0.1:3001"}').leaderUrl;
    const url = baseUrl(value);
    if (url === undefined) throw httpError(400, "INVALID_BODY", `leaderUrl must be a node's base URL such as http://127.0.0.1:3001, got ${JSON.stringify(value)}`);
    res.json(await deps.follow(url));
  });

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
    if (!deps.restart) throw httpError(501, "NOT_IMPLEMENTED", "this node cannot restart itself here");
    await deps.restart();
    res.json({ ok: true, restarted: true });
  });

  return router;
}
