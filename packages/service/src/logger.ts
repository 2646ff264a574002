/** Where a process writes its log lines. Passed in, so tests can capture or silence them. */
export type LogLine = (line: string) => void;

/** Writes lines to stdout with a role prefix, as in the chapter: `[leader] ...`, `[follower] ...`. */
export function consoleLogger(role: string): LogLine {
  return (line) => console.log(`[${role}] ${line}`);
}

/** Drops every line. */
export const silentLogger: LogLine = () => {};
