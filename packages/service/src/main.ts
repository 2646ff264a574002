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
      log(err instanceof ConfigError ? `configuration error: ${err.message}` : `failed to start: ${(err as Error)?.stack ?? err}`);
      process.exit(1);
    },
  );
}
