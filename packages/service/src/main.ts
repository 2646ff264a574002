import { ConfigError } from "./config.ts";
import type { LogLine } from "./logger.ts";

/**
 * Runs a server entry: starts it, and on Ctrl+C (SIGINT) or SIGTERM stops it cleanly before
 * exiting. A configuration mistake ends the process with its one-line message and exit code 1;
 * anything else with its stack.
 */
export function runMain(log: LogLine, start: () => Promise<{ close(): Promise<void> }>): void {
  start().then(
    (running) => {
      let stopping = false;
      const stop = (signal: string) => {
        // Ctrl+C can arrive twice (from the terminal, and relayed by npm or tsx): shut down once.
        if (stopping) return;
        stopping = true;
        log(`${signal}: shutting down`);
        running.close().then(
          () => process.exit(0),
          (err: unknown) => {
            log(`error while shutting down: ${(err as Error)?.stack ?? err}`);
            process.exit(1);
          },
        );
      };
      process.on("SIGINT", () => stop("SIGINT"));
      process.on("SIGTERM", () => stop("SIGTERM"));
    },
    (err: unknown) => {
      log(describeStartFailure(err));
      process.exit(1);
    },
  );
}

/** One line for the failures a learner can fix; the stack for the rest. */
function describeStartFailure(err: unknown): string {
  if (err instanceof ConfigError) return `configuration error: ${err.message}`;
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code === "EADDRINUSE") {
    return `cannot listen: port ${e.port} on ${e.address} is already in use (is another copy running? set PORT to pick another port)`;
  }
  if (e?.code === "EADDRNOTAVAIL" || e?.code === "ENOTFOUND") return `cannot listen on HOST ${e.address ?? ""}: ${e.code} (use an address of this machine)`;
  return `failed to start: ${e?.stack ?? err}`;
}
