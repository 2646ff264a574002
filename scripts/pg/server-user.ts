import { spawnSync } from "node:child_process";

/** The unprivileged account the servers run as when the lab runs as root. */
export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

/** The account created when the machine has no `postgres` one. */
const LAB_SERVER_USER = "labpg";

/**
 * Who runs initdb, pg_ctl and the servers. PostgreSQL refuses to run as root (a server holding
 * every file of the machine is one bug away from losing them), so when the lab runs as root (CI,
 * a container) the servers run as `postgres` if that account exists (Debian's package creates
 * it), else as `labpg`, created here with useradd. Otherwise: undefined, the learner's own account.
 */
export function serverUser(log: (line: string) => void): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const existing = lookUp("postgres") ?? lookUp(LAB_SERVER_USER);
  if (existing) return existing;
  const made = spawnSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", LAB_SERVER_USER], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`running as root, and PostgreSQL will not: could not create the user ${LAB_SERVER_USER} to run it (useradd: ${made.error?.message ?? made.stderr.trim()}); create an unprivileged user, or run the lab as one`);
  log(`running as root: created the unprivileged user ${LAB_SERVER_USER} to run PostgreSQL (it refuses to run as root)`);
  const created = lookUp(LAB_SERVER_USER);
  if (!created) throw new Error(`useradd created ${LAB_SERVER_USER}, but id cannot find it`);
  return created;
}

function lookUp(name: string): ServerUser | undefined {
  const uid = spawnSync("id", ["-u", name], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}
