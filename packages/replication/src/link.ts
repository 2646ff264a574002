import { LeaderUnreachableError, type LogClient } from "./log-client.ts";

/** The state of a follower's link to its upstream: open, or cut by a teacher. */
export type LinkState = "open" | "held" | "dropped";

/**
 * A follower's link to its upstream, which can be cut on purpose (fault injection, for a live
 * demo): `hold` keeps every request from leaving until the link is opened again, as a network
 * that stalls; `drop` fails every request at once as unreachable, as a network that is down, so
 * the follower's backoff shows. Opening it lets held requests go and the follower catch up.
 */
export function createLink<E, S>(client: LogClient<E, S>) {
  let state: LinkState = "open";
  let opened: { promise: Promise<void>; resolve(): void } | undefined;

  /** Waits until the link lets a request through (or `signal` aborts); throws if it drops requests. */
  const pass = async (signal?: AbortSignal) => {
    while (state !== "open") {
      if (state === "dropped") throw new LeaderUnreachableError(client.leaderUrl, "link dropped by /admin/pause");
      const until = opened!.promise;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal!.reason ?? new DOMException("aborted", "AbortError"));
        if (signal?.aborted) return onAbort();
        signal?.addEventListener("abort", onAbort, { once: true });
        void until.then(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    }
  };

  const linked: LogClient<E, S> = {
    leaderUrl: client.leaderUrl,
    async fetchEvents(from, options = {}) {
      await pass(options.signal);
      return client.fetchEvents(from, options);
    },
    async fetchSnapshot(options = {}) {
      await pass(options.signal);
      return client.fetchSnapshot(options);
    },
    async sendAck(ack) {
      await pass();
      return client.sendAck(ack);
    },
    async describeNode(options = {}) {
      await pass(options.signal);
      return client.describeNode(options);
    },
    close: () => client.close(),
  };

  return {
    /** The client to give the follower: every request goes through the link. */
    client: linked,
    get state() {
      return state;
    },
    /** Cuts the link: `hold` requests until it opens, or `drop` them at once. */
    cut(how: "hold" | "drop") {
      if (state === "open") {
        let resolve!: () => void;
        opened = { promise: new Promise<void>((r) => (resolve = r)), resolve };
        opened.resolve = resolve;
      }
      state = how === "hold" ? "held" : "dropped";
    },
    /** Opens the link again: held requests go now. */
    open() {
      if (state === "open") return;
      state = "open";
      opened?.resolve();
      opened = undefined;
    },
  };
}

export type Link<E, S = unknown> = ReturnType<typeof createLink<E, S>>;
