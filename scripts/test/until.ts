/**
 * Resolves once `check` returns something other than undefined, asking again after each turn of
 * the event loop (no time passes on a manual clock meanwhile); fails, naming `what`, after
 * `turns` tries. For what happens over real loopback sockets without any clock moving: a request
 * held by a long poll, an ack on its way.
 */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, turns = 2000): Promise<T> {
  for (let i = 0; i < turns; i++) {
    const got = await check();
    if (got !== undefined) return got;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened within ${turns} turns of the event loop: ${what}`);
}
