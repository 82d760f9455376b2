#!/usr/bin/env node
// Benchmark of issue 15 (Footprint): the memory a device needs, measured on the real command.
//
//   node scripts/bench/footprint.mjs [--root DIR] [--config FILE] [--warmup 30] [--steady 60]
//        [--days 30] [--caps 48,64] [--traces 10,60,200] [--idle-config FILE]
//        [--only steady,idle,sim,replay,startup] [--help]
//
// - steady: `roadside run` on the full site (4 dual-loop lanes, a manhole, a bin; the config) in real
//   time against Mosquitto with the outbox on disk, sampled for --steady s after --warmup s; beside it,
//   in the same run, the floor (scripts/bench/floor.mjs: Node.js + mqtt.js, one connection,
//   publishing the same messages). RSS from /proc, JS heap from the process itself
//   (mem-report.mjs), CPU from /proc/PID/stat.
// - sim: RSS at the end of every simulated day of a --days `sim` run with the outbox on disk, and its
//   wall time with and without --max-old-space-size=N for each N of --caps.
// - replay: peak RSS of `roadside replay` for traces of --traces MB (a recorded 2 h of the site,
//   repeated end to end).
// - idle: CPU of `roadside run` on --idle-config (the same site with no traffic: the level sensors
//   still stream and are read), sampled for --steady s after --warmup s.
// - startup: from spawning `roadside run` to its first message (the retained status) at the broker,
//   five times (the median is the figure).
//
// --root is a roadside checkout with dist/ built (default: this one): point it at an older build to
// measure "before". Heavy: run it alone. Needs mosquitto (apt-get install -y mosquitto).
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import { hasMosquitto, startMosquitto } from "./mosquitto.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    root: { type: "string", default: resolve(here, "../..") },
    config: { type: "string", default: join(here, "configs", "site-24h.yaml") },
    warmup: { type: "string", default: "30" },
    steady: { type: "string", default: "60" },
    days: { type: "string", default: "30" },
    traces: { type: "string", default: "10,60,200" },
    only: { type: "string", default: "steady,idle,sim,replay,startup" },
    "idle-config": { type: "string", default: join(here, "configs", "site-idle.yaml") },
    caps: { type: "string", default: "48,64" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  // the comment at the top of this file is the usage
  const head = readFileSync(fileURLToPath(import.meta.url), "utf8")
    .split("\n")
    .slice(1);
  console.log(
    head
      .slice(
        0,
        head.findIndex((l) => !l.startsWith("//")),
      )
      .map((l) => l.replace(/^\/\/ ?/, ""))
      .join("\n"),
  );
  process.exit(0);
}
const root = resolve(values.root);
const bin = join(root, "bin", "roadside.js");
const config = resolve(values.config);
const only = new Set(values.only.split(","));
if (!existsSync(join(root, "dist", "cli", "main.js"))) {
  console.error(`${root}/dist is missing: build it first (npm run build)`);
  process.exit(2);
}
if (!hasMosquitto()) {
  console.error("mosquitto is not installed: apt-get install -y mosquitto");
  process.exit(2);
}
const MEM_REPORT = join(here, "mem-report.mjs");
const work = mkdtempSync(join(tmpdir(), "roadside-footprint-"));
/** Memory in MiB (what /proc and ps count), files in MB. */
const mb = (b) => (b / 1048576).toFixed(1);
const fileMb = (b) => (b / 1e6).toFixed(1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const deviceId = /device:\s*\{\s*id:\s*([\w-]+)/.exec(readFileSync(config, "utf8"))?.[1] ?? "bench-site";

function rssOf(pid, field = "VmRSS") {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}
/** CPU seconds (user + system) a process has used. */
function cpuOf(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}
function lastHeap(file) {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, "utf8").trim().split("\n");
  return JSON.parse(lines.at(-1));
}
/** A child's end: at once if it has ended already (by code or by signal); SIGKILL after 15 s. */
function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
  return new Promise((r) =>
    child.once("exit", (c, s) => {
      clearTimeout(kill);
      r(c ?? s);
    }),
  );
}

