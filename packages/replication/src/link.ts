import { LeaderUnreachableError, type EventStream, type LogClient } from "./log-client.ts";

/** The state of a follower's link to its upstream: open, or cut by a teacher. */
export type LinkState = "open" | "held" | "dropped";

/**
 * A follower's link to its upstream, which can be cut on purpose (fault injection, for a live
 * demo): `hold` keeps every request from leaving until the link is opened again, as a network
 * that stalls; `drop` fails every request at once as unreachable, as a network that is down, so
 * the follower's backoff shows. Opening it lets held requests go and the follower catch up.
 *
 * Cutting it also cuts what is already on the wire: a fetch waiting at the upstream (a long
 * poll) is aborted there, so the next write does not slip through a link that is cut. Dropped,
 * that request fails at once as unreachable; held, it waits at the link and is sent again once
 * the link opens. Either way the follower receives nothing from the moment of the cut.
 */
export function createLink<E, S>(client: LogClient<E, S>) {
  let state: LinkState = "open";
  /** Resolves at the next change of state: what waits at the link looks again. */
  let changed = nextChange();
  /** The requests on the wire: a cut aborts them. */
  const onTheWire = new Set<AbortController>();

  /** Waits until the link lets a request through (or `signal` aborts); throws while it drops requests. */
  const pass = async (signal?: AbortSignal) => {
    while (state !== "open") {
      if (state === "dropped") throw new LeaderUnreachableError(client.leaderUrl, "link dropped by /admin/pause");
      const next = changed.promise;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal!.reason ?? new DOMException("aborted", "AbortError"));
        if (signal?.aborted) return onAbort();
        signal?.addEventListener("abort", onAbort, { once: true });
        void next.then(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    }
  };

  /**
   * Sends one request through the link, with a signal of its own that a cut aborts. A request
   * the cut aborted goes back to the link: dropped, it fails; held, it waits to be sent again.
   * The caller's own abort (the follower stops) ends it as before.
   */
  const send = async <T>(signal: AbortSignal | undefined, request: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    for (;;) {
      await pass(signal);
      const wire = onWire(signal);
      try {
        return await request(wire.cut.signal);
      } catch (err) {
        if (wire.passOn()) throw err;
      } finally {
        wire.off();
      }
    }
  };

  /**
   * Puts a request on the wire: a signal of its own (`cut`) that the caller's abort and a cut of
   * the link both abort; `passOn()` tells whether a failure is to be passed on (the caller's
   * abort, or the upstream's own failure) rather than met at the link again; `off` takes it off.
   */
  const onWire = (signal: AbortSignal | undefined) => {
    const cut = new AbortController();
    const onAbort = () => cut.abort(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    onTheWire.add(cut);
    return {
      cut,
      passOn: () => signal?.aborted === true || !cut.signal.aborted,
      off() {
        onTheWire.delete(cut);
        signal?.removeEventListener("abort", onAbort);
      },
    };
  };

  /**
   * Opens a stream through the link. It stays on the wire while it is open, so a cut ends it: its
   * replies stop as if the upstream had ended the stream, and the follower's next attempt meets
   * the link (held: it waits; dropped: it fails).
   */
  const openStream: LogClient<E, S>["openStream"] = async (from, options) => {
    await pass(options.signal);
    const wire = onWire(options.signal);
    let stream: EventStream<E>;
    try {
      stream = await client.openStream(from, { ...options, signal: wire.cut.signal });
    } catch (err) {
      wire.off();
      if (wire.passOn()) throw err;
      return openStream(from, options); // cut while opening: meet the link again
    }
    async function* replies() {
      try {
        yield* stream.replies;
      } catch (err) {
        if (wire.passOn()) throw err;
      } finally {
        wire.off();
      }
    }
    return { replies: replies(), report: (progress) => (wire.cut.signal.aborted ? undefined : stream.report(progress)), close: stream.close };
  };

  const linked: LogClient<E, S> = {
    leaderUrl: client.leaderUrl,
    fetchEvents: (from, options = {}) => send(options.signal, (signal) => client.fetchEvents(from, { ...options, signal })),
    openStream,
    fetchSnapshot: (options = {}) => send(options.signal, (signal) => client.fetchSnapshot({ ...options, signal })),
    sendAck: (ack, options = {}) => send(options.signal, (signal) => client.sendAck(ack, { signal })),
    describeNode: (options = {}) => send(options.signal, (signal) => client.describeNode({ signal })),
    close: () => client.close(),
  };

  const setState = (next: LinkState) => {
    state = next;
    changed.resolve();
    changed = nextChange();
  };

  return {
    /** The client to give the follower: every request goes through the link. */
    client: linked,
    get state() {
      return state;
    },
    /** Cuts the link: `hold` requests until it opens, or `drop` them at once; what is on the wire now is aborted. */
    cut(how: "hold" | "drop") {
      setState(how === "hold" ? "held" : "dropped");
      for (const request of onTheWire) request.abort(new DOMException(`link ${state} by /admin/pause`, "AbortError"));
    },
    /** Opens the link again: held requests go now. */
    open() {
      if (state !== "open") setState("open");
    },
  };
}

/** A promise and the function that resolves it (Promise.withResolvers, which Node 20 lacks). */
function nextChange() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export type Link<E, S = unknown> = ReturnType<typeof createLink<E, S>>;
