import { createDashboard } from "@lab/dashboard";
import { listen } from "@lab/service";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendJson, startCluster, type Cluster, type ClusterOptions } from "../cluster.ts";
import { expectOnOneScreen, haveChromium, launchChromium } from "./chromium.ts";

/**
 * The live dashboard in a real browser: Debian's Chromium (CHROMIUM_PATH, or /usr/bin/chromium),
 * driven by playwright-core, against a leader and a follower 1.5 s behind on loopback, then
 * against a leader and three followers at projector sizes, then through a failover driven from
 * the page (promote, follow the leader, two leaders and back). Every wait is on something the page
 * shows (Playwright's waits, or its count of updates drawn), never on time. Without Chromium on
 * this machine the test is skipped, saying so; CI installs it and sets REQUIRE_BROWSER (.ci/run),
 * so there it runs or fails.
 */
const withChromium = haveChromium("dashboard browser test");

/** A cluster on loopback, the dashboard watching every node of it, and Chromium to open it in; `close` ends all three. */
async function startWatchedCluster(options: ClusterOptions) {
  const cluster = await startCluster(options);
  const dashboard = createDashboard({ leaderUrl: cluster.leader.url, followerUrls: cluster.followers.map((f) => f.url) });
  const server = await listen(dashboard.app, { host: "127.0.0.1", port: 0 });
  const close = async (browser?: Browser) => {
    await browser?.close();
    await dashboard.close();
    await server.close();
    await cluster.close();
  };
  try {
    const browser = await launchChromium();
    return { cluster, server, browser, close: () => close(browser) };
  } catch (err) {
    await close();
    throw err;
  }
}
type WatchedCluster = Awaited<ReturnType<typeof startWatchedCluster>>;

