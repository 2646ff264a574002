import { describe, expect, it } from "vitest";
import { createLink } from "./link.ts";
import { LeaderUnreachableError, type LogClient } from "./log-client.ts";
import { createMemoryLog, type LogEntry } from "./log.ts";
import type { EventsReply } from "./protocol.ts";
import { createReceiver } from "./receiver.ts";
import { createReplica } from "./replica.ts";
import { fakeClient, flushPromises, LEADER_URL, manualClock, reply } from "./testing.ts";

type Ev = { n: number };
const e0: LogEntry<Ev> = { offset: 0, n: 0 };

/**
 * An upstream that holds every fetch until the test answers it, as a leader holds a long poll
 * until a write arrives. A fetch that is let go (aborted) is gone: nothing answers it.
 */
function longPollingUpstream() {
  const held: { from: number; answer(reply: EventsReply<Ev>): void }[] = [];
  let fetches = 0;
  let aborted = 0;
  const client: LogClient<Ev> = {
    leaderUrl: LEADER_URL,
    fetchEvents: (from, { signal } = {}) =>
      new Promise((resolve, reject) => {
        fetches++;
        const fetch = { from, answer: resolve };
        held.push(fetch);
        signal?.addEventListener("abort", () => {
          aborted++;
          held.splice(held.indexOf(fetch), 1);
          reject(new DOMException("the fetch was aborted", "AbortError"));
        }, { once: true });
      }),
    fetchSnapshot: async () => Promise.reject(new Error("this upstream has no snapshot")),
    describeNode: async () => Promise.reject(new Error("this upstream does not say what it is")),
    sendAck: async () => {},
    openStream: async () => {
      throw new Error("not used here");
    },
    close: async () => {},
  };
  return {
    client,
    get fetches() {
      return fetches;
    },
    get aborted() {
      return aborted;
    },
    /** A write arrives: every fetch held here is answered with it. */
    write(entry: LogEntry<Ev>) {
      for (const fetch of held.splice(0)) fetch.answer(reply(fetch.from, [entry]));
    },
  };
}

/** A follower's receiving side (a receiver and its replica) reading `upstream` through a link. */
function followerThrough(upstream: LogClient<Ev>) {
  const link = createLink(upstream);
  const replica = createReplica<Ev>({ log: createMemoryLog<Ev>(), applyLagMs: 0, apply: () => {} });
  const receiver = createReceiver({ client: link.client, replica, clock: manualClock(0), followerId: "f-1", pollIntervalMs: 100, longPollMs: 1000, logLine: () => {}, restore: () => () => "" });
  return { link, replica, receiver };
}

/** Whether `p` has settled once every queued callback has run. */
async function hasSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await flushPromises();
  return settled;
}

describe("createLink -> cut while a fetch waits at the upstream (a long poll)", () => {
  it("held: the waiting fetch is let go, a write meanwhile does not reach the follower, and it is asked again once the link opens", async () => {
    const upstream = longPollingUpstream();
    const { link, replica, receiver } = followerThrough(upstream.client);
    const polling = receiver.pollOnce();
    await flushPromises();
    expect(upstream.fetches, "fetches at the upstream before the cut").toBe(1);

    link.cut("hold");
    upstream.write(e0);
    expect(await hasSettled(polling), "the poll ended while the link is held").toBe(false);
    expect(upstream.aborted, "fetches let go at the upstream by the cut").toBe(1);
    expect(replica.received, "events the follower received while held").toBe(0);
    expect(upstream.fetches, "fetches sent while held").toBe(1);

    link.open();
    await flushPromises();
    expect(upstream.fetches, "fetches once the link opened").toBe(2);
    upstream.write(e0);
    await polling;
    expect(replica.received, "events the follower received once the link opened").toBe(1);
  });

  it("dropped: the waiting fetch fails at once as unreachable, so the follower backs off", async () => {
    const upstream = fakeClient<Ev>(["hang"]);
    const { link, receiver } = followerThrough(upstream);
    const polling = receiver.pollOnce();
    await upstream.whenCalled(1);

    link.cut("drop");
    expect(await hasSettled(polling), "the poll ended at once when the link dropped").toBe(true);
    expect(await polling, "wait before the next fetch (the backoff)").toBe(100);
    expect(upstream.aborted, "fetches let go at the upstream by the cut").toBe(1);
    expect(receiver.leaderReachable, "leader reachable, as the follower sees it").toBe(false);
    expect(receiver.problem).toMatch(/link dropped by \/admin\/pause/);
  });
});

describe("createLink -> requests that wait at the link", () => {
  it("fails a request held at the link at once when the link is then dropped", async () => {
    const link = createLink(fakeClient<Ev>());
    link.cut("hold");
    const fetching = link.client.fetchEvents(0);
    expect(await hasSettled(fetching), "a fetch while held").toBe(false);
    link.cut("drop");
    expect(await hasSettled(fetching), "the fetch ended at once when the link dropped").toBe(true);
    await expect(fetching).rejects.toBeInstanceOf(LeaderUnreachableError);
  });

  it("ends a request held at the link when its caller aborts it (the follower stops)", async () => {
    const link = createLink(fakeClient<Ev>());
    link.cut("hold");
    const stop = new AbortController();
    const fetching = link.client.fetchEvents(0, { signal: stop.signal });
    stop.abort();
    await expect(fetching).rejects.toMatchObject({ name: "AbortError" });
  });
});
