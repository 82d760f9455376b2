#!/usr/bin/env node
// Speed-trap latency calibration (issue 14). Build first: node_modules/.bin/tsc -p tsconfig.json
//
//   node scripts/bench/trap-calibration.mjs [--seed S] [--sd KMH] [--hours H]
//
// Two loops on cards whose latencies differ by 5, 10 and 20 ms (downstream slower), 1200 veh/h at
// 90 km/h (speed spread --sd, default 9 km/h = the simulator's 10 %), 0.5 ms card jitter. For each:
//   before: no correction (calibration: report)
//   auto:   calibration: auto; errors measured over the hour after --hours of calibration traffic
//   known:  roadside calibrate's method, 5 passes of a test vehicle at a known 60 km/h; the
//           resulting latencyMs then configured
// Prints the median signed and absolute per-vehicle speed error against the simulator's ground truth.
import { validateConfig, formatIssues } from "../../dist/config/load.js";
import { runTrafficSite } from "../../dist/sim/traffic-rig.js";
import { knownSpeedLatency } from "../../dist/sensors/trap-latency.js";

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SEED = arg("--seed", 14);
const SD = arg("--sd", 9);
const HOURS = arg("--hours", 1);
const BASE_MS = 10;

function site(skewMs, { calibration = "report", downLatencyMs = 0, vph = 1200, speedKmh = 90, sd = SD, jitterMs = 0.5 } = {}) {
  const r = validateConfig({
    device: { id: "cal", board: "sim" },
    inputs: { up: { line: 5 }, down: { line: 6, latencyMs: downLatencyMs } },
    detectors: { lane: { loops: ["up", "down"], calibration, window: "5m" } },
    sim: {
      seed: SEED,
      traffic: { lane: { vehiclesPerHour: vph, speedKmh, speedSdKmh: sd, card: { latencyMs: [BASE_MS, BASE_MS], jitterMs, skewMs } } },
    },
  });
  if (!r.ok) throw new Error(formatIssues(r.issues).join("\n"));
  return r.loaded;
}

/** Per-vehicle relative speed errors of the passages completed in [fromS, toS) of the run. */
function errors(run, fromS, toS) {
  const ends = run.vehicles
    .filter((v) => !v.wrongWay && v.steady && v.card[0] && v.card[1])
    .map((v) => ({ t: v.card[1].offNs, v: v.speedMs }))
    .sort((a, b) => a.t - b.t);
  const out = [];
  for (const p of run.passages) {
    if (!(p.speedMs === p.speedMs)) continue;
    // the device's stamp is the card's minus the latency correction (at most ~60 ms either way)
    let lo = 0,
      hi = ends.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (ends[m].t < p.tEndNs - 80e6) lo = m + 1;
      else hi = m;
    }
    const c = ends[lo];
    if (!c || Math.abs(c.t - p.tEndNs) > 80e6) continue;
    if (p.tEndNs < fromS * 1e9 || p.tEndNs >= toS * 1e9) continue;
    out.push((p.speedMs - c.v) / c.v);
  }
  return out;
}
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n ? (n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN;
};
const pct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(2)} %`;
const fmt = (e) => `median ${pct(median(e))}, median |err| ${(median(e.map(Math.abs)) * 100).toFixed(2)} % (n ${e.length})`;

console.log(`trap latency calibration, seed ${SEED}, speeds 90 ± ${SD} km/h, 1200 veh/h, jitter 0.5 ms, auto after ${HOURS} h`);
for (const skew of [5, 10, 20]) {
  const span = (HOURS + 1) * 3600;
  const before = runTrafficSite(site(skew), { seconds: 3600, seed: SEED });
  const auto = runTrafficSite(site(skew, { calibration: "auto" }), { seconds: span, seed: SEED });
  const h = auto.lanes.get("lane").health();
  // known speed: a lone test vehicle, 5 passes at exactly 60 km/h (sd 0), then the latency configured
  const test = runTrafficSite(site(skew, { vph: 20, speedKmh: 60, sd: 0 }), { seconds: 15 * 60, seed: SEED });
  const passes = test.passages
    .filter((p) => p.speedMs === p.speedMs)
    .slice(0, 5)
    .map((p) => p.speedMs);
  const k = knownSpeedLatency(passes, 60 / 3.6, 6);
  const known = runTrafficSite(site(skew, { downLatencyMs: Math.max(0, k.deltaMs) }), { seconds: 3600, seed: SEED });
  console.log(`Δlatency ${skew} ms`);
  console.log(`  before:        ${fmt(errors(before, 0, 3600))}`);
  console.log(
    `  auto (${HOURS} h):    ${fmt(errors(auto, HOURS * 3600, span))}; estimate ${h.latencyDiffMs} ± ${h.latencySeMs} ms from ${h.latencyCars} cars, applied ${h.latencyAppliedMs} ms`,
  );
  console.log(
    `  known speed:   ${fmt(errors(known, 0, 3600))}; ${k.n} passes → latencyMs ${k.deltaMs.toFixed(2)} (spread ${k.spreadMs.toFixed(2)} ms)`,
  );
}
