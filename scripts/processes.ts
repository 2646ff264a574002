import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

/**
 * A server started as its own process, as a learner starts it, with its output captured line by
 * line. Used by the end-to-end and crash tests and by the benchmark.
 */
export interface RunningProcess {
  /** The process id (the server's own with `runServer`). */
  pid: number | undefined;
  /** Every line printed so far (stdout and stderr). */
  lines: string[];
  /**
   * Stops collecting output (it is still read, and dropped): a benchmark must not spend its own
   * CPU splitting thousands of log lines a second while it measures.
   */
  discardOutput(): void;
  /** Resolves with the first line (already printed or still to come) matching `pattern`; rejects after `withinMs` or if the process exits first. */
  waitForLine(pattern: RegExp, withinMs?: number): Promise<RegExpMatchArray>;
  /** Stops the process and everything it started (npm, tsx, node), and resolves when it has exited. */
  stop(): Promise<void>;
  /**
   * Kills the process and everything it started at once, with no chance to clean up (SIGKILL to
   * the whole process group; `taskkill /F /T` on Windows), as a crash or a power cut would, and
   * resolves once every one of them has exited and let go of its output (and so of its sockets
   * and files).
   */
  kill(): Promise<void>;
}

/**
 * Runs `npm run dev` in `cwd`, the chapter's command, with extra environment variables. On
 * POSIX the process gets its own group so that stopping it stops npm's children too.
 */
export function runDev(cwd: string, env: Record<string, string>): RunningProcess {
  const isWindows = process.platform === "win32";
  return spawnServer(isWindows ? "npm.cmd" : "npm", ["run", "dev"], { cwd, env, shell: isWindows });
}

/**
 * Runs `src/server.ts` in `cwd` with tsx, as `npm run dev` does (`tsx src/server.ts`), but as
 * one process, `node --import tsx src/server.ts`: no npm and no tsx launcher in between, so it
 * starts quicker, and the pid is the server's own. `cwd` is an app's directory; the tsx is the
 * one that app depends on.
 */
export function runServer(cwd: string, env: Record<string, string>, script = "src/server.ts"): RunningProcess {
  const tsxLoader = pathToFileURL(createRequire(join(cwd, "package.json")).resolve("tsx")).href;
  return spawnServer(process.execPath, ["--import", tsxLoader, script], { cwd, env, shell: false });
}

/**
 * A first port of `count` consecutive ports that are free on 127.0.0.1 now: for a group whose
 * members must know each other's URLs before any of them listens (RAFT_PEERS), so that port 0
 * cannot be used. The OS picks the first; the rest are tried, and another first picked if one is
 * taken. Free now, not held: something else may take one before the group listens (rare on a
 * test machine; the node then fails to start, saying so).
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await bindAndRelease(0);
    if (first === undefined || first + count - 1 > 65535) continue;
    let free = true;
    for (let port = first + 1; free && port < first + count; port++) free = (await bindAndRelease(port)) !== undefined;
    if (free) return first;
  }
  throw new Error(`found no ${count} consecutive free ports on 127.0.0.1 in 20 tries`);
}

/** Whether nothing listens on 127.0.0.1:`port` (it can be bound, and is released at once). */
export async function isPortFree(port: number): Promise<boolean> {
  return (await bindAndRelease(port)) !== undefined;
}

/** A port nobody uses right now on 127.0.0.1: the OS picks it, and it is released for the caller. */
export async function freePort(): Promise<number> {
  return freePortRange(1);
}

/** Binds `port` (0: any) on 127.0.0.1 and lets it go again; the port, or undefined if it was taken. */
function bindAndRelease(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}

function spawnServer(command: string, args: string[], { cwd, env, shell }: { cwd: string; env: Record<string, string>; shell: boolean }): RunningProcess {
  const isWindows = process.platform === "win32";
  const child: ChildProcess = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    detached: !isWindows,
    shell,
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
  // "close" comes after "exit" and once every process holding the output pipes (tsx's node child
  // too) has ended: after it, nothing of the server holds its port or its files any more.
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    child.once("close", () => {
      isClosed = true;
      resolve();
    }),
  );
  const readers = [child.stdout!, child.stderr!].map((stream) =>
    createInterface({ input: stream }).on("line", (line) => {
      lines.push(line);
      for (const l of listeners) l();
    }),
  );

  return {
    pid: child.pid,
    lines,
    discardOutput() {
      for (const reader of readers) reader.close();
      child.stdout!.resume();
      child.stderr!.resume();
    },
    waitForLine(pattern, withinMs = 15_000) {
      return new Promise((resolve, reject) => {
        let scanned = 0; // lines already looked at: a chatty process costs O(lines), not O(lines²)
        const check = () => {
          for (; scanned < lines.length; scanned++) {
            const match = lines[scanned]!.match(pattern);
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
    async kill() {
      if (child.pid === undefined || isClosed) return; // it never started, or is gone already
      // Until "close", something of the group still holds the pipes (tsx's child may outlive
      // tsx), so the group still exists and its id is still ours to signal.
      if (isWindows) {
        if (!exited) spawnSync("taskkill", ["/pid", String(child.pid), "/T", "/F"]);
      } else {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err; // ESRCH: the group is already gone
        }
      }
      await closed;
    },
  };
}
