import { createManualClock } from "@lab/service";
import { afterEach, describe, expect, it } from "vitest";
import { startGroup, type Group, type Reply } from "./group.ts";

/**
 * `GET /watch` on a group of three real nodes, all on one manual clock: n1's election timeout
 * (150 ms) is the first, and nothing happens before it unless the test does it.
 */
const T0 = 1_700_000_000_000;
let group: Group | undefined;
afterEach(async () => {
  await group?.close();
  group = undefined;
});

async function start() {
  group = await startGroup({ clock: createManualClock(T0) });
  return group;
}
const watch = (g: Group, id: string, query = "") => g.send("GET", `${g.urlOf(id)}/watch${query ? `?${query}` : ""}`);
/** A watch under way, and what it has answered so far (undefined while it is held). */
function hold(g: Group, id: string, query: string) {
  const held: { reply: Reply | undefined; done: Promise<Reply> } = { reply: undefined, done: watch(g, id, query) };
  void held.done.then((reply) => (held.reply = reply));
  return held;
}

describe("GET /watch on a Raft node", () => {
  it("answers the node's status and a version at once, and holds a watcher that has that version until the status changes", async () => {
    const g = await start();
    const first = await watch(g, "n1");
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ ok: true, id: "n1", role: "follower", currentTerm: 0, votedFor: null, logLength: 0, commitIndex: 0, lastApplied: 0, disconnected: false });
    expect(first.body.version).toEqual(expect.any(Number));

    const held = hold(g, "n1", `version=${first.body.version}&waitMs=60000`);
    await g.advance(100); // before any election timeout: nothing changes
    expect(held.reply, "answered while nothing changed").toBeUndefined();
    await g.elect(); // the flushes that made n1 leader tell its watchers
    const next = await held.done; // let go at the first change (n1 standing: a pre-candidate)
    expect(next.body.version, "a new version").toBeGreaterThan(first.body.version);
    expect((await watch(g, "n1")).body).toMatchObject({ role: "leader", currentTerm: 1, votedFor: "n1", peers: [{ id: "n2" }, { id: "n3" }] });
  });

  it("answers at once when asked with another version or no wait, and after waitMs with the same version while only heartbeats pass", async () => {
    const g = await start();
    await g.elect();
    await g.advance(50);
    const { version } = (await watch(g, "n2")).body;
    expect((await watch(g, "n2", `version=${version - 1}&waitMs=60000`)).body.version, "an old version").toBe(version);
    expect((await watch(g, "n2", `version=${version}`)).body.version, "no waitMs").toBe(version);

    const held = hold(g, "n2", `version=${version}&waitMs=500`);
    await g.advance(400); // eight heartbeats
    expect(held.reply, "answered on a heartbeat").toBeUndefined();
    await g.advance(200); // the watch may have reached the node a step or two after the first

    expect((await held.done).body.version, "after waitMs, nothing changed").toBe(version);
  });

  it("lets a watcher go when the node is disconnected, saying so", async () => {
    const g = await start();
    await g.elect();
    const { version } = (await watch(g, "n3")).body;
    const held = hold(g, "n3", `version=${version}&waitMs=60000`);
    await g.disconnect("n3");
    expect((await held.done).body).toMatchObject({ version: version + 1, disconnected: true, role: "follower" });
  });

  it.each(["version=x", "version=-1", "waitMs=60001", "waitMs=1.5", "ids=a%20b"])("refuses ?%s with a JSON 400", async (query) => {
    const g = await start();
    const reply = await watch(g, "n1", query);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ ok: false, code: "INVALID_PARAMETER", parameter: query.split("=")[0] });
  });
});