console.log(`footprint: ${bin} (node ${process.version}), config ${config}, device ${deviceId}`);
const broker = await startMosquitto();
console.log(`broker: mosquitto ${broker.url}\n`);

try {
  if (only.has("steady")) await steady();
  if (only.has("idle")) await idle();
  if (only.has("startup")) await startup();
  if (only.has("sim")) await simDays();
  if (only.has("replay")) await replays();
} finally {
  await broker.stop();
  rmSync(work, { recursive: true, force: true });
}

async function steady() {
  const warmS = Number(values.warmup);
  const steadyS = Number(values.steady);
  const floorReport = join(work, "floor.mem");
  const runReport = join(work, "run.mem");
  const floor = spawn(process.execPath, ["--import", MEM_REPORT, join(here, "floor.mjs"), broker.url, `roadside/${deviceId}`], {
    env: { ...process.env, MEM_REPORT: floorReport },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await sleep(500);
  const run = spawn(
    process.execPath,
    [
      "--import",
      MEM_REPORT,
      bin,
      "run",
      "--config",
      config,
      "--broker",
      broker.url,
      "--state-dir",
      join(work, "state-run"),
      "--quiet",
      "--log-level",
      "error",
    ],
    {
      env: { ...process.env, MEM_REPORT: runReport },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const msgs = { n: 0, bytes: 0 };
  const sub = mqtt.connect(broker.url, { clientId: `footprint-${process.pid}` });
  sub.on("connect", () => sub.subscribe(`roadside/${deviceId}/#`));
  sub.on("message", (_t, p) => {
    msgs.n++;
    msgs.bytes += p.length;
  });
  console.log(
    `steady: roadside run (pid ${run.pid}) and the floor (pid ${floor.pid}) in real time; warm-up ${warmS} s, then ${steadyS} s sampled every 5 s`,
  );
  await sleep(warmS * 1000);
  // RssAnon: the process's own memory (JS heap, malloc); RssFile: pages of the node binary and the
  // libraries it has touched (shared and clean: the kernel can drop them and read them again)
  const samples = { run: [], floor: [], runAnon: [], floorAnon: [], runFile: [], floorFile: [] };
  const cpu0 = { run: cpuOf(run.pid), floor: cpuOf(floor.pid), t: Date.now() };
  const n0 = msgs.n;
  for (let t = 0; t < steadyS; t += 5) {
    await sleep(5000);
    for (const [k, pid] of [
      ["run", run.pid],
      ["floor", floor.pid],
    ]) {
      samples[k].push(rssOf(pid));
      samples[`${k}Anon`].push(rssOf(pid, "RssAnon"));
      samples[`${k}File`].push(rssOf(pid, "RssFile"));
    }
  }
  const dt = (Date.now() - cpu0.t) / 1000;
  const cpu = { run: (cpuOf(run.pid) - cpu0.run) / dt, floor: (cpuOf(floor.pid) - cpu0.floor) / dt };
  const heap = { run: lastHeap(runReport), floor: lastHeap(floorReport) };
  run.kill("SIGTERM");
  floor.kill("SIGTERM");
  await Promise.all([exited(run), exited(floor)]);
  sub.end(true);
  const row = (name, k) =>
    `| ${name.padEnd(22)} | ${mb(median(samples[k])).padStart(8)} | ${mb(Math.max(...samples[k])).padStart(8)} | ${mb(median(samples[`${k}Anon`])).padStart(8)} | ${mb(median(samples[`${k}File`])).padStart(8)} | ${heap[k] ? mb(heap[k].heapUsed).padStart(8) : "       ?"} | ${heap[k] ? mb(heap[k].heapTotal).padStart(9) : "        ?"} | ${(cpu[k] * 100).toFixed(2).padStart(6)} % |`;
  console.log("| process                | RSS MiB  | max RSS  | RssAnon  | RssFile  | heap MiB | heapTotal | CPU      |");
  console.log("|------------------------|----------|----------|----------|----------|----------|-----------|----------|");
  console.log(row("roadside run", "run"));
  console.log(row("floor (node + mqtt.js)", "floor"));
  const ratio = (k) => (median(samples[`run${k}`]) / median(samples[`floor${k}`])).toFixed(2);
  console.log(
    `ratio roadside/floor (median RSS): ${ratio("")}× (RssAnon ${ratio("Anon")}×, RssFile ${ratio("File")}×); ${msgs.n - n0} messages from the device while sampled (${msgs.bytes} bytes in all)\n`,
  );
}

/** CPU of `roadside run` on the site with no traffic (the sensors still stream), after a warm-up. */
async function idle() {
  const warmS = Number(values.warmup);
  const steadyS = Number(values.steady);
  const run = spawn(
    process.execPath,
    [bin, "run", "--config", resolve(values["idle-config"]), "--broker", broker.url, "--state-dir", join(work, "state-idle"), "--quiet"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  await sleep(warmS * 1000);
  const c0 = cpuOf(run.pid);
  const t0 = Date.now();
  await sleep(steadyS * 1000);
  const share = (cpuOf(run.pid) - c0) / ((Date.now() - t0) / 1000);
  const rss = rssOf(run.pid);
  run.kill("SIGTERM");
  await exited(run);
  console.log(
    `idle: roadside run, ${values["idle-config"]} (no traffic), ${steadyS} s after ${warmS} s: CPU ${(share * 100).toFixed(2)} % of a core, RSS ${mb(rss)} MiB\n`,
  );
}

async function startup() {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const sub = mqtt.connect(broker.url, { clientId: `footprint-start-${process.pid}-${i}` });
    await new Promise((r) => sub.on("connect", () => sub.subscribe(`roadside/${deviceId}/#`, () => r())));
    await sleep(300); // retained messages of the last run arrive now, before the clock starts
    let first;
    const got = new Promise((r) =>
      sub.on("message", () => {
        first ??= performance.now();
        r(first);
      }),
    );
    const t0 = performance.now();
    const run = spawn(
      process.execPath,
      [
        bin,
        "run",
        "--config",
        config,
        "--broker",
        broker.url,
        "--state-dir",
        join(work, `state-start-${i}`),
        "--quiet",
        "--log-level",
        "error",
      ],
      { stdio: "ignore" },
    );
    await Promise.race([got, sleep(20_000)]);
    times.push(first !== undefined ? first - t0 : NaN);
    run.kill("SIGTERM");
    await exited(run);
    sub.end(true);
  }
  console.log(`startup to first message: ${times.map((t) => `${t.toFixed(0)} ms`).join(", ")} (median ${median(times).toFixed(0)} ms)\n`);
}

async function simDays() {
  const days = Number(values.days);
  const runs = [];
  for (const flags of [
    [],
    ...values.caps
      .split(",")
      .filter(Boolean)
      .map((c) => [`--max-old-space-size=${c}`]),
  ]) {
    const state = join(work, `state-sim-${runs.length}`);
    const r = spawnSync(process.execPath, [...flags, join(here, "footprint-sim.mjs"), root, config, broker.url, String(days), state], {
      encoding: "utf8",
      maxBuffer: 1 << 24,
    });
    const lines = r.stdout
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    if (r.status !== 0) console.log(`sim ${flags.join(" ") || "(no flags)"} failed (${r.status}): ${r.stderr.slice(-400)}`);
    runs.push({ name: flags.join(" ") || "no heap cap", lines, done: lines.find((l) => l.done) });
    rmSync(state, { recursive: true, force: true });
  }
  console.log(`sim: ${days} simulated days, outbox on disk; RSS (MiB) at the end of each simulated day`);
  const plain = runs[0];
  for (const run of runs) {
    const per = run.lines.filter((l) => l.day !== undefined);
    const d1 = per.find((l) => l.day === 1);
    const last = per.at(-1);
    const growth = d1 && last && last.day > 1 ? `; growth after the first day ${mb(last.rss - d1.rss)} MiB over ${last.day - 1} days` : "";
    // uncapped at full speed V8 lets garbage pile up and returns it when it likes, so the last day
    // against the first can be a saw-tooth's top against its bottom: the least-squares trend over the
    // days after the first tells growth from garbage
    const after = per.filter((l) => l.day >= 1);
    const trend =
      after.length > 2 ? `; trend after the first day ${mb(slope(after.map((l) => [l.day, l.rss])) * (after.length - 1))} MiB` : "";
    const wall = run.done
      ? `${run.done.wallS.toFixed(1)} s wall (${(run.done.wallS / days).toFixed(1)} s a simulated day${run !== plain && plain.done ? `, ${(run.done.wallS / plain.done.wallS).toFixed(2)}× uncapped` : ""})`
      : "failed";
    console.log(`${run.name}: ${wall}${growth}${trend}`);
    console.log(`  ${per.map((l) => `d${l.day} ${mb(l.rss)}`).join(", ")}`);
  }
  console.log("");
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxy / sxx;
}

/** A trace of about `mb` MB: the recorded base repeated end to end, each copy shifted by its length. */
function makeTrace(base, sizeMb, path) {
  const text = readFileSync(base, "utf8").trim().split("\n");
  const header = text[0];
  const body = text.slice(1).filter((l) => !l.includes('"end":true'));
  const spanS = Number(/"t":([\d.]+)/.exec(body.at(-1))[1]) + 1;
  const fd = openSync(path, "w");
  writeSync(fd, `${header}\n`);
  let size = 0;
  for (let k = 0; size < sizeMb * 1e6; k++) {
    const off = k * spanS;
    const chunk = `${body.map((l) => l.replace(/"t":([\d.]+)/, (_m, t) => `"t":${(Number(t) + off).toFixed(6)}`)).join("\n")}\n`;
    writeSync(fd, chunk);
    size += chunk.length;
  }
  closeSync(fd);
  return statSync(path).size;
}

async function replays() {
  const base = join(work, "base.jsonl");
  const rec = spawnSync(
    process.execPath,
    [bin, "sim", "--config", config, "--duration", "2h", "--record", base, "--broker", broker.url, "--quiet"],
    { encoding: "utf8" },
  );
  if (rec.status !== 0) throw new Error(`recording the base trace failed: ${rec.stderr}`);
  console.log("replay: peak RSS of roadside replay by trace size");
  console.log("| trace MB | lines     | peak RSS MiB | wall s | peak RSS, heap ≤ 64 MB | wall s |");
  console.log("|----------|-----------|--------------|--------|------------------------|--------|");
  for (const size of values.traces.split(",").map(Number)) {
    const path = join(work, `trace-${size}.jsonl`);
    const bytes = makeTrace(base, size, path);
    const lines = spawnSync("wc", ["-l", path], { encoding: "utf8" }).stdout.split(" ")[0];
    // as it comes, and with the heap capped: uncapped, V8 lets garbage pile up the longer a run goes
    const cells = [];
    for (const flags of [[], ["--max-old-space-size=64"]]) {
      const t0 = performance.now();
      const r = spawnSync(
        "/usr/bin/time",
        [
          "-f",
          "%M",
          process.execPath,
          ...flags,
          bin,
          "replay",
          path,
          "--config",
          config,
          "--broker",
          broker.url,
          "--quiet",
          "--log-level",
          "error",
        ],
        { encoding: "utf8", maxBuffer: 1 << 24 },
      );
      const wall = (performance.now() - t0) / 1000;
      const peakKb = Number(r.stderr.trim().split("\n").at(-1));
      cells.push((r.status === 0 ? mb(peakKb * 1024) : `exit ${r.status}`).padStart(flags.length ? 22 : 12), wall.toFixed(1).padStart(6));
    }
    console.log(`| ${fileMb(bytes).padStart(8)} | ${lines.padStart(9)} | ${cells.join(" | ")} |`);
    rmSync(path, { force: true });
  }
  console.log("");
}
