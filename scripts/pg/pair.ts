import { appendFileSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pg from "pg";
import type { PostgresBinaries } from "./binaries.ts";
import { isPortFree } from "../processes.ts";
import { isAlive, runProgram, waitForExit } from "./run-program.ts";
import { serverUser, type ServerUser } from "./server-user.ts";

/** The database role and the database the lab's apps use (initdb's superuser, trusted on loopback only). */
const LAB_ROLE = "lab";
const LAB_DATABASE = "lab";
/** The standby's name: its `cluster_name`, so its application_name in pg_stat_replication, and its replication slot. */
const STANDBY_NAME = "standby";

/** What `pnpm pg:up` is asked for (PG_DIR, PG_PRIMARY_PORT, PG_STANDBY_PORT, APPLY_LAG_MS). */
export interface PairSettings {
  /** The directory the pair lives in; created, and removed by `downPair`. */
  dir: string;
  primaryPort: number;
  standbyPort: number;
  /** The standby's recovery_min_apply_delay, in ms. */
  applyLagMs: number;
  /**
   * For tests only: fsync=off, initdb and pg_basebackup without syncing, small shared_buffers.
   * Faster by seconds, and a crash of the machine could lose or corrupt the data: the tests throw it away.
   */
  throwaway?: boolean;
}

/** One server of the pair. */
export interface PairServer {
  port: number;
  /** How the apps connect: `postgres://lab@127.0.0.1:<port>/lab`. */
  url: string;
  dataDir: string;
  logFile: string;
}

/** A running pair, as pair.json in its directory records it. */
export interface Pair {
  dir: string;
  primary: PairServer;
  standby: PairServer;
  applyLagMs: number;
  binDir: string;
  version: string;
  /** The account the servers run as, when the lab runs as root. */
  user?: string | undefined;
}

const pairFile = (dir: string) => join(dir, "pair.json");
const server = (dir: string, name: "primary" | "standby", port: number): PairServer => ({
  port,
  url: `postgres://${LAB_ROLE}@127.0.0.1:${port}/${LAB_DATABASE}`,
  dataDir: join(dir, name),
  logFile: join(dir, `${name}.log`),
});

/** What is in a pair's directory now. */
export type PairState = { kind: "absent" } | { kind: "running"; pair: Pair } | { kind: "stale"; why: string };

/** Reads the pair in `dir`: absent (no directory, or an empty one), running (both servers up), or stale (anything else). */
export function inspectPair(dir: string): PairState {
  if (!existsSync(dir) || readdirSync(dir).length === 0) return { kind: "absent" };
  if (!existsSync(pairFile(dir))) return { kind: "stale", why: `${dir} exists but holds no pair.json: it is not a pair pnpm pg:up finished making (or not one at all)` };
  const pair = JSON.parse(readFileSync(pairFile(dir), "utf8")) as Pair;
  const down = (["primary", "standby"] as const).filter((name) => postmasterPid(pair[name].dataDir) === undefined);
  if (down.length > 0) return { kind: "stale", why: `${dir} holds a pair whose ${down.join(" and ")} ${down.length === 1 ? "is" : "are"} not running (the machine restarted, or a server was stopped)` };
  return { kind: "running", pair };
}

/** The postmaster's process id from `postmaster.pid`, if it is running. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates and starts a primary and a streaming standby in `settings.dir`:
 *
 * 1. `initdb` the primary (role `lab`, trust authentication: it listens on 127.0.0.1 only),
 *    with wal_level=replica and room for WAL senders; start it; create the database `lab`;
 * 2. `pg_basebackup -R` the standby from it: a copy of its files, standby.signal and
 *    primary_conninfo, and a replication slot (so the primary keeps the WAL a stopped standby
 *    has not received yet); give it its own port and recovery_min_apply_delay; start it;
 * 3. wait until the primary's pg_stat_replication shows the standby streaming.
 *
 * Refuses, changing nothing, when either port is taken or the directory is not absent. If a step
 * fails, what was started is stopped and the directory removed.
 */
export async function upPair(settings: PairSettings, binaries: PostgresBinaries, log: (line: string) => void): Promise<Pair> {
  const dir = resolve(settings.dir);
  const state = inspectPair(dir);
  if (state.kind !== "absent") throw new Error(state.kind === "running" ? `a pair is already running in ${dir}` : `${state.why}; nothing changed. Run pnpm pg:down to remove it, or set PG_DIR to another directory`);
  for (const [name, port] of [["PG_PRIMARY_PORT", settings.primaryPort], ["PG_STANDBY_PORT", settings.standbyPort]] as const) {
    if (!(await isPortFree(port))) throw new Error(`port ${port} on 127.0.0.1 is already in use (another PostgreSQL, or another pair?): set ${name} to a free port; nothing changed`);
  }
  if (settings.primaryPort === settings.standbyPort) throw new Error(`PG_PRIMARY_PORT and PG_STANDBY_PORT are both ${settings.primaryPort}: they need a port each; nothing changed`);

  const user = serverUser(log);
  const pair: Pair = {
    dir,
    primary: server(dir, "primary", settings.primaryPort),
    standby: server(dir, "standby", settings.standbyPort),
    applyLagMs: settings.applyLagMs,
    binDir: binaries.binDir,
    version: binaries.version,
    user: user?.name,
  };
  const run = (program: string, args: string[]) => runProgram(binaries.binDir, program, args, { user, home: dir });
  const noSync = settings.throwaway ? ["--no-sync"] : [];
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user) chownSync(dir, user.uid, user.gid);
  try {
    log(`initdb ${pair.primary.dataDir} (${binaries.version}${user ? `, as ${user.name}: PostgreSQL will not run as root` : ""})`);
    await run("initdb", ["-D", pair.primary.dataDir, "-U", LAB_ROLE, "--auth=trust", "-E", "UTF8", "--no-locale", ...noSync]);
    appendFileSync(pair.primary.dataDir + "/postgresql.conf", primarySettings(settings));
    await run("pg_ctl", ["start", "-D", pair.primary.dataDir, "-l", pair.primary.logFile, "-w", "-t", "60"]);
    log(`primary started on 127.0.0.1:${pair.primary.port}`);
    await sql(serverUrl(pair.primary, "postgres"), `CREATE DATABASE ${LAB_DATABASE}`);

    log(`pg_basebackup -R ${pair.standby.dataDir} from the primary (slot ${STANDBY_NAME})`);
    await run("pg_basebackup", ["-D", pair.standby.dataDir, "-h", "127.0.0.1", "-p", String(pair.primary.port), "-U", LAB_ROLE, "-X", "stream", "-R", "-c", "fast", "-C", "-S", STANDBY_NAME, ...noSync]);
    appendFileSync(pair.standby.dataDir + "/postgresql.conf", standbySettings(settings));
    await run("pg_ctl", ["start", "-D", pair.standby.dataDir, "-l", pair.standby.logFile, "-w", "-t", "60"]);
    await waitForStreaming(pair);
    log(`standby started on 127.0.0.1:${pair.standby.port}, streaming from the primary, recovery_min_apply_delay=${settings.applyLagMs}ms`);
    writeFileSync(pairFile(dir), `${JSON.stringify(pair, null, 2)}\n`);
    return pair;
  } catch (err) {
    await downPair(dir, binaries.binDir, user, () => {}).catch(() => {});
    throw err;
  }
}

