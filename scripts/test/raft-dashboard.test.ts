import { createRaftDashboard } from "@lab/dashboard/raft";
import { listen, type Listening } from "@lab/service";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRaftProcesses, type RaftProcesses } from "../raft-processes.ts";
import { expectOnOneScreen, haveChromium, launchChromium } from "./chromium.ts";
import { until } from "./until.ts";

/**
 * The dashboard's view of a Raft group (RAFT_URLS), in Chromium, on a group of three apps/raft
 * processes as `pnpm dev:raft --dashboard` runs them (the chapter's election timeouts, 150-300
 * ms): the page shows one leader and its term; a write from the page grows every log; Disconnect
 * on the leader's lane, and the page shows a new leader in a higher term; Reconnect, and the old
 * leader follows it. Every wait is on what the page shows or a node says, never on time; the
 * waits for an election are bounded by ELECTION_SHOWN_MS, the "within a second or so" a teacher
 * needs, with room for a loaded machine.
 */
const withChromium = haveChromium("Raft dashboard browser test");
const ELECTION_SHOWN_MS = 3_000;

describe.skipIf(!withChromium)("the dashboard on a Raft group of three, in Chromium", () => {
  let group: RaftProcesses;
  let dashboard: ReturnType<typeof createRaftDashboard>;
  let server: Listening;
  let browser: Browser;
  let page: Page;
  let first: { id: string; term: number };

  beforeAll(async () => {
    group = await startRaftProcesses({ nodes: 3 });
    dashboard = createRaftDashboard({ nodeUrls: group.ids.map(group.urlOf) });
    server = await listen(dashboard.app, { host: "127.0.0.1", port: 0 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await dashboard?.close();
    await group?.close();
  });

  const lane = (id: string) => page.locator(`.raft-lane[data-node="${id}"]`);
  /** Waits until the page shows `text` in `selector` (Playwright watches the page; nothing sleeps). */
  const shows = (selector: string, text: string | RegExp, timeout = 5_000) => page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout });
  /** The leader the page draws as the group's (its lane marked), and its term as the lane says it. */
  const leaderShown = async () => {
    const leading = page.locator(".raft-lane.leader-lane");
    return { id: (await leading.getAttribute("data-node"))!, term: Number(await leading.locator(".term b").textContent()) };
  };

  it("shows one leader and its term, as the nodes say them, and each node's role, term and vote", async () => {
    const id = await until("a leader that all three follow", () => group.leader(), 20_000);
    const { currentTerm: term } = await group.status(id);
    await lane(id).and(page.locator(`.leader-lane[data-role="leader"][data-term="${term}"]`)).waitFor({ timeout: 5_000 });
    await expect.poll(() => page.locator('.raft-lane[data-role="leader"]').count(), { timeout: 5_000 }).toBe(1);
    expect(await leaderShown()).toEqual({ id, term });
    for (const other of group.ids.filter((n) => n !== id)) {
      const { votedFor } = await group.status(other); // the leader, or another candidate of a split vote, or nobody
      await shows(`.raft-lane[data-node="${other}"][data-role="follower"][data-term="${term}"] .detail`, `votedFor ${votedFor ?? "nobody"} · leader ${id}`);
      await shows(`.raft-lane[data-node="${other}"] .badge.link[data-state="up"]`, /^answers$/);
    }
    await shows("#write-heading", `Write to the leader: ${id} (term ${term})`);
    await shows(`#leaders li[data-term="${term}"][data-node="${id}"]`, `term ${term}: ${id}`);
    first = { id, term };
  }, 30_000);

  it("writes from the page: every log grows by the entry, committed and applied, and the leader's matchIndex for each follower reaches it", async () => {
    await page.fill("#order-id", "o-1");
    await page.click("#create-form button[type=submit]");
    await shows("#message", new RegExp(`^Create order o-1: done · committed at index (\\d+), term ${first.term}$`));
    const index = Number(/index (\d+)/.exec((await page.locator("#message").textContent())!)![1]);
    for (const id of group.ids) {
      await shows(`.raft-lane[data-node="${id}"] .cell.applied`, new RegExp(`^${index}$`));
      await shows(`.raft-lane[data-node="${id}"] .detail`, `log ${index} · commitIndex ${index} · lastApplied ${index}`);
    }
    for (const id of group.ids.filter((n) => n !== first.id)) await shows(`.raft-lane[data-node="${id}"] .progress`, `the leader's matchIndex ${index} · nextIndex ${index + 1}`);
    expect(await page.locator(`.raft-lane[data-node="${first.id}"] .progress`).isHidden(), "the leader's own lane has no matchIndex").toBe(true);
  }, 20_000);

  it("disconnects the leader from its lane; the page shows another leader in a higher term within a second or so", async () => {
    await lane(first.id).locator("button", { hasText: "Disconnect" }).click();
    await shows(`.raft-lane[data-node="${first.id}"] .badge.link[data-state="disconnected"]`, /^disconnected$/, 2_000);
    expect((await group.status(first.id)).disconnected, "the node itself says so").toBe(true);
    await page.locator(`.raft-lane.leader-lane:not([data-node="${first.id}"])`).waitFor({ timeout: ELECTION_SHOWN_MS });
    const next = await leaderShown();
    expect(next.term, "the new leader's term").toBeGreaterThan(first.term);
    expect(await group.status(next.id), "what the new leader says").toMatchObject({ role: "leader", currentTerm: next.term });
    await shows("#write-heading", `Write to the leader: ${next.id} (term ${next.term})`, 1_000);
    await shows(`#leaders li:first-child[data-term="${next.term}"][data-node="${next.id}"]`, /without a leader/, 1_000);
    // Cut off, the old leader cannot commit: it steps down (checkQuorum) and, with pre-vote, stays in its term.
    await page.locator(`.raft-lane[data-node="${first.id}"]:not([data-role="leader"])[data-term="${first.term}"]`).waitFor({ timeout: ELECTION_SHOWN_MS });

    await page.fill("#order-id", "o-2");
    await page.click("#create-form button[type=submit]");
    await shows("#message", new RegExp(`^Create order o-2: done · committed at index \\d+, term ${next.term}$`));
    await shows(`.raft-lane[data-node="${first.id}"] .cell.missing`, /\d/, 1_000);
  }, 20_000);

  it("reconnects the old leader from its lane: it follows the new leader in its term, and its log is filled in", async () => {
    const next = await leaderShown();
    await lane(first.id).locator("button", { hasText: "Reconnect" }).click();
    await page.locator(`.raft-lane[data-node="${first.id}"][data-role="follower"][data-term="${next.term}"] .badge.link[data-state="up"]`).waitFor({ timeout: ELECTION_SHOWN_MS });
    await shows(`.raft-lane[data-node="${first.id}"] .detail`, `leader ${next.id}`);
    await expect.poll(() => lane(first.id).locator(".cell.missing").count(), { timeout: 5_000 }).toBe(0);
    expect(await leaderShown(), "the leader stays").toEqual(next);
  }, 20_000);

  it("is one screen at 1280x800: every lane, the legend, the line that says what one sees, the write form and the leaders", async () => {
    await expectOnOneScreen(page, [...group.ids.map((id): [string, string] => [`${id}'s lane`, `.raft-lane[data-node="${id}"]`]), ["the legend", ".legend"], ["the explanation", "#explain"], ["the write form", "#create-form"], ["the leaders seen", "#leaders"]]);
    await shows("#explain", "An entry is committed once a majority (2 of 3, the leader among them) has it");
  });
});