describe.skipIf(!withChromium)("the live dashboard, in Chromium", () => {
  let watched: WatchedCluster;
  let cluster: Cluster;
  let page: Page;

  beforeAll(async () => {
    // FOLLOWER_TIMEOUT_MS of 1 s: a follower cut off is disconnected, as the leader sees it, 1 s after its last fetch.
    watched = await startWatchedCluster({ applyLagMs: 1500, longPollMs: 500, followerTimeoutMs: 1000 });
    cluster = watched.cluster;
    page = await watched.browser.newPage();
    await page.goto(watched.server.url);
  }, 30_000);

  afterAll(() => watched?.close());

  const cell = (order: string, node: string) => page.locator(`td[data-order="${order}"][data-node="${node}"]`);

  /** Waits until the page shows `text` in `selector` (Playwright watches the page; nothing sleeps). */
  const shows = (selector: string, text: string | RegExp, timeout = 10_000) => page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout });

  it("shows an order created on the page on the leader at once, stale on the follower, then on the follower", async () => {
    await page.locator(".lane").first().waitFor();
    await page.fill("#order-id", "o-1");
    await page.click("#create-form button[type=submit]");
    await shows('td[data-order="o-1"][data-node="leader"]', /^PENDING$/, 5000);
    await shows('td[data-order="o-1"][data-node="follower"].stale', /^not found$/, 1000);
    await shows('td[data-order="o-1"][data-node="follower"].fresh', /^PENDING$/);
  }, 20_000);

  it("marks the follower stale after a confirm, and clears the mark once it has applied it", async () => {
    await page.click('td.actions button:has-text("Confirm")');
    await shows('td[data-order="o-1"][data-node="follower"].stale', /^PENDING$/, 5000);
    await shows(".lane .lag", /^1 event behind/, 1000);
    await shows('td[data-order="o-1"][data-node="follower"].fresh', /^CONFIRMED$/);
    await shows(".lane .lag", /^up to date$/, 1000);
  }, 20_000);

  it("says in the lane when the follower's link is held, and when it is open again", async () => {
    await page.click('.lane button:has-text("Hold link")');
    await shows('.lane .badge[data-state="held"]', /^link held$/, 5000);
    await page.click('.lane button:has-text("Resume")');
    await shows('.lane .badge[data-state="streaming"]', /^streaming$/, 5000);
  }, 20_000);

  it("keeps an APPLY_LAG_MS being typed while the lane updates, and sets it on Enter", async () => {
    const lane = page.locator('.lane[data-node="follower"]');
    const input = lane.locator(".lag-form input");
    const hold = lane.locator("button", { hasText: "Hold link" });
    await sendJson("POST", `${cluster.follower.url}/admin/apply-lag`, { applyLagMs: 60_000 });
    await cluster.createOrder("o-2");
    await shows(".lane .lag", /^1 event behind/, 5000); // and it stays behind for a minute: its lane updates all the while

    await input.fill("0");
    await input.evaluate((node) => void (node.dataset.mark = "typed here"));
    await hold.evaluate((node) => void (node.dataset.mark = "pointed at"));
    const drawn = Number(await page.getAttribute("body", "data-updates"));
    await expect.poll(async () => Number(await page.getAttribute("body", "data-updates")), { timeout: 5000 }).toBeGreaterThanOrEqual(drawn + 3);
    expect(await input.inputValue(), "the lag input's value, 3 updates after typing").toBe("0");
    expect(await input.evaluate((node) => node === node.ownerDocument.activeElement && node.dataset.mark === "typed here"), "the same input, still focused").toBe(true);
    expect(await hold.evaluate((node) => node.dataset.mark), "the Hold link button, 3 updates later").toBe("pointed at");

    await input.press("Enter");
    await shows(".lane .lag", /^up to date$/, 5000);
    expect((await cluster.followerStatus()).body.applyLagMs, "the follower's APPLY_LAG_MS").toBe(0);
    expect(await input.inputValue(), "the lag input once set").toBe("0");

    await sendJson("POST", `${cluster.follower.url}/admin/apply-lag`, { applyLagMs: 1500 });
    await input.blur();
    await expect.poll(() => input.inputValue(), { timeout: 5000 }).toBe("1500");
  }, 20_000);

  it("shows a dropped link as an outage in the lane, and the follower receives nothing until it is resumed", async () => {
    await cluster.expectCaughtUp();
    const head = cluster.log.head;
    const lane = page.locator('.lane[data-node="follower"]');
    await lane.locator("button", { hasText: "Drop link" }).click();
    await shows("#message", /^follower: Drop link: done$/, 5000);
    // At once, while the follower's last fetch would still be waiting at the leader (a long poll):
    // the cut must have let it go, or this write would reach the follower.
    await cluster.createOrder("o-3");
    await shows('.lane .badge.cut[data-state="dropped"]', /^link dropped$/, 5000);
    await shows(".lane .outage-note", /fails at once.*backoff/, 1000);
    await shows(".lane .outage-note .says", /unreachable.*link dropped by \/admin\/pause/, 5000);
    await shows('.lane .badge.seen[data-state="disconnected"]', /^disconnected$/, 10_000); // nothing reached the leader for FOLLOWER_TIMEOUT_MS
    expect((await cluster.followerStatus()).body.nextFrom, "the follower's nextFrom while dropped").toBe(head);
    await shows('td[data-order="o-3"][data-node="follower"].stale', /^not found$/, 1000);

    await lane.locator("button", { hasText: "Resume" }).click();
    await shows('td[data-order="o-3"][data-node="follower"].fresh', /^PENDING$/, 10_000);
    await lane.locator(".outage-note").waitFor({ state: "hidden", timeout: 5000 });
  }, 30_000);

  it("speaks Japanese on the press of a button", async () => {
    await page.click("#lang-ja");
    await shows("h1", "レプリケーション実験室: ライブ", 1000);
    expect(await page.getAttribute("html", "lang")).toBe("ja");
    await shows("#message", /^follower: 再開: 完了$/, 1000); // the last control's outcome, said again in Japanese
    await shows(".lane .lag", /^追いついている$/, 1000);
    await page.click("#lang-en");
  });
});

