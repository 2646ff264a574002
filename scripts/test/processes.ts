import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** A server started as its own process, as a learner starts it, with its output captured line by line. */
export interface RunningProcess {
  /** Every line printed so far (stdout and stderr). */
  lines: string[];
  /** Resolves with the first line (already printed or still to come) matching `pattern`; rejects after `withinMs` or if the process exits first. */
  waitForLine(pattern: RegExp, withinMs?: number): Promise<RegExpMatchArray>;
  /** Stops the process and everything it started (npm, tsx, node), and resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * Runs `npm run dev` in `cwd`, the chapter's command, with extra environment variables. On
 * POSIX the process gets its own group so that stopping it stops npm's children too.
 */
export function runDev(cwd: string, env: Record<string, string>): RunningProcess {
  const isWindows = process.platform === "win32";
  const child: ChildProcess = spawn(isWindows ? "npm.cmd" : "npm", ["run", "dev"], {
    cwd,
    env: { ...process.env, ...env },
    detached: !isWindows,
    shell: isWindows,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      for (const l of listeners) l();
      resolve();
    }),
  );
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      lines.push(line);
      for (const l of listeners) l();
    });
  }

  return {
    lines,
    waitForLine(pattern, withinMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of lines) {
            const match = line.match(pattern);
            if (match) return done(() => resolve(match));
          }
          if (exited) done(() => reject(new Error(`process exited before printing ${pattern}; output:\n${lines.join("\n")}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no line matching ${pattern} within ${withinMs} ms; output:\n${lines.join("\n")}`))), withinMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (exited) return;
      if (isWindows) spawnSync("taskkill", ["/pid", String(child.pid), "/T", "/F"]);
      else process.kill(-child.pid!, "SIGTERM");
      await exit;
    },
  };
}
