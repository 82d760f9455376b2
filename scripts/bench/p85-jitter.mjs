#!/usr/bin/env node
// 85th-percentile speed error against card jitter and speed (issue 14). Build first: node_modules/.bin/tsc -p tsconfig.json
//
//   node scripts/bench/p85-jitter.mjs [--seed S] [--hours H]
//
// One speed trap, 1500 veh/h, card latency 5-30 ms (equal on both loops), 1-minute windows; prints
// the worst per-window p85 error (windows with five or more vehicles) and the median per-vehicle
// speed error against the simulator's ground truth, for 0.5 and 1 ms jitter at 100 and 130 km/h.
import { validateConfig, formatIssues } from "../../dist/config/load.js";
import { runTrafficSite } from "../../dist/sim/traffic-rig.js";
import { evaluateTraffic } from "../../dist/sim/traffic-accuracy.js";

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SEED = arg("--seed", 7);
const HOURS = arg("--hours", 4);
for (const jitterMs of [0.5, 1]) {
  for (const speedKmh of [100, 130]) {
    const r = validateConfig({
      device: { id: "p85", board: "sim" },
      inputs: { u: { line: 5 }, d: { line: 6 } },
      detectors: { lane: { loops: ["u", "d"], window: "1m" } },
      sim: { seed: SEED, traffic: { lane: { vehiclesPerHour: 1500, speedKmh, card: { latencyMs: [5, 30], jitterMs } } } },
    });
    if (!r.ok) throw new Error(formatIssues(r.issues).join("\n"));
    const rep = evaluateTraffic(runTrafficSite(r.loaded, { seconds: HOURS * 3600, seed: SEED }))[0];
    console.log(
      `jitter ${jitterMs} ms, ${speedKmh} km/h: p85 max err ${rep.speed.p85MaxErrKmh.toFixed(2)} km/h over ${rep.speed.windowsCompared} windows; median |err| ${rep.speed.medianAbsErrPct.toFixed(3)} %`,
    );
  }
}
