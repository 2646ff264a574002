import { beforeEach, describe, expect, it } from "vitest";
import { LeaderReplyError, LeaderUnreachableError } from "./log-client.ts";
import { createMemoryLog, type LogEntry } from "./log.ts";
import { createReceiver, MAX_BACKOFF_MS } from "./receiver.ts";
import { createReplica, type Replica } from "./replica.ts";
import { fakeClient, LEADER_URL, LOG_ID, manualClock, reply, snapshotReply, type FakeClient, type Step } from "./testing.ts";

type Ev = { n: number };
const POLL_MS = 100;
const at = (offset: number): LogEntry<Ev> => ({ offset, n: offset * 7 });
const [e0, e1, e2, e3] = [at(0), at(1), at(2), at(3)];
const unreachable = () => new LeaderUnreachableError(LEADER_URL, "ECONNREFUSED");
const refused = () => new LeaderReplyError(500, "INTERNAL", "internal error (see the server's log)");

let clock: ReturnType<typeof manualClock>;
let client: FakeClient<Ev>;
let replica: Replica<Ev>;
let applied: number[];
let lines: string[];

beforeEach(() => {
  clock = manualClock(0);
  applied = [];
  lines = [];
  replica = replicaWithLag(0);
});

function replicaWithLag(applyLagMs: number) {
  return createReplica<Ev>({ log: createMemoryLog<Ev>(), applyLagMs, apply: (e) => void applied.push(e.offset) });
}

/** A receiver over a fake client that answers with `steps`, one per fetch. */
function receiverWith(steps: Step<Ev>[], options: { maxPending?: number; longPollMs?: number; batchWaitMs?: number } = {}) {
  client = fakeClient(steps);
  return createReceiver({ client, replica, clock, followerId: "f-1", pollIntervalMs: POLL_MS, logLine: (l) => lines.push(l), batchLimit: 50, restore: () => () => "restored", ...options });
}

/** Polls `count` times, advancing the clock by each returned wait as the follower's loop would sleep; returns the waits. */
async function pollRepeatedly(receiver: ReturnType<typeof receiverWith>, count: number): Promise<number[]> {
  const waits: number[] = [];
  for (let i = 0; i < count; i++) {
    const wait = await receiver.pollOnce();
    waits.push(wait);
    clock.advance(wait);
  }
  return waits;
}

describe("createReceiver -> leader answering", () => {
  it("asks from nextFrom with the batch limit and queues what comes back", async () => {
    const receiver = receiverWith([reply(0, [e0, e1]), reply(2, [e2])]);
    await receiver.pollOnce();
    await receiver.pollOnce();
    expect(client.calls, "fetches").toEqual([
      { from: 0, limit: 50, waitMs: 0, follower: "f-1", applied: 0, downstream: [], logId: undefined },
      { from: 2, limit: 50, waitMs: 0, follower: "f-1", applied: 0, downstream: [], logId: LOG_ID },
    ]);
    expect(replica.nextFrom).toBe(3);
    expect(replica.pending, "queued, not yet applied").toBe(3);
    expect(receiver.leaderReachable).toBe(true);
    expect(receiver.lastContactAt).toBe(0);
  });

  it("returns 0 while the leader has more, and the poll interval once caught up", async () => {
    const receiver = receiverWith([reply(0, [e0, e1], 4), reply(2, [e2, e3], 4), reply(4, [], 4)]);
    expect(await receiver.pollOnce(), "wait after fetching 2 of 4").toBe(0);
    expect(await receiver.pollOnce(), "wait after fetching 4 of 4").toBe(POLL_MS);
    expect(await receiver.pollOnce(), "wait after an empty reply").toBe(POLL_MS);
  });

  it("waits the poll interval after a reply that brings nothing new, even below the head (no busy loop)", async () => {
    const receiver = receiverWith([reply(0, [], 3), reply(0, [e0], 3), reply(0, [e0], 3)]);
    expect(await receiver.pollOnce(), "wait after an empty reply below the head").toBe(POLL_MS);
    expect(await receiver.pollOnce(), "wait after one new event below the head").toBe(0);
    expect(await receiver.pollOnce(), "wait after a reply of duplicates only").toBe(POLL_MS);
  });

  it("remembers the head from the last reply", async () => {
    const receiver = receiverWith([reply(0, [e0], 5), reply(1, [e1], 7)]);
    expect(receiver.head, "before any fetch").toBeUndefined();
    expect(receiver.leaderReachable, "before any fetch").toBeUndefined();
    await receiver.pollOnce();
    expect(receiver.head).toBe(5);
    await receiver.pollOnce();
    expect(receiver.head).toBe(7);
  });

  it("logs a gap in a reply once and applies nothing past it", async () => {
    const gapped = reply(0, [e0, e1, e3], 4);
    const receiver = receiverWith([gapped, gapped, reply(2, [e2, e3], 4)]);
    expect(await receiver.pollOnce(), "wait after a gap").toBe(POLL_MS);
    expect(await receiver.pollOnce(), "wait after the same gap again").toBe(2 * POLL_MS);
    replica.applyDue(clock.now());
    expect(applied, "applied offsets").toEqual([0, 1]);
    expect(client.calls.map((c) => c.from), "asks again from the missing offset").toEqual([0, 2]);
    expect(lines, "log lines for two replies with the same gap").toEqual([expect.stringMatching(/skipped from offset 2 to 3/)]);

    await receiver.pollOnce();
    replica.applyDue(clock.now());
    expect(applied, "applied once the missing offset arrives").toEqual([0, 1, 2, 3]);
  });
});