describe.skipIf(!withChromium)("the live dashboard at projector sizes, in Chromium", () => {
  let watched: WatchedCluster;

  beforeAll(async () => {
    // A leader and three followers: one up to date, one 1.5 s behind, one a minute behind; six orders, the table full.
    watched = await startWatchedCluster({ longPollMs: 500, followers: [{ applyLagMs: 0 }, { applyLagMs: 1500 }, { applyLagMs: 60_000 }] });
    const { cluster } = watched;
    for (let i = 1; i <= 6; i++) await cluster.createOrder(`o-${i}`);
    await cluster.confirm("o-1");
    await sendJson("POST", `${cluster.followers[1]!.url}/admin/pause`, { mode: "drop" }); // the tallest lane: one with an outage
  }, 30_000);

  afterAll(() => watched?.close());

  it.each([
    [1280, 800, "en"],
    [1920, 1080, "en"],
    [1280, 800, "ja"],
  ])("at %ix%i (%s) shows every lane, the form, the orders with their stale marks and the newest log entries without scrolling", async (width, height, lang) => {
    const page = await watched.browser.newPage({ viewport: { width, height } });
    await page.goto(`${watched.server.url}/?lang=${lang}`);
    await page.locator('.lane[data-node="follower-3"] .lag.behind').waitFor({ timeout: 5000 });
    await page.locator('.lane[data-node="follower-2"] .badge.cut[data-state="dropped"]').waitFor({ timeout: 5000 });
    await page.locator('td[data-order="o-6"][data-node="follower-3"].stale').waitFor({ timeout: 5000 });

    const boxes: [string, string][] = [
      ["the leader's lane", ".leader-lane"],
      ...[1, 2, 3].map((n): [string, string] => [`follower-${n}'s lane`, `.lane[data-node="follower-${n}"]`]),
      ["the legend", ".legend"],
      ["the write form", "#create-form"],
      ["the orders table", "#orders"],
      ["the newest log entry", "#log tbody tr:first-child"],
    ];
    await expectOnOneScreen(page, boxes);
    const lagPx = await page.locator('.lane[data-node="follower-3"] .lag b').evaluate((node) => parseFloat(node.ownerDocument.defaultView!.getComputedStyle(node).fontSize));
    expect(lagPx, "the lag figure's size in px (readable from the back of a room)").toBeGreaterThanOrEqual(48);
    await page.close();
  }, 20_000);
});

