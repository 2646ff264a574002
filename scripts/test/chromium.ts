import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { expect } from "vitest";

/**
 * Debian's Chromium for the browser tests (CHROMIUM_PATH, or /usr/bin/chromium), driven by
 * playwright-core, which cannot download its own browsers here. Without it a browser test is
 * skipped, saying so; CI installs it and sets REQUIRE_BROWSER (.ci/run), so there it runs or fails.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Whether there is a Chromium to run `what` in; says why not when there is none, and fails when REQUIRE_BROWSER wants one. */
export function haveChromium(what: string): boolean {
  const have = existsSync(CHROMIUM);
  if (!have && process.env.REQUIRE_BROWSER) throw new Error(`REQUIRE_BROWSER is set but there is no Chromium at ${CHROMIUM}`);
  if (!have) console.warn(`${what} skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return have;
}

/** Chromium, headless, as the tests run it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Fails unless each of `boxes` ([what, selector]) is inside the page's window, and the page does not scroll. */
export async function expectOnOneScreen(page: Page, boxes: [string, string][]) {
  const { width, height } = page.viewportSize()!;
  for (const [what, selector] of boxes) {
    const box = await page.locator(selector).boundingBox();
    expect(box, `${what}: where it is`).not.toBeNull();
    expect(box!.y + box!.height, `${what}: bottom, in a ${width}x${height} window`).toBeLessThanOrEqual(height);
    expect(box!.x + box!.width, `${what}: right edge, in a ${width}x${height} window`).toBeLessThanOrEqual(width);
  }
  const scrolled = await page.locator("html").evaluate((node) => ({ width: node.scrollWidth, height: node.scrollHeight }));
  expect(scrolled, "the page's size: no scrolling").toEqual({ width, height });
}