describe("createReceiver -> leader unreachable", () => {
  it("backs off 100, 200, 400 ... capped at MAX_BACKOFF_MS and reports the leader unreachable", async () => {
    const receiver = receiverWith(Array.from({ length: 8 }, unreachable));
    const waits = await pollRepeatedly(receiver, 8);
    expect(waits, "waits between failed polls").toEqual([100, 200, 400, 800, 1600, 3200, MAX_BACKOFF_MS, MAX_BACKOFF_MS]);
    expect(receiver.leaderReachable).toBe(false);
  });

  it("writes one line for a streak of failures, and one more for a different problem", async () => {
    const receiver = receiverWith([...Array.from({ length: 6 }, unreachable), refused(), refused()]);
    await pollRepeatedly(receiver, 6);
    expect(lines, "log lines for 6 failed polls").toHaveLength(1);
    expect(lines[0], "the outage line names the leader and the reason").toMatch(new RegExp(`${LEADER_URL}.*ECONNREFUSED`));

    await pollRepeatedly(receiver, 2);
    expect(lines, "log lines after two refusals").toHaveLength(2);
    expect(lines[1]).toContain("500 INTERNAL");
    expect(receiver.leaderReachable, "a refusal is an answer").toBe(true);
  });

  it("logs one 'answers again' line naming the offset it resumes from", async () => {
    const receiver = receiverWith([reply(0, [e0, e1], 2), ...Array.from({ length: 6 }, unreachable), reply(2, [e2], 3), reply(3, [], 3)]);
    await receiver.pollOnce();
    await pollRepeatedly(receiver, 6);
    expect(receiver.leaderReachable).toBe(false);
    lines.length = 0;

    expect(await receiver.pollOnce(), "wait after the leader answers again").toBe(POLL_MS);
    await receiver.pollOnce();
    expect(lines, "log lines after the outage").toEqual(["leader answers again after 6.3 s (6 failed polls); resuming from offset 2"]);
    expect(receiver.leaderReachable).toBe(true);
    expect(replica.nextFrom).toBe(3);
  });

  it("starts the backoff over after a success", async () => {
    const receiver = receiverWith([unreachable(), unreachable(), reply(0, [], 0), unreachable()]);
    expect(await pollRepeatedly(receiver, 4)).toEqual([100, 200, POLL_MS, 100]);
    expect(lines, "a new outage is logged again").toHaveLength(3);
  });

  it("counts an aborted fetch as no failure", async () => {
    const receiver = receiverWith(["hang"]);
    const stop = new AbortController();
    const polled = receiver.pollOnce(stop.signal);
    stop.abort();
    expect(await polled).toBe(0);
    expect(lines, "log lines").toEqual([]);
    expect(receiver.leaderReachable).toBeUndefined();
  });
});

