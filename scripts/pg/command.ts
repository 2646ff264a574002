import { ConfigError } from "@lab/service";

/**
 * Runs a pg:* command: its lines go out prefixed `[pg:up]`, `[pg:down]`, ...; a mistake the
 * learner can fix ends it with one sentence and exit code 1, anything else with its stack.
 */
export function runCommand(name: string, body: (log: (line: string) => void) => Promise<void>): void {
  const log = (line: string) => console.log(`[${name}] ${line}`);
  body(log).then(
    () => process.exit(0),
    (err: unknown) => {
      const expected = err instanceof ConfigError || (err instanceof Error && !(err instanceof TypeError) && !(err instanceof RangeError));
      console.error(expected ? `[${name}] ${(err as Error).message}` : `[${name}] failed: ${(err as Error)?.stack ?? err}`);
      process.exit(1);
    },
  );
}
