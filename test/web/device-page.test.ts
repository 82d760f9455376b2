import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeMessage } from "../../src/publish/envelope.js";
import type { Mosquitto, Received } from "../helpers/brokers.js";
import { freePort, startMosquitto, subscribe } from "../helpers/brokers.js";
import { DESKTOP, guardedPage, launch, PHONE, SHOTS } from "./browser.js";

/**
 * The technician's page of `roadside run` (web.listen): a simulated lane in real time publishing to
 * Mosquitto; chromium shows the inputs, the latest summary as it was published, and doctor's checks.
 */
const BIN = fileURLToPath(new URL("../../bin/roadside.js", import.meta.url));
const TOKEN = "a1b2c3d4e5f6a7b8c9d0e1f2";

function config(listen: string, brokerUrl: string, tokenFile?: string): string {
  return `device: { id: pole-web, board: sim, site: "Test pole" }
inputs:
  lane1.up: { line: GPIO17 }
detectors:
  lane1: { loops: [lane1.up] }
windows: { default: 5s }
mqtt: { url: "${brokerUrl}" }
sim:
  seed: 3
  traffic:
    lane1: { vehiclesPerHour: 2400, speedKmh: 50 }
web: { listen: "${listen}"${tokenFile ? `, tokenFile: ${tokenFile}` : ""} }
`;
}

function run(args: string[]): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, "run", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return { child, out: () => out, exited: new Promise((r) => child.on("exit", (code) => r(code))) };
}

describe("the status page on the device, in chromium", () => {
  let broker: Mosquitto;
  let browser: Browser;
  let device: ReturnType<typeof run>;
  let origin: string;
  let seen: Received[];
  let closeRecorder: () => Promise<void>;
  const dir = mkdtempSync(join(tmpdir(), "roadside-devweb-"));

  beforeAll(async () => {
    broker = await startMosquitto();
    const rec = await subscribe(broker.url, "roadside/#");
    seen = rec.messages;
    closeRecorder = rec.close;
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    writeFileSync(join(dir, "token"), `${TOKEN}\n`);
    chmodSync(join(dir, "token"), 0o600);
    writeFileSync(join(dir, "dev.yaml"), config(`127.0.0.1:${port}`, broker.url, "token"));
    device = run(["-c", join(dir, "dev.yaml"), "--state-dir", join(dir, "state"), "--quiet"]);
    const deadline = Date.now() + 20_000;
    while (!device.out().includes("status page on")) {
      if (Date.now() > deadline || device.child.exitCode !== null) throw new Error(`the status page did not start: ${device.out()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    browser = await launch();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    device?.child.kill("SIGTERM");
    await device?.exited;
    await closeRecorder?.();
    await broker?.stop();
  });

  it("asks for the token, then shows the inputs live, the summary as published, and doctor's checks", async () => {
    expect((await fetch(`${origin}/api/status`)).status).toBe(401);
    const { page, guard } = await guardedPage(browser, origin);
    await page.setViewport(DESKTOP);
    await page.goto(`${origin}/?token=${TOKEN}`, { waitUntil: "load" });
    // the token went into a cookie and out of the address bar
    expect(page.url()).toBe(`${origin}/`);
    await page.waitForFunction(`document.querySelector('tr[data-input="lane1.up"]') !== null`);
    // live: the inputs' edge counts move without a reload
    await page.waitForFunction(`Number(document.body.dataset.updates) >= 3`, { timeout: 45_000 });
    await page.waitForFunction(`document.querySelector('[data-stream="traffic/lane1"]') !== null`, { timeout: 45_000 });
    const shown = await page.$eval('[data-stream="traffic/lane1"]', (e) => ({
      seq: Number(e.getAttribute("data-seq")),
      volume: Number(e.querySelector("[data-measure=volume]")?.getAttribute("data-v")),
    }));
    // the page shows a summary once committed; the broker has it once delivered, a moment later
    const published = (): ReturnType<typeof decodeMessage>[] =>
      seen.filter((m) => m.topic === "roadside/pole-web/traffic/lane1").map((m) => decodeMessage(m.payload));
    for (let i = 0; i < 300 && !published().some((m) => m.seq === shown.seq); i++) await new Promise((r) => setTimeout(r, 100));
    const same = published().find((m) => m.seq === shown.seq);
    expect(
      same,
      `seq ${shown.seq} among ${published()
        .map((m) => m.seq)
        .join(",")}`,
    ).toBeDefined();
    expect(shown.volume).toBe(same!.measures["volume"]?.v);
    // the last hour is plotted
    await page.waitForFunction(`window.roadsideCharts.has("traffic-lane1-flow")`, { timeout: 45_000 });
    // doctor's read-only checks on demand
    await page.click("#run-doctor");
    await page.waitForFunction(`document.querySelector('#doctor li[data-status]') !== null`, { timeout: 45_000 });
    const checks = await page.$$eval("#doctor li", (lis) => lis.map((li) => li.textContent ?? ""));
    expect(checks.some((c) => c.includes("outbox:"))).toBe(true);
    expect(checks.some((c) => c.includes("disk:"))).toBe(true);
    await page.screenshot({ path: join(SHOTS, "status-desktop.png"), fullPage: true });
    await page.setViewport(PHONE);
    await page.waitForFunction(`document.querySelector('[data-stream="traffic/lane1"]') !== null`);
    await page.screenshot({ path: join(SHOTS, "status-phone.png") });
    expect(guard.errors).toEqual([]);
    expect(guard.foreign).toEqual([]);
    await page.close();
    // read-only: nothing but GET
    const post = await fetch(`${origin}/api/status`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(post.status).toBe(405);
    // waits for events (a window closing, doctor's checks), never timing: generous bounds for a loaded CI machine
  }, 180_000);

  it("refuses a network address without a token, and a token file others can read (exit 2)", async () => {
    writeFileSync(join(dir, "open.yaml"), config("0.0.0.0:1", broker.url));
    const a = run(["-c", join(dir, "open.yaml"), "--state-dir", join(dir, "s2"), "--quiet"]);
    expect(await a.exited).toBe(2);
    expect(a.out()).toContain("web.tokenFile");
    writeFileSync(join(dir, "loose"), `${TOKEN}\n`);
    chmodSync(join(dir, "loose"), 0o644);
    writeFileSync(join(dir, "loose.yaml"), config("0.0.0.0:1", broker.url, "loose"));
    const b = run(["-c", join(dir, "loose.yaml"), "--state-dir", join(dir, "s3"), "--quiet"]);
    expect(await b.exited).toBe(2);
    expect(b.out()).toContain("chmod 600");
  });
});