describe("createReceiver -> backpressure", () => {
  it("does not fetch while maxPending events wait to be applied", async () => {
    replica = replicaWithLag(1000);
    const receiver = receiverWith([reply(0, [e0, e1, e2], 4), reply(3, [e3], 4)], { maxPending: 3 });
    expect(await receiver.pollOnce()).toBe(0);
    expect(await receiver.pollOnce(), "wait while the queue is full").toBe(POLL_MS);
    expect(client.calls, "fetches while the queue is full").toHaveLength(1);

    clock.advance(1000);
    replica.applyDue(clock.now());
    await receiver.pollOnce();
    expect(client.calls.map((c) => c.from), "fetches once there is room").toEqual([0, 3]);
  });
});

describe("createReceiver -> long-polling", () => {
  const BATCH_WAIT_MS = 20;
  const longPolling = (steps: Step<Ev>[]) => receiverWith(steps, { longPollMs: 5000, batchWaitMs: BATCH_WAIT_MS });

  it("asks the leader to wait, and fetches again at once after events", async () => {
    const receiver = longPolling([reply(0, [e0], 1)]);
    expect(await receiver.pollOnce(), "wait after a reply with events").toBe(0);
    expect(client.calls).toHaveLength(1);
  });

  it("renews at once a long poll the leader held to the end", async () => {
    const receiver = longPolling([reply(0, [], 0)]);
    const polling = receiver.pollOnce();
    clock.advance(5000); // as if the leader held the request for the whole wait
    expect(await polling, "wait after an empty, full-length long poll").toBe(0);
  });

  it("waits the poll interval after an empty answer that came early, so a leader that does not long-poll cannot cause a busy loop", async () => {
    const receiver = longPolling([reply(0, [], 0)]);
    expect(await receiver.pollOnce()).toBe(POLL_MS);
  });

  it("after a reply that brought several events, fetches at once asking the leader to hold the fetch batchWaitMs, so that it brings a batch", async () => {
    const receiver = longPolling([reply(0, [e0, e1], 2), reply(2, [e2], 3), reply(3, [], 3)]);
    expect(await receiver.pollOnce(), "wait after 2 events (writes arriving faster than fetches)").toBe(0);
    expect(await receiver.pollOnce(), "wait after a lone event").toBe(0);
    const polling = receiver.pollOnce();
    clock.advance(5000);
    await polling;
    expect(
      client.calls.map((c) => c.batchWaitMs),
      "the fetch after the batch asks to be held for one; the fetches after a first fetch and after a lone event do not",
    ).toEqual([undefined, BATCH_WAIT_MS, undefined]);
  });

  it("does not ask for a batch after a reply that carried ackWanted: a write waits for it to report", async () => {
    const receiver = longPolling([reply(0, [e0, e1], 2, { ackWanted: "received" }), reply(2, [e2], 3)]);
    await receiver.pollOnce();
    await receiver.pollOnce();
    expect(client.calls.map((c) => c.batchWaitMs)).toEqual([undefined, undefined]);
  });

  it("does not wait while the leader has more ready than one reply holds (catching up)", async () => {
    const receiver = longPolling([reply(0, [e0, e1], 4)]);
    expect(await receiver.pollOnce(), "wait after 2 events of 4").toBe(0);
  });
});

describe("createReceiver -> polling", () => {
  it("ignores batchWaitMs: a caught-up follower waits the poll interval, as in the chapter", async () => {
    const receiver = receiverWith([reply(0, [e0, e1], 2)], { longPollMs: 0, batchWaitMs: 20 });
    expect(await receiver.pollOnce()).toBe(POLL_MS);
  });
});

