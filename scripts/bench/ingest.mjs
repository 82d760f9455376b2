#!/usr/bin/env node
// Benchmark: `roadside ingest` into PostgreSQL. A 1,000-device fleet's backlog (2 lanes each, 1-min
// windows) waits in Mosquitto's persistent sessions; then one ingest process, and then two in one share
// group, drain it into a throw-away PostgreSQL cluster (durable settings: fsync and synchronous
// commit on). Prints messages/s (rows committed over the time between the first and the last commit)
// and the end-to-end lag at a steady publish rate (publish → committing transaction, p50/p99/max).
//
//   node scripts/bench/ingest.mjs [--devices 1000] [--windows 30] [--rate 2000] [--steady 10]
//
// Build first (npm run build). Needs mosquitto and postgresql (apt-get install mosquitto postgresql).
import { spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import pg from "pg";
import { encodePack, summaryPack } from "../../dist/publish/envelope.js";
import { hasMosquitto, startMosquitto } from "./mosquitto.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { values } = parseArgs({
  options: {
    devices: { type: "string", default: "1000" },
    windows: { type: "string", default: "30" },
    rate: { type: "string", default: "2000" },
    steady: { type: "string", default: "10" },
  },
});
const DEVICES = Number(values.devices);
const WINDOWS = Number(values.windows);
const RATE = Number(values.rate);
const STEADY_S = Number(values.steady);

function pgBin() {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const v = readdirSync(base)
    .filter((d) => existsSync(join(base, d, "bin", "initdb")))
    .sort((a, b) => b - a)[0];
  return v && join(base, v, "bin");
}
const bin = pgBin();
if (!bin || !hasMosquitto()) {
  console.error("needs PostgreSQL and Mosquitto: apt-get install -y postgresql mosquitto");
  process.exit(2);
}

