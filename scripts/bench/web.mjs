#!/usr/bin/env node
// Benchmark of issue 17 (the web view): what the pages cost.
//
//   node scripts/bench/web.mjs [--devices 1000] [--windows 24] [--loads 5] [--settle 20] [--samples 10] [--rounds 3] [--only fleet,rss]
//        [--shots DIR]   (a screenshot of the 1,000-device fleet page into DIR: docs/img/fleet.png is one)
//
// - fleet: `watch --web`'s FleetWeb holding --devices devices (status, manifest, heartbeat and
//   --windows traffic windows each, fed as MQTT messages are), and headless chromium loading the
//   fleet page --loads times: from navigation to every row in the table (median and worst), the
//   size of /api/fleet, and one live update of every row through server-sent events.
// - rss: `roadside run` of a one-lane simulated pole, with web.listen and without, in real time;
//   RSS from /proc after --settle s, --samples samples a second apart, nobody on the page (the cost
//   when nobody looks), then with the page open for the same time.
//
// Needs dist/ built (npx tsc -p tsconfig.json) and Debian's chromium (/usr/bin/chromium).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import puppeteer from "puppeteer-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const { values } = parseArgs({
  options: {
    devices: { type: "string", default: "1000" },
    windows: { type: "string", default: "24" },
    loads: { type: "string", default: "5" },
    settle: { type: "string", default: "20" },
    samples: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    only: { type: "string", default: "fleet,rss" },
    shots: { type: "string" },
  },
});
const only = new Set(values.only.split(","));
const work = mkdtempSync(join(tmpdir(), "roadside-web-bench-"));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (kb) => (kb / 1024).toFixed(1);

async function fleet() {
  const { FleetWeb } = await import(join(root, "dist/web/fleet-web.js"));
  const { encodeSenmlCbor } = await import(join(root, "dist/publish/senml.js"));
  const n = Number(values.devices);
  const windows = Number(values.windows);
  const web = new FleetWeb({
    prefix: "roadside",
    host: "127.0.0.1",
    port: 0,
    historyPath: join(work, "h.db"),
    retentionS: 86400,
    title: "bench",
  });
  const origin = await web.start();
  const now = Date.now();
  const t0 = performance.now();
  for (let d = 1; d <= n; d++) {
    const id = `pole-${String(d).padStart(4, "0")}`;
    const base = `roadside/${id}`;
    // a fleet as it looks on a normal day: a few devices down, a few alarms open
    web.message(`${base}/status`, Buffer.from(d % 37 === 0 ? "offline" : "online"), true);
    web.message(`${base}/manifest`, Buffer.from(JSON.stringify({ manifest: 1, device: id, site: `Street ${d % 97}`, streams: [] })), true);
    const health = {
      health: 1,
      device: id,
      outbox: { depth: d % 7, oldestAgeS: d % 7 ? 60 : null, dropped: { routine: d % 3 } },
      clock: { synced: d % 50 !== 0 },
      cpuTempC: 40 + (d % 30),
    };
    web.message(`${base}/health`, Buffer.from(JSON.stringify(health)), true);
    for (let w = 0; w < windows; w++) {
      const bt = Math.floor(now / 300_000) * 300 - (windows - w) * 300;
      const pack = [
        { bn: `${id}:traffic:lane1:`, bt, n: "seq", v: w + 1 },
        { n: "schema", v: 1 },
        { n: "window", u: "s", v: 300 },
        { n: "observed", u: "s", v: 300 },
        { n: "timeq", vs: "synced" },
        { n: "volume", u: "count", v: 40 + ((d * w) % 30) },
        { n: "flow", u: "1/s", v: (40 + ((d * w) % 30)) / 300 },
        { n: "occupancy", u: "/", v: 0.1 },
      ];
      web.message(`${base}/traffic/lane1`, encodeSenmlCbor(pack), false);
    }
    if (d % 41 === 0) {
      const alarm = [
        { bn: `${id}:alarm:lane1:`, bt: Math.floor(now / 1000) - 600, n: "seq", v: windows + 1 },
        { n: "schema", v: 1 },
        { n: "timeq", vs: "synced" },
        { n: "alarm", vs: "detector-fault" },
        { n: "state", vs: "start" },
        { n: "code", v: 210 },
        { n: "input", vs: "lane1.up" },
      ];
      web.message(`${base}/alarm/lane1`, encodeSenmlCbor(alarm), false);
    }
  }
  const feedMs = performance.now() - t0;
  web.tick();
  const api = await (await fetch(`${origin}/api/fleet`)).text();
  const browser = await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const loads = [];
  let liveMs = 0;
  try {
    for (let i = 0; i < Number(values.loads); i++) {
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 800 });
      const start = performance.now();
      await page.goto(`${origin}/`, { waitUntil: "domcontentloaded" });
      await page.waitForFunction(`document.querySelectorAll("#fleet tbody tr").length === ${n}`, { timeout: 60_000, polling: "mutation" });
      loads.push(performance.now() - start);
      if (i === 0 && values.shots) await page.screenshot({ path: join(values.shots, "fleet-1000.png") });
      if (i === 0) {
        // every device's heartbeat changes at once: one SSE event, one redraw
        await page.waitForFunction(`document.body.dataset.live === "up"`);
        const before = await page.evaluate(`Number(document.body.dataset.rendered)`);
        const s = performance.now();
        for (let d = 1; d <= n; d++) {
          const id = `pole-${String(d).padStart(4, "0")}`;
          web.message(`roadside/${id}/health`, Buffer.from(JSON.stringify({ health: 1, device: id, outbox: { depth: 99 } })), true);
        }
        web.flush();
        await page.waitForFunction(
          `Number(document.body.dataset.rendered) > ${before} && document.querySelector("#fleet tbody tr [data-col=outbox]").textContent.startsWith("99")`,
          { polling: "mutation" },
        );
        liveMs = performance.now() - s;
      }
      await page.close();
    }
  } finally {
    await browser.close();
    await web.stop();
  }
  console.log(`fleet page, ${n} devices (${windows} windows each, fed in ${feedMs.toFixed(0)} ms):`);
  console.log(
    `  load to ${n} rows: median ${median(loads).toFixed(0)} ms, worst ${Math.max(...loads).toFixed(0)} ms over ${loads.length} loads`,
  );
  console.log(
    `  /api/fleet: ${(api.length / 1024).toFixed(0)} KiB; a live update of every row (one event): ${liveMs.toFixed(0)} ms to redrawn`,
  );
}