describe("createReceiver -> progress reports", () => {
  it("tells the upstream at once when it applies while its fetch is held, and not otherwise", async () => {
    replica = replicaWithLag(1000);
    const receiver = receiverWith([reply(0, [e0], 1), "hang"], { longPollMs: 5000 });
    await receiver.pollOnce();
    receiver.reportProgress();
    expect(client.acks, "no fetch in flight: the next fetch will say it").toEqual([]);

    const stop = new AbortController();
    const held = receiver.pollOnce(stop.signal);
    await client.whenCalled(2);
    expect(client.calls[1], "the held fetch reports nothing applied yet").toMatchObject({ from: 1, applied: 0 });
    receiver.reportProgress();
    expect(client.acks, "nothing new applied: nothing to report").toEqual([]);
    clock.advance(1000);
    replica.applyDue(clock.now());
    receiver.reportProgress();
    expect(client.acks).toEqual([{ follower: "f-1", logId: LOG_ID, received: 1, applied: 1 }]);
    stop.abort();
    await held;
  });

  it("passes the followers below it up the chain, in fetches and, when they move, in an ack", async () => {
    let below: [string, string, "streaming", number, number][] = [["f-2", "f-1", "streaming", 0, 0]];
    client = fakeClient([reply(0, [], 0), "hang"]);
    const receiver = createReceiver({ client, replica, clock, followerId: "f-1", downstream: () => below, pollIntervalMs: POLL_MS, longPollMs: 5000, logLine: () => {}, restore: () => () => "" });
    await receiver.pollOnce();
    expect(client.calls[0]?.downstream).toEqual(below);
    const stop = new AbortController();
    const held = receiver.pollOnce(stop.signal);
    await client.whenCalled(2);
    receiver.reportProgress();
    expect(client.acks, "nothing moved").toEqual([]);
    below = [["f-2", "f-1", "streaming", 3, 2]];
    receiver.reportProgress();
    expect(client.acks).toEqual([{ follower: "f-1", logId: LOG_ID, received: 0, applied: 0, downstream: below }]);
    stop.abort();
    await held;
  });
});

describe("createReceiver -> the chain above it", () => {
  it("remembers the chain and where writes go, from a follower upstream", async () => {
    const receiver = receiverWith([reply(0, [e0], 1, { leader: undefined, follower: true, chain: ["leader", "f-0"], leaderUrl: "http://the-leader:3000" })]);
    expect(receiver.leaderUrl, "before hearing: its own upstream").toBe(LEADER_URL);
    await receiver.pollOnce();
    expect(receiver.upstreamChain).toEqual(["leader", "f-0"]);
    expect(receiver.upstreamIsLeader).toBe(false);
    expect(receiver.leaderUrl).toBe("http://the-leader:3000");
  });

  it("refuses a reply whose chain holds this follower: a loop, logged once, backing off, nothing appended", async () => {
    const looped = reply(0, [e0], 1, { leader: undefined, follower: true, chain: ["f-1", "f-2"] });
    const receiver = receiverWith([looped, looped]);
    expect(await pollRepeatedly(receiver, 2)).toEqual([100, 200]);
    expect(replica.nextFrom, "nothing appended").toBe(0);
    expect(lines).toEqual([expect.stringMatching(/replication loop: .* \(f-1 -> f-2 -> f-1\)/)]);
  });

  it("learns a loop from a NOT_READY refusal too, when nobody in the loop has a log yet", async () => {
    const notReady = new LeaderReplyError(503, "NOT_READY", "f-2 has not reached its upstream yet", { ok: false, code: "NOT_READY", follower: true, chain: ["f-1", "f-2"] });
    const receiver = receiverWith([notReady]);
    await receiver.pollOnce();
    expect(lines).toEqual([expect.stringMatching(/replication loop/)]);
  });
});

describe("createReceiver -> freshness", () => {
  it("proves its received log fresh as of when it asked plus how long the upstream held the fetch", async () => {
    const receiver = receiverWith([reply(0, [], 0, { heldMs: 300 })]);
    clock.advance(1000);
    await receiver.pollOnce();
    clock.advance(500);
    expect(receiver.freshness.receivedStalenessMs(clock.now())).toBe(200);
  });
});

