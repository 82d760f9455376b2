import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import type { MqttClient } from "mqtt";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DecodedMessage } from "../../src/publish/envelope.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import { encodeSenmlCbor } from "../../src/publish/senml.js";
import { FleetWeb } from "../../src/web/fleet-web.js";
import type { Mosquitto, Received } from "../helpers/brokers.js";
import { startMosquitto, subscribe } from "../helpers/brokers.js";
import { DESKTOP, guardedPage, launch, PHONE, SHOTS } from "./browser.js";

/**
 * The web view in a real browser: a simulated site (two lanes, a manhole, two probe scanners, a
 * bin) and a simulated 50-device fleet publish through Mosquitto with `roadside sim`; `watch --web`'s
 * FleetWeb serves the pages; headless chromium reads them back and compares with the decoded SenML.
 */
const BIN = fileURLToPath(new URL("../../bin/roadside.js", import.meta.url));
const SITE = `device: { id: site-01, board: sim, site: "Mill Lane junction" }
inputs:
  lane1.up: { line: GPIO17 }
  lane1.down: { line: GPIO27 }
  lane2.up: { line: GPIO22 }
  mh1.cover: { line: GPIO5, activeLow: false, bias: pull-up }
detectors:
  lane1: { loops: [lane1.up, lane1.down] }
  lane2: { loops: [lane2.up] }
manholes:
  mh1:
    sensor: { type: maxbotix, model: hrxl, port: { path: sim0 } }
    mountHeightMm: 2400
    overflowHeightMm: 1500
    cover: { input: mh1.cover }
    window: 5m
bins:
  bin1:
    distance: { type: maxbotix, model: hrxl, port: { path: sim1 } }
    emptyDistanceMm: 1100
    fullDistanceMm: 350
    measureEvery: 5m
    window: 15m
identifiers:
  scanners: { ped1: { port: { path: sim2 } }, ped2: { port: { path: sim3 } } }
  window: 15m
windows: { default: 5m }
sim:
  seed: 42
  traffic:
    lane1: { vehiclesPerHour: 900, speedKmh: 60 }
    lane2: { vehiclesPerHour: 400, speedKmh: 45 }
  sewer:
    mh1: { dryDepthMm: 150, storms: [{ at: 1h, for: 90m, intensityMmH: 40 }] }
  bins:
    bin1: { depositsPerHour: 30, depositPct: 3, pickups: [4h] }
  identifiers:
    scanners: { ped1: { devicesPerHour: 300 }, ped2: { devicesPerHour: 24 } }
`;
const FLEET = `device: { id: pole, board: sim, site: "Ring road" }
inputs:
  lane1.up: { line: GPIO17 }
detectors:
  lane1: { loops: [lane1.up] }
windows: { default: 5m }
health: { interval: 5m }
sim:
  seed: 7
  traffic:
    lane1: { vehiclesPerHour: 600, speedKmh: 50 }
`;

function sim(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "sim", ...args, "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => (code === 0 ? resolve(err) : reject(new Error(`roadside sim ${args.join(" ")} exited ${code}: ${err}`))));
  });
}

// whole minutes, so the runs end less than a minute before now: their devices are not "behind"
const iso = (ms: number): string => new Date(Math.floor(ms / 60_000) * 60_000).toISOString();

