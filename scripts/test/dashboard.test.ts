import { existsSync } from "node:fs";
import { createDashboard } from "@lab/dashboard";
import { listen, type Listening } from "@lab/service";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../cluster.ts";

/**
 * The live dashboard in a real browser: Debian's Chromium (CHROMIUM_PATH, or /usr/bin/chromium),
 * driven by playwright-core, against a leader and a follower 1.5 s behind on loopback. Every
 * wait is on something the page shows (Playwright's waits), never on time. Without Chromium on
 * this machine the test is skipped, saying so; CI installs it and sets REQUIRE_BROWSER (.ci/run),
 * so there it runs or fails.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.REQUIRE_BROWSER) throw new Error(`REQUIRE_BROWSER is set but there is no Chromium at ${CHROMIUM}`);
if (!haveChromium) console.warn(`dashboard browser test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

describe.skipIf(!haveChromium)("the live dashboard, in Chromium", () => {
  let cluster: Cluster;
  let dashboard: ReturnType<typeof createDashboard>;
  let server: Listening;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    cluster = await startCluster({ applyLagMs: 1500, longPollMs: 500 });
    dashboard = createDashboard({ leaderUrl: cluster.leader.url, followerUrls: [cluster.follower.url] });
    server = await listen(dashboard.app, { host: "127.0.0.1", port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage();
    await page.goto(server.url);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await server?.close();
    await cluster?.close();
  });

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

  it("speaks Japanese on the press of a button", async () => {
    await page.click("#lang-ja");
    await shows("h1", "レプリケーション実験室: ライブ", 1000);
    expect(await page.getAttribute("html", "lang")).toBe("ja");
    await page.click("#lang-en");
  });
});
