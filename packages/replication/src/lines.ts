/**
 * Splits text that arrives in chunks (a stream's body) into lines: `push` returns the lines a
 * chunk completes, and keeps the rest until its newline comes; `pending` is how much that is.
 */
export function lineSplitter() {
  let buffered = "";
  return {
    push(chunk: string): string[] {
      const lines = (buffered + chunk).split("\n");
      buffered = lines.pop()!;
      return lines;
    },
    get pending() {
      return buffered.length;
    },
  };
}