describe("web view in chromium", () => {
  let broker: Mosquitto;
  let web: FleetWeb;
  let origin: string;
  let feed: MqttClient;
  let browser: Browser;
  let seen: Received[];
  let closeRecorder: () => Promise<void>;
  let skewMs = 0;
  const dir = mkdtempSync(join(tmpdir(), "roadside-web-"));

  const decoded = (device: string, kind: string, stream: string): DecodedMessage[] =>
    seen
      .filter((m) => m.topic === `roadside/${device}/${kind}/${stream}`)
      .map((m) => decodeMessage(m.payload))
      .sort((a, b) => a.windowStartMs - b.windowStartMs);

  beforeAll(async () => {
    broker = await startMosquitto();
    web = new FleetWeb({
      prefix: "roadside",
      host: "127.0.0.1",
      port: 0,
      historyPath: join(dir, "history.db"),
      retentionS: 7 * 86400,
      title: "test",
      now: () => Date.now() + skewMs,
    });
    origin = await web.start();
    const rec = await subscribe(broker.url, "roadside/#");
    seen = rec.messages;
    closeRecorder = rec.close;
    feed = mqtt.connect(broker.url, { protocolVersion: 4 });
    await new Promise<void>((r) => feed.once("connect", () => feed.subscribe("roadside/+/#", { qos: 1 }, () => r())));
    feed.on("message", (topic, payload, packet) => web.message(topic, payload, packet.retain));
    writeFileSync(join(dir, "site.yaml"), SITE);
    writeFileSync(join(dir, "fleet.yaml"), FLEET);
    const now = Date.now();
    await Promise.all([
      sim(["-c", join(dir, "site.yaml"), "--duration", "6h", "--start", iso(now - 6 * 3600_000), "--broker", broker.url]),
      sim([
        "-c",
        join(dir, "fleet.yaml"),
        "--devices",
        "50",
        "--duration",
        "2h",
        "--start",
        iso(now - 2 * 3600_000),
        "--broker",
        broker.url,
      ]),
    ]);
    // everything the recorder saw has reached the web model too (same broker, same order per topic)
    const expected = seen.filter((m) => !m.topic.endsWith("/status")).length;
    const deadline = Date.now() + 20_000;
    while (web.model.messages < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    web.tick();
    browser = await launch();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    feed?.end(true);
    await closeRecorder?.();
    await web?.stop();
    await broker?.stop();
  });

  it("the fleet page lists every device with the values of its heartbeat, sorts and filters, without leaving the host", async () => {
    const { page, guard } = await guardedPage(browser, origin);
    await page.setViewport(DESKTOP);
    await page.goto(`${origin}/`, { waitUntil: "load" });
    await page.waitForFunction(`document.querySelectorAll("#fleet tbody tr").length >= 51`);
    const rows = await page.$$eval("#fleet tbody tr", (trs) =>
      trs.map((tr) => ({
        id: tr.getAttribute("data-id"),
        status: tr.getAttribute("data-status"),
        outbox: tr.querySelector("[data-col=outbox]")?.textContent,
        site: tr.querySelector("[data-col=site]")?.textContent,
        href: tr.querySelector("a")?.getAttribute("href"),
      })),
    );
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(["site-01", "pole-0001", "pole-0050"]));
    expect(rows.length).toBe(51);
    for (const r of rows) {
      const health = seen.filter((m) => m.topic === `roadside/${r.id}/health`).pop();
      expect(health, r.id).toBeDefined();
      const h = JSON.parse(health!.payload.toString()) as { outbox: { depth: number } };
      expect(r.outbox?.startsWith(String(h.outbox.depth)), `${r.id} outbox ${r.outbox}`).toBe(true);
      expect(r.href).toBe(`/device/${r.id}`);
    }
    expect(rows.find((r) => r.id === "site-01")?.site).toBe("Mill Lane junction");
    // sort by device, descending, by keyboard
    await page.focus("th[data-key=id] button");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Enter");
    const first = await page.$eval("#fleet tbody tr", (tr) => tr.getAttribute("data-id"));
    expect(first).toBe("site-01");
    await page.type("#q", "pole-004");
    await page.waitForFunction(`document.querySelectorAll("#fleet tbody tr").length === 10`);
    await page.$eval("#q", (e) => e.setAttribute("value", ""));
    await page.evaluate(`document.getElementById("q").value = ""`);
    await page.type("#q", " ");
    await page.waitForFunction(`document.querySelectorAll("#fleet tbody tr").length === 51`);
    await page.screenshot({ path: join(SHOTS, "fleet-desktop.png") });
    // a mobile viewport reloads the page
    await page.setViewport(PHONE);
    await page.waitForFunction(`document.querySelectorAll("#fleet tbody tr").length >= 51`);
    await page.screenshot({ path: join(SHOTS, "fleet-phone.png") });
    expect(guard.errors).toEqual([]);
    expect(guard.foreign).toEqual([]);
    expect(guard.requests.some((u) => u.endsWith("/assets/fleet.js"))).toBe(true);
    await page.close();
  });

  it("the device page plots the published windows: values, gaps as gaps, suppressed counts as suppressed", async () => {
    const { page, guard } = await guardedPage(browser, origin);
    await page.setViewport(DESKTOP);
    await page.goto(`${origin}/`, { waitUntil: "load" });
    // a person clicks the device in the fleet
    await page.waitForSelector('tr[data-id="site-01"] a');
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click('tr[data-id="site-01"] a')]);
    expect(page.url()).toBe(`${origin}/device/site-01`);
    await page.waitForFunction(`document.body.dataset["loaded"] === "1"`);
    const chart = (id: string): Promise<(number | null)[][]> => chartData(page, id);
    // every published window of lane1 is on the chart, with its volume and flow (veh/h)
    const lane1 = decoded("site-01", "traffic", "lane1");
    expect(lane1.length).toBeGreaterThanOrEqual(70);
    const [x, volume, flow] = await chart("traffic-lane1-flow");
    for (const m of lane1) {
      const i = x!.indexOf(m.windowStartMs / 1000);
      expect(i, `window ${new Date(m.windowStartMs).toISOString()}`).toBeGreaterThanOrEqual(0);
      expect(volume![i]).toBe(m.measures["volume"]?.v ?? null);
      expect(flow![i]).toBeCloseTo((m.measures["flow"]?.v ?? Number.NaN) * 3600, 6);
    }
    const [, tms, p85] = await chart("traffic-lane1-speed");
    const last = lane1[lane1.length - 1]!;
    expect(tms![tms!.length - 1]).toBe(last.measures["speed.tms"]?.v);
    expect(p85![p85!.length - 1]).toBe(last.measures["speed.p85"]?.v);
    // the values table shows the newest window as published
    const latestVolume = await page.$eval('[data-stream="traffic/lane1"] [data-measure=volume]', (e) => e.getAttribute("data-v"));
    expect(Number(latestVolume)).toBe(last.measures["volume"]?.v);
    // manhole depth, with the overflow line from the manifest
    const depth = decoded("site-01", "level", "mh1");
    const [dx, dmax] = await chart("level-mh1-depth");
    for (const m of depth) expect(dmax![dx!.indexOf(m.windowStartMs / 1000)]).toBe(m.measures["depthMax"]?.v ?? null);
    expect(await page.$eval('[data-chart="level-mh1-depth"] .legend', (e) => e.textContent)).toContain("overflow 1.50");
    // presence: a suppressed count is a hole with a hatched band, never a zero
    const ped2 = decoded("site-01", "presence", "ped2");
    const suppressed = ped2.filter((m) => m.measures["wifi.devices.suppressed"]?.vb === true);
    const counted = ped2.filter((m) => m.measures["wifi.devices"]?.v !== undefined);
    expect(suppressed.length).toBeGreaterThan(0);
    expect(counted.length).toBeGreaterThan(0);
    const pc = await chart("presence-ped2-counts");
    const labels = await chartLabels(page, "presence-ped2-counts");
    const wifi = pc[labels.indexOf("wifi.devices (count)")]!;
    for (const m of suppressed) expect(wifi[pc[0]!.indexOf(m.windowStartMs / 1000)]).toBeNull();
    for (const m of counted) expect(wifi[pc[0]!.indexOf(m.windowStartMs / 1000)]).toBe(m.measures["wifi.devices"]!.v);
    expect(await page.$('[data-chart="presence-ped2-counts"] [data-band=suppressed]')).not.toBeNull();
    // the manifest in words, with its privacy parameters
    const manifest = await page.$eval("#manifest", (e) => e.textContent ?? "");
    expect(manifest).toContain("Mill Lane junction");
    expect(await page.$eval("[data-k]", (e) => e.getAttribute("data-k"))).toBe("5");
    // the range selector, by keyboard: 6 hours
    await page.focus("#range");
    await page.select("#range", "6");
    await page.waitForFunction(`document.body.dataset["loaded"] === "2"`);
    expect(page.url()).toBe(`${origin}/device/site-01?hours=6`);
    await page.screenshot({ path: join(SHOTS, "device-desktop.png") });
    await page.screenshot({ path: join(SHOTS, "device-desktop-full.png"), fullPage: true });
    await page.setViewport(PHONE);
    await page.waitForFunction(`document.body.dataset.loaded && window.roadsideCharts.has("traffic-lane1-flow")`);
    await page.waitForFunction(`document.documentElement.scrollWidth <= 390`).catch(async (err: Error) => {
      const wide = await page.evaluate(
        `[...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > 391).slice(0, 5).map((e) => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`,
      );
      throw new Error(`${err.message}: wider than the phone: ${JSON.stringify(wide)}`);
    });
    await page.screenshot({ path: join(SHOTS, "device-phone.png") });
    expect(guard.errors).toEqual([]);
    expect(guard.foreign).toEqual([]);
    await page.close();
  });

  it("a gap is drawn as a gap, and a new summary appears without reload", async () => {
    const { page, guard } = await guardedPage(browser, origin);
    await page.setViewport(DESKTOP);
    await page.goto(`${origin}/device/pole-0003`, { waitUntil: "load" });
    await page.waitForFunction(`document.body.dataset["loaded"] === "1"`);
    const before = decoded("pole-0003", "traffic", "lane1");
    const last = before[before.length - 1]!;
    // the device's next window arrives 3 windows later (two lost): a null point between them
    const start = last.windowStartMs + 3 * 300_000;
    const payload = encodeSenmlCbor([
      { bn: "pole-0003:traffic:lane1:", bt: start / 1000, n: "seq", v: last.seq + 3 },
      { n: "schema", v: 1 },
      { n: "window", u: "s", v: 300 },
      { n: "observed", u: "s", v: 300 },
      { n: "timeq", vs: "synced" },
      { n: "volume", u: "count", v: 42 },
    ]);
    await new Promise<void>((r) => feed.publish("roadside/pole-0003/traffic/lane1", payload, { qos: 1 }, () => r()));
    await page.waitForFunction(`document.body.dataset["loaded"] === "2"`, { timeout: 45_000 });
    const [x, vol] = await chartData(page, "traffic-lane1-flow");
    const i = x!.indexOf(start / 1000);
    expect(vol![i]).toBe(42);
    expect(x![i - 1]).toBe((last.windowStartMs + 300_000) / 1000);
    expect(vol![i - 1]).toBeNull();
    expect(vol![i - 2]).toBe(last.measures["volume"]?.v);
    expect(guard.errors).toEqual([]);
    expect(guard.foreign).toEqual([]);
    await page.close();
  });

  it("a device that goes offline, or falls silent past the bound, changes its row live", async () => {
    const { page, guard } = await guardedPage(browser, origin);
    await page.setViewport(DESKTOP);
    await page.goto(`${origin}/`, { waitUntil: "load" });
    await page.waitForFunction(`document.querySelectorAll("#fleet tbody tr").length >= 51 && document.body.dataset.live === "up"`);
    // two devices come back (their birth message), then one's link dies (the broker sends its will)
    const pub = (topic: string, text: string): Promise<void> =>
      new Promise((r) => feed.publish(topic, text, { qos: 1, retain: true }, () => r()));
    await pub("roadside/pole-0007/status", "online");
    await pub("roadside/pole-0008/status", "online");
    const status = (id: string): Promise<string | undefined> =>
      page.$eval(`tr[data-id="${id}"]`, (tr) => tr.getAttribute("data-status")).catch(() => undefined);
    await waitFor(() => web.model.devices.get("pole-0008")?.status === "online");
    web.flush();
    await page.waitForFunction(`document.querySelector('tr[data-id="pole-0007"]')?.getAttribute("data-status") === "online"`);
    await pub("roadside/pole-0007/status", "offline");
    await waitFor(() => web.model.devices.get("pole-0007")?.status === "offline");
    web.flush();
    await page.waitForFunction(`document.querySelector('tr[data-id="pole-0007"]')?.getAttribute("data-status") === "offline"`);
    expect(await status("pole-0008")).toBe("online");
    // pole-0008 says nothing more: after 3 windows of 5 min + 30 s (the watch model's rule) it is offline
    skewMs = (3 * 300 + 31) * 1000;
    web.tick();
    await page.waitForFunction(`document.querySelector('tr[data-id="pole-0008"] [data-col=status]')?.textContent === "offline (silent)"`);
    expect(guard.errors).toEqual([]);
    expect(guard.foreign).toEqual([]);
    await page.close();
  });

  it("a restart of watch keeps the charts (SQLite history), redeliveries stored once", async () => {
    const count = web.history.count();
    const first = seen.find((m) => m.topic === "roadside/pole-0001/traffic/lane1")!;
    // a redelivery: same seq, same window
    web.message(first.topic, first.payload, false);
    expect(web.history.count()).toBe(count);
    const again = new FleetWeb({
      prefix: "roadside",
      host: "127.0.0.1",
      port: 0,
      historyPath: join(dir, "history.db"),
      retentionS: 7 * 86400,
      title: "test",
    });
    const url = await again.start();
    try {
      type Api = { series: { streams: unknown[]; alarms: unknown[] }; manifest: unknown };
      const a = (await (await fetch(`${origin}/api/device/site-01?hours=24`)).json()) as Api;
      const b = (await (await fetch(`${url}/api/device/site-01?hours=24`)).json()) as Api;
      expect(b.series.streams.length).toBeGreaterThanOrEqual(6);
      expect(b.series.streams).toEqual(a.series.streams);
      expect(b.series.alarms).toEqual(a.series.alarms);
      expect(b.manifest).not.toBeNull();
      const res = await fetch(`${url}/`);
      expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect((await fetch(`${url}/api/fleet`, { method: "POST" })).status).toBe(405);
    } finally {
      await again.stop();
    }
  });
});

/** A chart's data as uPlot holds it: [x, ...series], nulls where it draws nothing. */
function chartData(page: Page, id: string): Promise<(number | null)[][]> {
  return page.evaluate(
    `(() => { const u = window.roadsideCharts.get(${JSON.stringify(id)}); return u ? u.data.map((s) => Array.from(s)) : []; })()`,
  ) as Promise<(number | null)[][]>;
}

function chartLabels(page: Page, id: string): Promise<string[]> {
  return page.evaluate(`window.roadsideCharts.get(${JSON.stringify(id)}).series.map((s) => s.label)`) as Promise<string[]>;
}

async function waitFor(pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