describe("createReceiver -> resync", () => {
  it("replaces the state in the same step as it moves to the snapshot's log and offset", async () => {
    const seen: string[] = [];
    client = fakeClient([reply(0, [e0, e1], 2), new LeaderReplyError(409, "LOG_ID_MISMATCH", "another log")]);
    client.scriptSnapshots(snapshotReply(7, "snapshot state", "00000000000000bb"));
    const receiver = createReceiver({
      client,
      replica,
      clock,
      followerId: "f-1",
      pollIntervalMs: POLL_MS,
      logLine: (l) => lines.push(l),
      restore: (state) => () => {
        seen.push(`${state} while at ${replica.logId}:${replica.nextFrom}`);
        return "1 thing";
      },
    });
    await receiver.pollOnce();
    expect(await receiver.pollOnce()).toBe(0);
    expect(seen, "replaced once, just before the position moves (in the same synchronous step)").toEqual([`snapshot state while at ${LOG_ID}:2`]);
    expect([replica.logId, replica.nextFrom, receiver.resyncs]).toEqual(["00000000000000bb", 7, 1]);
    expect(lines).toEqual([expect.stringMatching(/^resync #1: LOG_ID_MISMATCH: another log; loaded the leader's snapshot of log 00000000000000bb at offset 7 \(1 thing\)/)]);
  });
});

describe("createReceiver -> leaderships (epochs)", () => {
  it("takes on the upstream's epochs as it receives their entries, and says the latest in every fetch", async () => {
    const epochs = [{ epoch: 1, start: 0 }, { epoch: 2, start: 1 }];
    const receiver = receiverWith([reply(0, [e0, e1], 2, { epoch: 2, epochs }), reply(2, [], 2, { epoch: 2, epochs })]);
    await receiver.pollOnce();
    expect(replica.epochs).toEqual(epochs);
    await receiver.pollOnce();
    expect(client.calls[1]).toMatchObject({ from: 2, epoch: 2 });
  });

  it("refuses an upstream of an older leadership than it has seen, and backs off", async () => {
    const receiver = receiverWith([reply(0, [e0], 1, { epoch: 3, epochs: [{ epoch: 3, start: 0 }] }), reply(1, [e1], 2, { epoch: 2, epochs: [{ epoch: 2, start: 0 }] })]);
    await receiver.pollOnce();
    expect(await receiver.pollOnce(), "backs off").toBe(POLL_MS);
    expect(replica.nextFrom, "nothing taken from the older leader").toBe(1);
    expect(receiver.problem).toMatch(/is at epoch 2, but this follower has seen epoch 3: it was replaced/);
  });

  it("drops the suffix the new leader's history never had, names each event, and carries on from there", async () => {
    replica = replicaWithLag(1000); // received, not applied yet
    const diverged = new LeaderReplyError(409, "DIVERGED", "drop offsets 1 to 2", { ok: false, code: "DIVERGED", truncateTo: 1, epoch: 2 });
    client = fakeClient([reply(0, [e0, e1, e2], 3), diverged, reply(1, [], 1)]);
    const receiver = createReceiver({ client, replica, clock, followerId: "f-1", pollIntervalMs: POLL_MS, logLine: (l) => lines.push(l), restore: () => () => "", describe: (e) => ` n=${e.n}` });
    await receiver.pollOnce();
    expect(await receiver.pollOnce(), "fetches again at once").toBe(0);
    expect(replica.nextFrom).toBe(1);
    expect(lines).toEqual([expect.stringMatching(/never had offsets 1 to 2: dropped 2 events this follower had received \(1 n=7, 2 n=14\)/)]);
    expect([receiver.truncations, receiver.resyncs]).toEqual([1, 0]);
  });

  it("resyncs from a snapshot when it had applied some of what it drops", async () => {
    const diverged = new LeaderReplyError(409, "DIVERGED", "drop offsets 1 to 2", { ok: false, code: "DIVERGED", truncateTo: 1, epoch: 2 });
    client = fakeClient([reply(0, [e0, e1, e2], 3), diverged]);
    client.scriptSnapshots(snapshotReply(1, "state at 1"));
    const receiver = createReceiver({ client, replica, clock, followerId: "f-1", pollIntervalMs: POLL_MS, logLine: (l) => lines.push(l), restore: () => () => "restored" });
    await receiver.pollOnce();
    replica.applyDue(clock.now()); // offsets 0-2 applied: the state holds 1 and 2
    await receiver.pollOnce();
    expect([replica.nextFrom, replica.appliedNext, receiver.resyncs]).toEqual([1, 1, 1]);
  });
});
