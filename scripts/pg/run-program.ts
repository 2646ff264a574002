import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerUser } from "./server-user.ts";

/**
 * Runs one of PostgreSQL's programs (`initdb`, `pg_ctl`, `pg_basebackup`) to the end, as `user`
 * when there is one (root hands the servers to an unprivileged account: Node's spawn takes its
 * uid and gid), and resolves with what it printed; rejects with its output if it fails. The
 * servers `pg_ctl start` launches detach themselves (setsid) and write to their log file, so they
 * outlive this call and hold none of its pipes.
 */
export function runProgram(binDir: string, program: string, args: string[], { user, home }: { user?: ServerUser | undefined; home: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(binDir, program), args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, HOME: home, LC_ALL: "C", PGCONNECT_TIMEOUT: "10" },
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    child.once("error", (err) => reject(new Error(`${program} could not run: ${err.message}`)));
    child.once("close", (code, signal) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${program} ${args.join(" ")} failed (${signal ?? `exit ${code}`}):\n${output.trim()}`));
    });
  });
}

/** Whether a process with this id exists and has not exited (a zombie, exited but not yet reaped, counts as exited). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // it exists, and is someone else's
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return true; // no /proc (macOS): kill(pid, 0) is all there is
  }
}

/**
 * Resolves true once process `pid` has exited, false if it still runs after `withinMs`. `pg_ctl
 * stop -w` returns when the postmaster has removed postmaster.pid, a moment before its process
 * is gone: this waits for the process itself.
 */
export async function waitForExit(pid: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (isAlive(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
