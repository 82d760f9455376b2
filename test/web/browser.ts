import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "puppeteer-core";
import puppeteer from "puppeteer-core";

/** Debian's chromium: `apt-get install -y chromium` (.ci/run does this). Never downloaded. */
export const CHROMIUM = process.env["CHROMIUM"] ?? "/usr/bin/chromium";
export const SHOTS = join(process.cwd(), "test-results", "web");

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: the web view is tested in a real browser; apt-get install -y chromium (or set CHROMIUM)`);
  mkdirSync(SHOTS, { recursive: true });
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // the tests run as root in CI, where chromium's sandbox cannot start
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"],
  });
}

/** Everything a page did that a user would call broken, or that left the host. */
export interface Guard {
  errors: string[];
  foreign: string[];
  requests: string[];
}

/**
 * A page that records console errors, uncaught exceptions, failed requests and every request whose
 * URL is not on `origin` (aborted: the page must work without them).
 */
export async function guardedPage(browser: Browser, origin: string): Promise<{ page: Page; guard: Guard }> {
  const page = await browser.newPage();
  const guard: Guard = { errors: [], foreign: [], requests: [] };
  page.on("console", (m) => {
    if (m.type() === "error") guard.errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => guard.errors.push(`page: ${(e as Error).message}`));
  page.on("requestfailed", (r) => {
    // an EventSource closed by navigation is not a failure of the page
    if (!r.url().includes("/events")) guard.errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ""}`);
  });
  await page.setRequestInterception(true);
  page.on("request", (r) => {
    const url = r.url();
    guard.requests.push(url);
    if (url.startsWith(`${origin}/`) || url === origin) void r.continue();
    else {
      guard.foreign.push(url);
      void r.abort();
    }
  });
  return { page, guard };
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