function freePort() {
  return new Promise((resolveP) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolveP(port));
    });
  });
}

const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN);

async function measure(label, web) {
  const port = await freePort();
  const cfg = join(work, `${label}.yaml`);
  writeFileSync(
    cfg,
    `device: { id: bench-${label}, board: sim }
inputs:
  lane1.up: { line: GPIO17 }
detectors:
  lane1: { loops: [lane1.up] }
windows: { default: 10s }
mqtt: { embeddedPort: 0 }
sim:
  seed: 1
  traffic:
    lane1: { vehiclesPerHour: 1200, speedKmh: 50 }
${web ? `web: { listen: "127.0.0.1:${port}" }\n` : ""}`,
  );
  const child = spawn(process.execPath, [join(root, "bin/roadside.js"), "run", "-c", cfg, "--state-dir", join(work, label), "--quiet"], {
    stdio: "ignore",
  });
  const sample = async () => {
    const xs = [];
    for (let i = 0; i < Number(values.samples); i++) {
      xs.push(rssKb(child.pid));
      await sleep(1000);
    }
    return median(xs);
  };
  try {
    await sleep(Number(values.settle) * 1000);
    const idle = await sample();
    let looking;
    if (web) {
      const browser = await puppeteer.launch({
        executablePath: "/usr/bin/chromium",
        headless: true,
        args: ["--no-sandbox", "--disable-gpu"],
      });
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: "load" });
      looking = await sample();
      await browser.close();
    }
    return { idle, looking };
  } finally {
    child.kill("SIGTERM");
  }
}

async function rss() {
  // off and on alternate, so the machine's drift (other processes, page cache) falls on both alike
  const offs = [];
  const ons = [];
  const looks = [];
  for (let i = 0; i < Number(values.rounds); i++) {
    offs.push((await measure(`off${i}`, false)).idle);
    const on = await measure(`on${i}`, true);
    ons.push(on.idle);
    looks.push(on.looking);
  }
  const off = median(offs);
  console.log(
    `device RSS (one simulated lane; per run the median of ${values.samples} samples after ${values.settle} s; median of ${values.rounds} runs each):`,
  );
  console.log(`  web.listen off: ${mib(off)} MiB (runs: ${offs.map(mib).join(", ")})`);
  console.log(
    `  web.listen on, nobody looking: ${mib(median(ons))} MiB (${median(ons) >= off ? "+" : ""}${mib(median(ons) - off)} MiB; runs: ${ons.map(mib).join(", ")})`,
  );
  console.log(
    `  web.listen on, page open (status pushed every second): ${mib(median(looks))} MiB (${median(looks) >= off ? "+" : ""}${mib(median(looks) - off)} MiB)`,
  );
}

if (only.has("fleet")) await fleet();
if (only.has("rss")) await rss();