describe.skipIf(!withChromium)("the live dashboard through a failover, in Chromium", () => {
  let watched: WatchedCluster;
  let cluster: Cluster;
  let page: Page;

  beforeAll(async () => {
    // A leader and two followers, every one up to date with o-1; the page in a 1280x800 window.
    watched = await startWatchedCluster({ longPollMs: 500, followerTimeoutMs: 1000, followers: [{}, {}] });
    cluster = watched.cluster;
    await cluster.createOrder("o-1");
    for (const f of cluster.followers) await f.expectCaughtUp();
    page = await watched.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(watched.server.url);
  }, 30_000);

  afterAll(() => watched?.close());

  const lane = (node: string) => page.locator(`.lane[data-node="${node}"]`);
  const shows = (selector: string, text: string | RegExp, timeout = 10_000) => page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout });
  const everything: [string, string][] = [
    ...["leader", "follower-1", "follower-2"].map((n): [string, string] => [`${n}'s lane`, `.lane[data-node="${n}"]`]),
    ["the legend", ".legend"],
    ["the write form", "#create-form"],
    ["the orders table", "#orders"],
    ["the newest log entry", "#log tbody tr:first-child"],
  ];

  it("shows each node's role and epoch, the leader's lane first, and which node the form writes to", async () => {
    await shows('#lanes > .lane:first-child.leader-lane[data-node="leader"] .role', /^leader · epoch 0$/, 5000);
    await shows('.lane[data-node="follower-1"] .role', /^follower · epoch 0$/, 1000);
    await shows("#write-heading", /^Write to the leader: leader \(epoch 0\)$/, 1000);
    expect(await lane("follower-1").locator("button.promote").isVisible(), "follower-1's Promote button").toBe(true);
    expect(await page.locator("button.rejoin:visible").count(), "Follow the leader buttons while every node follows the leader").toBe(0);
  });

  it("promotes a follower from the page once the leader is off the network: its lane leads epoch 1, at the top, and the form writes to it", async () => {
    await cluster.leader.stop();
    await page.locator('.lane.leader-lane.outage[data-node="leader"]').waitFor({ timeout: 10_000 });
    await lane("follower-1").locator("button.promote").click();
    await shows("#message", /^follower-1: Promote: done$/, 5000);
    await shows('#lanes > .lane:first-child.leader-lane[data-node="follower-1"] .role', /^leader · epoch 1$/, 5000);
    await shows("#write-heading", /^Write to the leader: follower-1 \(epoch 1\)$/, 1000);
    expect((await cluster.followers[0]!.status()).body, "follower-1's status").toMatchObject({ role: "leader", epoch: 1 });
  }, 20_000);

  it("writes through the page to the new leader; the other follower has the write once it is pointed at the new leader from its lane", async () => {
    await page.fill("#order-id", "n-1");
    await page.click("#create-form button[type=submit]");
    await shows("#message", /^Create order n-1: done/, 5000);
    expect((await cluster.readAt(cluster.followers[0]!.url, "n-1")).body.order?.status, "n-1 on follower-1").toBe("PENDING");
    await shows('td[data-order="n-1"][data-node="follower-1"]', /^PENDING$/, 5000);
    await shows('td[data-order="n-1"][data-node="follower-2"].stale', /^not found$/, 5000); // it still follows the old leader, out of reach

    await lane("follower-2").locator("button.rejoin").click();
    await shows("#message", /^follower-2: Follow the leader → follower-1: done$/, 5000);
    await shows('td[data-order="n-1"][data-node="follower-2"].fresh', /^PENDING$/);
    await shows('.lane[data-node="follower-2"] .role', /^follower · epoch 1$/, 5000);
    await lane("follower-2").locator("button.rejoin").waitFor({ state: "hidden", timeout: 5000 });
  }, 20_000);

  it("warns of two leaders when the old leader comes back untold, and clears the warning once it follows from its lane", async () => {
    await cluster.leader.start();
    await shows("#two-leaders", /^⚠ Two leaders! follower-1 \(epoch 1\), leader \(epoch 0\)$/);
    await shows('.lane.leader-lane.split-other[data-node="leader"] .role', /^leader · epoch 0$/, 1000);
    await page.locator('#lanes > .lane:first-child.leader-lane.split-current[data-node="follower-1"]').waitFor({ timeout: 1000 });
    // A write the old leader takes while it thinks it leads: only it has it.
    expect((await cluster.createOrderAt(cluster.leader.url, "x-1")).status, "a write to the old leader").toBe(201);
    await shows('td[data-order="x-1"][data-node="leader"].diverged', /^PENDING$/, 5000);
    await shows('td[data-order="x-1"][data-node="follower-1"]', /^not found$/, 1000);
    await shows('.lane[data-node="leader"] .cell.diverged', /^1≠$/, 1000); // its offset 1 is x-1, the leader's is n-1: the histories part there
    await expectOnOneScreen(page, everything);

    await lane("leader").locator("button.rejoin").click();
    await shows("#message", /^leader: Follow the leader → follower-1: done$/, 5000);
    await page.locator("#two-leaders").waitFor({ state: "hidden", timeout: 5000 });
    await shows('.lane.follower[data-node="leader"] .role', /^follower · epoch 1$/);
    await shows('td[data-order="n-1"][data-node="leader"].fresh', /^PENDING$/);
    await shows('td[data-order="x-1"][data-node="leader"]', /^not found$/); // the write only the old leader took: lost
    await expectOnOneScreen(page, everything);
  }, 30_000);

  it("says a node's refusal in the status line, in the page's language", async () => {
    await page.click("#lang-ja");
    // Someone else promotes follower-2 just before the page's request reaches it.
    await page.route("**/api/nodes/2/promote", async (route) => {
      await cluster.followers[1]!.promote();
      await route.continue();
    });
    await lane("follower-2").locator("button.promote").click();
    await shows("#message.error", /^follower-2: 昇格: 409 ALREADY_LEADER: そのノードはもうリーダーです/, 5000);
    await page.click("#lang-en");
    await shows("#message.error", /^follower-2: Promote: 409 ALREADY_LEADER: follower-2 already leads epoch 2/, 1000);
  }, 20_000);
});