async function startPostgres() {
  const dir = mkdtempSync(join(tmpdir(), "roadside-bench-pg-"));
  const asUser = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
  if (asUser.length) {
    const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout);
    const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout);
    chownSync(dir, uid, gid);
  }
  const run = (cmd, args) => {
    const argv = [...asUser, join(bin, cmd), ...args];
    const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", cwd: dir });
    if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  };
  const port = 20000 + Math.floor(Math.random() * 20000);
  run("initdb", ["-D", join(dir, "data"), "-U", "postgres", "-A", "trust", "--no-sync", "--locale=C"]);
  run("pg_ctl", [
    "-D",
    join(dir, "data"),
    "-l",
    join(dir, "log"),
    "-o",
    `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`,
    "-w",
    "start",
  ]);
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  return {
    url: (db) => `postgres://postgres@127.0.0.1:${port}/${db}`,
    cpuS: () => clusterCpuSeconds(Number(readFileSync(join(dir, "data", "postmaster.pid"), "utf8").split("\n")[0])),
    create: (db) => admin.query(`CREATE DATABASE ${db}`),
    stop: async () => {
      await admin.end();
      run("pg_ctl", ["-D", join(dir, "data"), "-m", "fast", "-w", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function ingest(args) {
  const child = spawn(process.execPath, [join(root, "bin", "roadside.js"), "ingest", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  child.stdout.resume();
  const exited = new Promise((r) => child.once("exit", r));
  return {
    subscribed: async () => {
      while (!/subscribed to/.test(err)) {
        if (child.exitCode !== null) throw new Error(err);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
    stderr: () => err,
    cpuS: () => cpuSeconds(child.pid),
  };
}

/** User + system CPU seconds a process has used (Linux /proc; clock ticks of 100 Hz). */
function cpuSeconds(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of a PostgreSQL cluster: the postmaster and its children (backends, WAL writer…). */
function clusterCpuSeconds(postmasterPid) {
  let total = cpuSeconds(postmasterPid);
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1].split(" ");
      if (Number(f[1]) === postmasterPid) total += (Number(f[11]) + Number(f[12])) / 100;
    } catch {}
  }
  return total;
}

function backlog(startMs, seq0) {
  const msgs = [];
  for (let w = 0; w < WINDOWS; w++)
    for (let d = 0; d < DEVICES; d++) {
      const device = `pole-${String(d + 1).padStart(4, "0")}`;
      for (const lane of ["lane1", "lane2"]) {
        const seq = seq0 + w * 2 + (lane === "lane2" ? 1 : 0);
        const start = startMs + w * 60_000;
        const window = {
          lengthS: 60,
          startNs: 0,
          endNs: 60e9,
          startWallMs: start,
          endWallMs: start + 60_000,
          index: w,
          partial: false,
          clockJump: false,
          synced: true,
        };
        const v = (d * 7 + w * 3) % 40;
        const pack = summaryPack(
          device,
          {
            kind: "traffic",
            name: lane,
            window,
            measures: [
              { n: "volume", u: "count", v },
              { n: "flow", u: "1/s", v: v / 60 },
              { n: "occupancy", u: "/", v: v / 200 },
              { n: "quality.observed", u: "/", v: 1 },
            ],
          },
          seq,
        );
        msgs.push({ topic: `roadside/${device}/traffic/${lane}`, payload: encodePack(pack, "cbor"), key: `${device}/${seq}` });
      }
    }
  return msgs;
}

async function publishAll(url, msgs, perBurst = 1000) {
  const c = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `bench-pub-${process.pid}` });
  const t0 = performance.now();
  for (let i = 0; i < msgs.length; i += perBurst)
    await Promise.all(msgs.slice(i, i + perBurst).map((m) => c.publishAsync(m.topic, m.payload, { qos: 1 })));
  const s = (performance.now() - t0) / 1000;
  await c.endAsync();
  return s;
}

async function waitRows(pool, n) {
  for (;;) {
    const r = await pool.query("SELECT count(*)::int AS n FROM roadside.summaries");
    if (r.rows[0].n >= n) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function drainRate(pool) {
  const r = await pool.query(
    "SELECT count(*)::int AS n, extract(epoch FROM max(received_at) - min(received_at))::float8 AS s FROM roadside.summaries",
  );
  return r.rows[0].n / r.rows[0].s;
}

const mosq = await startMosquitto();
const db = await startPostgres();
console.log(
  `ingest bench: ${DEVICES} devices × 2 lanes × ${WINDOWS} windows = ${DEVICES * 2 * WINDOWS} messages; node ${process.version}, ${cpus().length} cores, PostgreSQL durable (fsync, synchronous_commit on)`,
);
const results = {};
try {
  for (const procs of [1, 2]) {
    const name = `bench${procs}`;
    await db.create(name);
    const args = (i) => [
      "--broker",
      mosq.url,
      "--db",
      db.url(name),
      "--report",
      "60s",
      ...(procs > 1 ? ["--group", "bench", "--instance", String(i)] : ["--client-id", "bench-solo"]),
    ];
    // sessions first (the broker queues for a persistent session only once it exists), then away
    let ps = Array.from({ length: procs }, (_, i) => ingest(args(i)));
    await Promise.all(ps.map((p) => p.subscribed()));
    await Promise.all(ps.map((p) => p.stop()));
    const msgs = backlog(Date.UTC(2026, 0, 5), 1);
    const pubS = await publishAll(mosq.url, msgs);
    const pool = new pg.Pool({ connectionString: db.url(name), max: 1 });
    const pg0 = db.cpuS();
    ps = Array.from({ length: procs }, (_, i) => ingest(args(i)));
    await waitRows(pool, msgs.length);
    const rate = await drainRate(pool);
    results[procs] = rate;
    const ingestUs = (ps.reduce((a, p) => a + p.cpuS(), 0) / msgs.length) * 1e6;
    const pgUs = ((db.cpuS() - pg0) / msgs.length) * 1e6;
    console.log(`    CPU per message: ingest ${Math.round(ingestUs)} µs (start-up included), PostgreSQL ${Math.round(pgUs)} µs`);
    console.log(
      `  ${procs} process${procs > 1 ? "es in a share group" : ""}: backlog of ${msgs.length} (published in ${pubS.toFixed(1)} s) drained at ${Math.round(rate)} msg/s`,
    );

    if (procs === 1) {
      // steady state: publish at RATE msg/s, and measure publish → commit per message
      const sent = new Map();
      const live = backlog(Date.UTC(2026, 0, 6), 1 + WINDOWS * 2).slice(0, RATE * STEADY_S);
      const c = await mqtt.connectAsync(mosq.url, { protocolVersion: 5, clientId: `bench-live-${process.pid}` });
      const tick = 50;
      const perTick = Math.round((RATE * tick) / 1000);
      const t0 = Date.now();
      for (let i = 0; i < live.length; i += perTick) {
        const due = t0 + (i / perTick) * tick;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        for (const m of live.slice(i, i + perTick)) {
          sent.set(m.key, Date.now());
          c.publish(m.topic, m.payload, { qos: 1 });
        }
      }
      await c.endAsync();
      await waitRows(pool, msgs.length + live.length);
      const r = await pool.query(
        "SELECT device || '/' || seq AS k, extract(epoch FROM received_at) * 1000 AS t FROM roadside.summaries WHERE window_start >= '2026-01-06'",
      );
      const lags = r.rows.map((x) => Number(x.t) - sent.get(x.k)).sort((a, b) => a - b);
      const q = (p) => Math.round(lags[Math.min(lags.length - 1, Math.floor(p * lags.length))]);
      console.log(
        `  steady state, ${RATE} msg/s for ${STEADY_S} s: lag p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms (publish → commit)`,
      );
    }
    await pool.end();
    await Promise.all(ps.map((p) => p.stop()));
  }
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  console.log(
    `  two vs one: ${(results[2] / results[1]).toFixed(2)}× (goals: ≥ 5,000 msg/s with one process, ≥ 1.6× with two); load average ${load}`,
  );
} finally {
  await db.stop();
  await mosq.stop();
}
