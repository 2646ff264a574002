import { createManualClock, systemClock, type ManualClock } from "@lab/service";
import { PassThrough } from "node:stream";
import { Agent, request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../cluster.ts";
import { until } from "./until.ts";

/**
 * STREAM=1: a follower keeps one request open to its upstream, which sends each batch down it as
 * it has it, and the follower's progress comes up the same request. The nodes share a manual
 * clock that the test moves only when it says so: what arrives without time passing came down
 * the open stream.
 */
describe("streaming replication", () => {
  let clock: ManualClock;
  let cluster: Cluster | undefined;
  const agent = new Agent();
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  const T0 = 1_700_000_000_000;
  const start = async (options: Parameters<typeof startCluster>[0] = {}) => {
    clock = createManualClock(T0);
    cluster = await startCluster({ clock, applyLagMs: 0, pollIntervalMs: 300, longPollMs: 5000, stream: true, run: true, ...options });
    return cluster;
  };

  /** The leader's row for follower `id`, once `check` holds for it. */
  const leaderSees = (c: Cluster, id: string, check: (row: any) => boolean) =>
    until(`the leader's /replication shows ${id} as expected`, async () => {
      const row = (await c.leader.replication()).body.followers.find((f: { id: string }) => f.id === id);
      return row && check(row) ? row : undefined;
    });

  it("every write comes down one open request, and the leader learns the follower's position from it, with no time passing", async () => {
    const c = await start();
    for (let i = 1; i <= 3; i++) {
      await c.createOrder(`o-${i}`);
      await c.follower.waitForApplied(i - 1, new Promise(() => {}));
    }
    expect((await c.readFollower("o-3")).status).toBe(200);
    const row = await leaderSees(c, "follower", (r) => r.appliedOffset === 2);
    expect(row).toMatchObject({ state: "streaming", receivedOffset: 2, appliedOffset: 2, fetches: 1, waiting: true });
    expect((await c.followerStatus()).body).toMatchObject({ stream: true, fetches: 3 }); // a reply a write
    expect(clock.now(), "time passed on the manual clock").toBe(T0);
  });

  it("while writes stream in, a line goes at most every BATCH_WAIT_MS; a write after a quiet spell goes at once", async () => {
    const c = await start({ batchWaitMs: 100 });
    await leaderSees(c, "follower", (r) => r.waiting);
    await c.createOrder("o-1"); // after a quiet spell: at once
    await c.follower.waitForApplied(0, new Promise(() => {}));
    await c.createOrder("o-2");
    await c.createOrder("o-3");
    await clock.whenSleeping(1); // the stream waits out the rest of the 100 ms
    expect((await c.readFollower("o-2")).status, "before the pause has passed").toBe(404);
    clock.advance(100);
    await c.follower.waitForApplied(2, new Promise(() => {}));
    expect((await c.followerStatus()).body.fetches, "o-2 and o-3 in one line").toBe(2);
  });

  it("a heartbeat is not a batch: a lone write right after one goes at once", async () => {
    const c = await start({ longPollMs: 1000, batchWaitMs: 100 });
    await leaderSees(c, "follower", (r) => r.waiting);
    await clock.whenSleeping(1);
    clock.advance(1000); // a heartbeat goes down the stream
    await until("the heartbeat came", async () => ((await c.followerStatus()).body.fetches === 1 ? true : undefined));
    await c.createOrder("o-1");
    await c.follower.waitForApplied(0, new Promise(() => {}));
    expect(clock.now(), "no pause after the heartbeat").toBe(T0 + 1000);
  });

  it("a synchronous write does not wait out the pause", async () => {
    const c = await start({ batchWaitMs: 100, sync: { replicas: 1, ack: "received" } });
    await leaderSees(c, "follower", (r) => r.waiting);
    expect((await c.createOrder("o-1")).status).toBe(201);
    expect((await c.createOrder("o-2")).status).toBe(201); // acknowledged, so it came down the stream with no time passing
    expect(clock.now()).toBe(T0);
  });

  it("a stream with nothing new sends a heartbeat every waitMs, so the follower can vouch for its freshness", async () => {
    const c = await start({ longPollMs: 1000 });
    await c.createOrder("o-1");
    await c.follower.waitForApplied(0, new Promise(() => {}));
    const before = (await c.followerStatus()).body.fetches;
    await clock.whenSleeping(1);
    clock.advance(1000);
    await until("a heartbeat came down the stream", async () => ((await c.followerStatus()).body.fetches > before ? true : undefined));
    expect((await c.readFollower("o-1", { maxStalenessMs: 1000 })).status).toBe(200);
  });

  it("SYNC_ACK=received: the follower's report up the stream is what acknowledges a write", async () => {
    const c = await start({ sync: { replicas: 1, ack: "received" } });
    await leaderSees(c, "follower", (r) => r.waiting);
    const reply = await c.createOrder("o-1");
    expect(reply.status).toBe(201);
    expect(reply.body.replication).toMatchObject({ mode: "sync", required: 1, ack: "received", followers: ["follower"] });
    expect(clock.now()).toBe(T0);
  });

  it("SYNC_ACK=applied: 200 writes, each read on the follower at once after its acknowledgement: none is stale", async () => {
    const c = await start({ sync: { replicas: 1, ack: "applied" } });
    await leaderSees(c, "follower", (r) => r.waiting);
    let stale = 0;
    for (let i = 0; i < 200; i++) {
      expect((await c.createOrder(`o-${i}`)).status).toBe(201);
      if ((await c.readFollower(`o-${i}`)).status !== 200) stale++;
    }
    expect(stale).toBe(0);
  });

  it("cascading: a follower streams from a follower that streams from the leader, and the leader sees both", async () => {
    // On the real clock: the one below may ask before the middle one has reached the leader, and backs off.
    const c = await start({ clock: systemClock, followers: [{ id: "middle" }, { id: "below", upstream: 0 }] });
    await c.createOrder("o-1");
    await c.followers[1]!.expectCaughtUp();
    expect((await c.followers[1]!.read("o-1")).status).toBe(200);
    const rows = await until("the leader lists both followers at offset 0", async () => {
      const list = (await c.leader.replication()).body.followers as { id: string; via: string | null; appliedOffset: number }[];
      return list.length === 2 && list.every((r) => r.appliedOffset === 0) ? list : undefined;
    });
    expect(rows.map((r) => [r.id, r.via])).toEqual([
      ["middle", null],
      ["below", "middle"],
    ]);
  });

  it("a leader restarted without its log ends the stream; the follower's next one is refused, and it resyncs", async () => {
    const c = await start({ clock: systemClock }); // the follower backs off while the leader is down
    await c.createOrder("o-old");
    await c.expectCaughtUp();
    await c.leader.restart(); // a new, empty log
    await c.createOrder("o-new");
    await until("the follower resynced", async () => ((await c.followerStatus()).body.resyncs === 1 ? true : undefined));
    await c.expectCaughtUp();
    expect((await c.readFollower("o-new")).status).toBe(200);
    expect((await c.readFollower("o-old")).status).toBe(404);
  });

  it("after a resync to a shorter log, the follower's reports acknowledge synchronous writes again", async () => {
    const c = await start({ clock: systemClock, sync: { replicas: 1, ack: "received", timeoutMs: 2000 } });
    for (let i = 0; i < 3; i++) expect((await c.createOrder(`o-old-${i}`)).status).toBe(201);
    await c.leader.restart(); // a new, empty log: the follower must go back to offset 0
    await until("the follower resynced", async () => ((await c.followerStatus()).body.resyncs === 1 ? true : undefined));
    await leaderSees(c, "follower", (r) => r.waiting);
    const reply = await c.createOrder("o-new");
    expect(reply.status, "acknowledged, not REPLICATION_TIMEOUT").toBe(201);
    expect(reply.body.replication.followers).toEqual(["follower"]);
  });

  it("a held link cuts the stream: nothing arrives until the link opens again", async () => {
    const c = await start();
    await leaderSees(c, "follower", (r) => r.waiting);
    expect((await request(`${c.follower.url}/admin/pause`, { method: "POST", dispatcher: agent, headers: { "content-type": "application/json" }, body: JSON.stringify({ mode: "hold" }) })).statusCode).toBe(200);
    await leaderSees(c, "follower", (r) => !r.waiting);
    await c.createOrder("o-1");
    expect((await c.readFollower("o-1")).status).toBe(404);
    await request(`${c.follower.url}/admin/resume`, { method: "POST", dispatcher: agent });
    await c.expectCaughtUp();
    expect((await c.readFollower("o-1")).status).toBe(200);
  });

  describe("what the leader refuses", () => {
    const open = (url: string, query: string, body = "") =>
      request(`${url}/replication/stream?${query}`, { method: "POST", dispatcher: agent, headers: { "content-type": "application/x-ndjson" }, body });

    it("a stream that names no follower, or asks for no heartbeat, or from where the log is not: JSON 4xx, as a fetch", async () => {
      const c = await start({ followers: [] });
      const refused = async (query: string) => {
        const reply = await open(c.leader.url, query, "{}\n");
        return { status: reply.statusCode, code: ((await reply.body.json()) as { code: string }).code };
      };
      expect(await refused("from=0&waitMs=500")).toEqual({ status: 400, code: "INVALID_PARAMETER" });
      expect(await refused("from=0&follower=f-1")).toEqual({ status: 400, code: "INVALID_PARAMETER" });
      expect(await refused("from=5&follower=f-1&waitMs=500")).toEqual({ status: 409, code: "OFFSET_OUT_OF_RANGE" });
      expect(await refused("from=0&follower=f-1&waitMs=500&logId=00ff")).toEqual({ status: 409, code: "LOG_ID_MISMATCH" });
      expect(await refused("from=0&follower=f-1&waitMs=500&batchWaitMs=-1")).toEqual({ status: 400, code: "INVALID_PARAMETER" });
      expect((await c.leader.replication()).body.followers).toEqual([]);
    });

    it("a report that is not JSON, or past the head, ends the stream with a JSON line saying why; the leader goes on serving", async () => {
      const c = await start({ followers: [] });
      await c.createOrder("o-1");
      for (const [bad, code] of [
        ["nope", "INVALID_BODY"],
        ['{"received":9,"applied":0}', "OFFSET_OUT_OF_RANGE"],
        ['{"received":1,"applied":2}', "INVALID_BODY"],
      ] as const) {
        const reply = await open(c.leader.url, "from=0&follower=f-1&waitMs=500", `{"received":0,"applied":0}\n${bad}\n`);
        expect(reply.statusCode).toBe(200);
        const lines = (await reply.body.text()).trim().split("\n").map((l) => JSON.parse(l));
        expect(lines[0]).toMatchObject({ ok: true, from: 0, nextFrom: 1 });
        expect(lines.at(-1)).toMatchObject({ ok: false, code });
      }
      const row = await leaderSees(c, "f-1", () => true);
      expect(row).toMatchObject({ receivedOffset: null, appliedOffset: null });
      expect((await c.createOrder("o-2")).status).toBe(201);
    });

    it("a follower that answers no heartbeat is taken for gone: its stream ends, and it shows as disconnected", async () => {
      const c = await start({ followers: [], followerTimeoutMs: 3000 });
      const body = new PassThrough();
      body.write('{"received":0,"applied":0}\n'); // then nothing, as a follower whose host went away
      const reply = await request(`${c.leader.url}/replication/stream?from=0&follower=f-1&waitMs=1000`, { method: "POST", dispatcher: agent, headers: { "content-type": "application/x-ndjson" }, body });
      expect(reply.statusCode).toBe(200);
      let received = "";
      const ended = (async () => {
        try {
          for await (const chunk of reply.body) received += String(chunk);
        } catch {
          // the leader drops the connection of a follower that is not there
        }
      })();
      const lines = () => received.split("\n").length - 1;
      for (let i = 1; i <= 3; i++) {
        await leaderSees(c, "f-1", (r) => r.waiting); // the stream waits at the head again
        clock.advance(1000);
        await until(`heartbeat ${i}`, () => (lines() >= i ? true : undefined));
      }
      await leaderSees(c, "f-1", (r) => r.waiting); // 3 s without a word: FOLLOWER_TIMEOUT_MS, not more yet
      clock.advance(1000);
      await ended; // past it, and two heartbeats: it is dropped
      expect(lines(), "a heartbeat a second until then").toBe(3);
      body.destroy();
      clock.advance(3001);
      const row = await leaderSees(c, "f-1", (r) => r.state === "disconnected");
      expect(row.waiting).toBe(false);
    });
  });
});
