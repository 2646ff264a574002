const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/**
 * Checks a node's name (`FOLLOWER_ID`, the `follower` a fetch names) and returns it, or a
 * sentence saying what is wrong with it. Names go into URLs, log lines and the leader's
 * `/replication`, so they are kept short and to a safe alphabet.
 */
export function checkNodeId(value: unknown): { ok: true; id: string } | { ok: false; message: string } {
  if (typeof value !== "string") return { ok: false, message: `a node id must be a string, got ${typeof value}` };
  if (value === "") return { ok: false, message: "a node id must not be empty" };
  if (value.length > 64) return { ok: false, message: `a node id must be at most 64 characters long (this one has ${value.length})` };
  if (!NODE_ID.test(value)) {
    return { ok: false, message: `a node id must be letters, digits, '.', '_', ':' or '-', starting with a letter or digit, got ${JSON.stringify(value)}` };
  }
  return { ok: true, id: value };
}