/** The primary's lines in postgresql.conf. */
function primarySettings(settings: PairSettings): string {
  return `
# --- Written by pnpm pg:up (scripts/pg/pair.ts): the replication lab's primary ---
listen_addresses = '127.0.0.1'       # loopback only: trust authentication is safe nowhere else
port = ${settings.primaryPort}
unix_socket_directories = ''         # TCP only: no socket file to place, share or leave behind
cluster_name = 'primary'
wal_level = replica                  # enough WAL for a standby to replay
max_wal_senders = 5
max_replication_slots = 5
hot_standby = on                     # copied to the standby: it answers reads while it replays
wal_receiver_status_interval = 1s    # copied to the standby: it reports its positions every second
${settings.throwaway ? "fsync = off                          # tests only: a crash of the machine could corrupt this data\nshared_buffers = 16MB\nmax_connections = 30\n" : ""}`;
}

/** The standby's lines, after pg_basebackup copied the primary's (later lines win). */
function standbySettings(settings: PairSettings): string {
  return `
# --- The standby (pg_basebackup -R wrote standby.signal, and primary_conninfo in postgresql.auto.conf) ---
port = ${settings.standbyPort}
cluster_name = '${STANDBY_NAME}'               # its application_name in the primary's pg_stat_replication
recovery_min_apply_delay = '${settings.applyLagMs}ms'   # the lab's APPLY_LAG_MS: each commit is replayed this long after it was made
`;
}

/** A server's URL for another database (`postgres`, before `lab` exists). */
const serverUrl = (s: PairServer, database: string) => s.url.replace(/\/[^/]+$/, `/${database}`);

/** Runs one statement on a fresh connection. */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Resolves once the primary's pg_stat_replication says the standby is streaming; fails after 30 s saying what it saw. */
async function waitForStreaming(pair: Pair): Promise<void> {
  const until = Date.now() + 30_000;
  let seen = "no row";
  while (Date.now() < until) {
    const rows = await sql<{ state: string }>(pair.primary.url, "SELECT state FROM pg_stat_replication WHERE application_name = $1", [STANDBY_NAME]);
    if (rows[0]?.state === "streaming") return;
    seen = rows[0] ? `state ${rows[0].state}` : "no row";
    await new Promise((r) => setTimeout(r, 50)); // the walreceiver connects on its own schedule; this only paces the question
  }
  throw new Error(`the standby did not start streaming within 30 s (pg_stat_replication on the primary: ${seen}); see ${pair.standby.logFile}`);
}

/**
 * Stops both servers (`pg_ctl stop -m fast`: open sessions are ended, each server writes a
 * shutdown checkpoint) and removes the directory. Resolves with the ids of the postmasters it
 * stopped, once each has exited; a postmaster waits for every process of its server, so none is
 * left. A directory that is not a pair (no pair.json, no primary/ or standby/) is left alone.
 */
export async function downPair(dirIn: string, binDir: string, user: ServerUser | undefined, log: (line: string) => void): Promise<number[]> {
  const dir = resolve(dirIn);
  if (!existsSync(dir)) return [];
  const entries = readdirSync(dir);
  const ours = new Set(["pair.json", "primary", "standby", "primary.log", "standby.log"]);
  const foreign = entries.filter((e) => !ours.has(e));
  if (foreign.length > 0) throw new Error(`${dir} holds ${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", ..." : ""}, which pnpm pg:up did not make: not removing it`);
  const stopped: number[] = [];
  for (const name of ["standby", "primary"] as const) {
    const dataDir = join(dir, name);
    const pid = postmasterPid(dataDir);
    if (pid === undefined) continue;
    await runProgram(binDir, "pg_ctl", ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "60"], { user, home: dir });
    if (!(await waitForExit(pid, 10_000))) throw new Error(`pg_ctl stop said the ${name} stopped, but its postmaster (pid ${pid}) still runs 10 s later`);
    log(`${name} stopped (pid ${pid})`);
    stopped.push(pid);
  }
  rmSync(dir, { recursive: true, force: true });
  return stopped;
}
