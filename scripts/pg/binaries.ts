import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

/** The oldest PostgreSQL the lab's page and scripts are written for. */
const MIN_POSTGRES_MAJOR = 14;

/** The server programs the pair needs, all from one installation. */
const PROGRAMS = ["initdb", "pg_ctl", "postgres", "pg_basebackup"] as const;

/** Where PostgreSQL's server programs are, and which version they are. */
export interface PostgresBinaries {
  binDir: string;
  /** How it was found: `PG_BIN`, `pg_config --bindir`, a Debian or Homebrew directory, PATH. */
  foundBy: string;
  major: number;
  /** What `postgres --version` printed, e.g. "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)". */
  version: string;
}

export type FindResult = { ok: true; binaries: PostgresBinaries } | { ok: false; message: string };

/**
 * Finds the PostgreSQL server programs (initdb, pg_ctl, postgres, pg_basebackup), looking in
 * this order: the `PG_BIN` directory; `pg_config --bindir`; Debian and Ubuntu's
 * /usr/lib/postgresql/<major>/bin, newest first; Homebrew's postgresql@<major> (Apple silicon
 * and Intel), newest first; then PATH. A `PG_BIN` that does not hold them is an error rather than
 * a reason to look elsewhere: the learner asked for that one. A server older than
 * MIN_POSTGRES_MAJOR is refused with the version found.
 */
export function findPostgres(env: Record<string, string | undefined> = process.env): FindResult {
  const asked = env.PG_BIN?.trim();
  if (asked) {
    const missing = missingPrograms(asked);
    if (missing.length > 0) return { ok: false, message: `PG_BIN=${asked} does not hold ${missing.join(", ")}: point it at the bin directory of a PostgreSQL ${MIN_POSTGRES_MAJOR}+ server installation` };
    return checkVersion(asked, "PG_BIN");
  }
  for (const [dir, foundBy] of candidates(env)) {
    if (missingPrograms(dir).length === 0) return checkVersion(dir, foundBy);
  }
  return { ok: false, message: installHint() };
}

/** Where to look, in order, with how each was found. */
function candidates(env: Record<string, string | undefined>): [string, string][] {
  const found: [string, string][] = [];
  const pgConfig = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" });
  if (pgConfig.status === 0 && pgConfig.stdout.trim()) found.push([pgConfig.stdout.trim(), "pg_config --bindir"]);
  for (const dir of versionedDirs("/usr/lib/postgresql", (name) => name, "bin")) found.push([dir, "Debian's /usr/lib/postgresql"]);
  for (const prefix of ["/opt/homebrew/opt", "/usr/local/opt"]) {
    for (const dir of versionedDirs(prefix, (name) => name.match(/^postgresql@(\d+)$/)?.[1], "bin")) found.push([dir, `Homebrew's ${prefix}`]);
  }
  for (const dir of ["/opt/homebrew/bin", "/usr/local/bin"]) found.push([dir, dir]);
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) found.push([dir, "PATH"]);
  return found;
}

/** `<root>/<name>/<sub>` for every entry whose name gives a major version, newest first. */
function versionedDirs(root: string, majorOf: (name: string) => string | undefined, sub: string): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, major: Number(majorOf(name)) }))
    .filter((e) => Number.isInteger(e.major) && e.major > 0)
    .sort((a, b) => b.major - a.major)
    .map((e) => join(root, e.name, sub));
}

function missingPrograms(dir: string): string[] {
  const exe = process.platform === "win32" ? ".exe" : "";
  return PROGRAMS.filter((p) => !existsSync(join(dir, p + exe)));
}

function checkVersion(binDir: string, foundBy: string): FindResult {
  const run = spawnSync(join(binDir, "postgres"), ["--version"], { encoding: "utf8" });
  const version = run.stdout?.trim() ?? "";
  const major = Number(version.match(/\(PostgreSQL\)\s+(\d+)/)?.[1]);
  if (run.status !== 0 || !Number.isInteger(major)) return { ok: false, message: `${join(binDir, "postgres")} --version did not say which PostgreSQL it is (${run.error?.message ?? (version || run.stderr?.trim())})` };
  if (major < MIN_POSTGRES_MAJOR) return { ok: false, message: `${binDir} holds PostgreSQL ${major} (${version}); the lab needs ${MIN_POSTGRES_MAJOR} or newer. ${installHint()}` };
  return { ok: true, binaries: { binDir, foundBy, major, version } };
}

/** Exactly how to install the server programs, for each system the lab runs on. */
function installHint(): string {
  return [
    "PostgreSQL's server programs (initdb, pg_ctl, postgres, pg_basebackup) were not found. Install them, then run this again:",
    "  Debian, Ubuntu:  sudo apt-get install postgresql        (the programs land in /usr/lib/postgresql/<version>/bin; no need to start its own server)",
    "  macOS:           brew install postgresql@16",
    "  Windows:         the installer from https://www.postgresql.org/download/windows/, then set PG_BIN to its bin folder, e.g. $env:PG_BIN = \"C:\\Program Files\\PostgreSQL\\16\\bin\"",
    "  or anywhere:     set PG_BIN to the bin directory of a PostgreSQL 14 or newer installation",
  ].join("\n");
}
