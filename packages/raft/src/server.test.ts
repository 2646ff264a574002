import { createManualClock, type ManualClock } from "@lab/service";
import { afterEach, describe, expect, it } from "vitest";
import type { Envelope } from "./messages.ts";
import type { CommittedEntry } from "./ready.ts";
import { createRaftServer, type RaftServer } from "./server.ts";
import { createMemoryStorage } from "./storage.ts";

/** Resolves once `check` holds, looking again after each turn of the event loop; no time passes on the clock meanwhile. */
async function until(what: string, check: () => boolean, turns = 500) {
  for (let i = 0; i < turns; i++) {
    if (check()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened within ${turns} turns of the event loop: ${what}`);
}

/**
 * Three servers in one process, their messages passed on a turn of the event loop later, unless
 * a node is cut off. n1 draws the shortest election timeout (150 ms), n2 a middle one (225 ms),
 * n3 the longest (285 ms), so who stands first is known.
 */
function startGroup(clock: ManualClock) {
  const ids = ["n1", "n2", "n3"];
  const cut = new Set<string>();
  const sent: Envelope<string>[] = [];
  const applied = new Map(ids.map((id) => [id, [] as CommittedEntry<string>[]]));
  const storage = new Map(ids.map((id) => [id, createMemoryStorage<string>()]));
  const servers = new Map<string, RaftServer<string, string>>();
  for (const [i, id] of ids.entries()) {
    servers.set(
      id,
      createRaftServer<string, string>({
        id,
        peers: ids.filter((p) => p !== id),
        storage: storage.get(id)!,
        clock,
        random: () => [0, 0.5, 0.9][i]!,
        send(message) {
          sent.push(message);
          if (cut.has(message.from) || cut.has(message.to)) return;
          setImmediate(() => servers.get(message.to)?.receive(message));
        },
        apply(entry) {
          applied.get(id)!.push(entry);
          return "command" in entry ? `applied ${entry.command} on ${id}` : "";
        },
      }),
    );
  }
  for (const server of servers.values()) server.start();
  const server = (id: string) => servers.get(id)!;
  return { servers, server, cut, sent, applied, storage, stop: () => servers.forEach((s) => s.stop()) };
}

/** Moves the clock 5 ms at a time, letting messages go between steps, until `check` holds. */
async function advanceUntil(what: string, check: () => boolean, withinMs = 2_000) {
  for (let passed = 0; passed <= withinMs; passed += 5) {
    if (check()) return;
    clock.advance(5);
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`not within ${withinMs} ms: ${what}`);
}

let clock: ManualClock;
let group: ReturnType<typeof startGroup> | undefined;
afterEach(() => group?.stop());

async function started() {
  clock = createManualClock(1_000);
  group = startGroup(clock);
  clock.advance(150); // n1's election timeout
  await until("n1 leads", () => group!.server("n1").status().role === "leader");
  return group;
}

describe("a Raft server", () => {
  it("resolves a proposal once its entry is applied here, with what applying returned", async () => {
    const g = await started();
    const outcome = await g.server("n1").propose("x");
    expect(outcome).toEqual({ ok: true, index: 2, term: 1, result: "applied x on n1" });
    await until("the followers apply it", () => g.applied.get("n2")!.length === 2 && g.applied.get("n3")!.length === 2);
  });

  it("refuses a proposal on a follower at once, naming the leader", async () => {
    const g = await started();
    await until("n2 knows its leader", () => g.server("n2").status().leaderId === "n1");
    expect(await g.server("n2").propose("x")).toEqual({ ok: false, code: "NOT_LEADER", leaderId: "n1" });
  });

  it("takes in everything proposed in one turn with one save and one AppendEntries per follower", async () => {
    const g = await started();
    await until("the no-op committed everywhere", () => g.applied.get("n3")!.length === 1);
    const saves = g.storage.get("n1")!.saves;
    const from = g.sent.length;
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => g.server("n1").propose(`c${i}`)));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const appends = g.sent.slice(from).filter((m) => m.type === "AppendEntries" && m.entries.length > 0);
    expect(appends.map((m) => [m.to, m.type === "AppendEntries" && m.entries.length])).toEqual([
      ["n2", 50],
      ["n3", 50],
    ]);
    expect(g.storage.get("n1")!.saves - saves, "saves on the leader: the proposals, then the replies").toBeLessThanOrEqual(3);
  });

  it("fails a proposal as LOST once another leader's entry takes its index", async () => {
    const g = await started();
    g.cut.add("n1");
    const stranded = g.server("n1").propose("never");
    await advanceUntil("a new leader", () => ["n2", "n3"].some((id) => g.server(id).status().role === "leader"));
    const leader = ["n2", "n3"].find((id) => g.server(id).status().role === "leader")!;
    expect(await g.server(leader).propose("instead")).toMatchObject({ ok: true, index: 2 });
    g.cut.clear();
    clock.advance(50); // the new leader's heartbeat reaches n1
    expect(await stranded).toMatchObject({ ok: false, code: "LOST" });
    await until("n1 applies the new leader's entry", () => g.applied.get("n1")!.some((e) => "command" in e && e.command === "instead"));
  });

  it("answers a read index once the followers have answered, at what is applied", async () => {
    const g = await started();
    await g.server("n1").propose("x");
    expect(await g.server("n1").readIndex()).toMatchObject({ ok: true, index: 2 });
    expect(await g.server("n2").readIndex()).toMatchObject({ ok: false });
  });

  it("resolves a received message once the flush that took it in has run, so that its answer has been sent", async () => {
    const g = await started();
    const heartbeat: Envelope<string> = { type: "AppendEntries", from: "n1", to: "n2", term: 1, leaderId: "n1", prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, round: 99 };
    const from = g.sent.length;
    await g.server("n2").receive(heartbeat);
    expect(g.sent.slice(from), "sent by the time receive resolved").toContainEqual(expect.objectContaining({ type: "AppendEntriesReply", from: "n2", to: "n1", round: 99 }));
    const taken = g.server("n2").receive(heartbeat);
    g.stop();
    await taken; // resolved by stop(), though no flush runs any more
    await g.server("n2").receive(heartbeat);
  });

  it("stops cleanly: what waits is answered STOPPED, and no timer is left on the clock", async () => {
    const g = await started();
    g.cut.add("n1");
    const waiting = g.server("n1").propose("x");
    g.stop();
    expect(await waiting).toMatchObject({ ok: false, code: "STOPPED" });
    expect(clock.sleeping).toBe(0);
  });
});
