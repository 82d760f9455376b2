import { describe, expect, it } from "vitest";
import type { LoadedConfig } from "../../src/config/load.js";
import { knownSpeedLatency, TrapLatencyEstimator } from "../../src/sensors/trap-latency.js";
import type { TrafficRun } from "../../src/sim/traffic-rig.js";
import { runTrafficSite } from "../../src/sim/traffic-rig.js";
import { Rng } from "../../src/sim/rng.js";
import { mustLoad } from "../helpers/sim-device.js";

const SEED = 14;

function site(
  skewMs: number,
  o: { calibration?: "report" | "auto"; downLatencyMs?: number; vph?: number; speedKmh?: number; sd?: number } = {},
): LoadedConfig {
  return mustLoad({
    device: { id: "cal", board: "sim" },
    inputs: { up: { line: 5 }, down: { line: 6, latencyMs: o.downLatencyMs ?? 0 } },
    detectors: { lane: { loops: ["up", "down"], calibration: o.calibration ?? "report", window: "5m" } },
    sim: {
      seed: SEED,
      traffic: {
        lane: {
          vehiclesPerHour: o.vph ?? 1200,
          speedKmh: o.speedKmh ?? 90,
          speedSdKmh: o.sd ?? 9,
          card: { latencyMs: [10, 10], jitterMs: 0.5, skewMs },
        },
      },
    },
  });
}

/** Median signed relative speed error of the passages completed in [fromS, toS), against the simulator's truth. */
function medianError(run: TrafficRun, fromS: number, toS: number): number {
  const ends = run.vehicles
    .filter((v) => !v.wrongWay && v.steady && v.card[0] && v.card[1])
    .map((v) => ({ t: v.card[1]!.offNs, v: v.speedMs }))
    .sort((a, b) => a.t - b.t);
  const errs: number[] = [];
  for (const p of run.passages) {
    if (!(p.speedMs === p.speedMs) || p.tEndNs < fromS * 1e9 || p.tEndNs >= toS * 1e9) continue;
    const c = ends.find((e) => Math.abs(e.t - p.tEndNs) <= 80e6);
    if (c) errs.push((p.speedMs - c.v) / c.v);
  }
  errs.sort((a, b) => a - b);
  expect(errs.length).toBeGreaterThan(100);
  return errs[errs.length >> 1]!;
}

describe(`speed-trap latency calibration: loops on cards 20 ms apart (seed ${SEED})`, () => {
  it("uncorrected, speeds are biased by about −Δlatency / transit, and the device reports the difference and alarms", () => {
    // three hours: the alarm is judged from 300 cars on, and this seed's estimate reaches three
    // standard errors in its third hour (docs/traffic.md "Calibration")
    const run = runTrafficSite(site(20), { seconds: 3 * 3600, seed: SEED });
    const e = medianError(run, 0, 10800);
    // 20 ms over a 240 ms transit at 90 km/h
    expect(e, `seed ${SEED}`).toBeLessThan(-0.06);
    const h = run.lanes.get("lane")!.health();
    expect(Math.abs((h["latencyDiffMs"] as number) - 20)).toBeLessThan(3 * (h["latencySeMs"] as number));
    const alarm = run.alarms.find((a) => a.kind === "trap-latency" && a.state === "start");
    expect(alarm?.message).toMatch(/inputs\.down\.latencyMs/);
    const last = run.summaries.at(-1)!.measures;
    expect(last.find((m) => m.n === "quality.latencyDiff")?.u).toBe("s");
    expect(last.find((m) => m.n === "quality.latencyApplied")?.v).toBe(0);
  });

  it("a configured latencyMs from a known-speed calibration brings the median speed error within 0.5 %", () => {
    // roadside calibrate's method: a lone test vehicle, 5 passes at exactly 60 km/h
    const test = runTrafficSite(site(20, { vph: 20, speedKmh: 60, sd: 0 }), { seconds: 15 * 60, seed: SEED });
    const passes = test.passages
      .filter((p) => p.speedMs === p.speedMs)
      .slice(0, 5)
      .map((p) => p.speedMs);
    expect(passes.length).toBe(5);
    const k = knownSpeedLatency(passes, 60 / 3.6, 6);
    expect(k.deltaMs).toBeGreaterThan(19);
    expect(k.deltaMs).toBeLessThan(21);
    const run = runTrafficSite(site(20, { downLatencyMs: k.deltaMs }), { seconds: 3600, seed: SEED });
    expect(Math.abs(medianError(run, 0, 3600)), `seed ${SEED}`).toBeLessThan(0.005);
    expect(run.alarms.filter((a) => a.kind === "trap-latency")).toEqual([]);
  });

  it("calibration: auto applies the estimate after an hour of traffic and cuts the error", () => {
    const run = runTrafficSite(site(20, { calibration: "auto" }), { seconds: 2 * 3600, seed: SEED });
    const h = run.lanes.get("lane")!.health();
    expect(h["latencyAppliedMs"] as number, `seed ${SEED}`).toBeGreaterThan(8);
    // the simulator's speeds spread ±10 %: one hour of cars pins δ to about ±5 ms (docs/traffic.md)
    expect(Math.abs(medianError(run, 3600, 7200))).toBeLessThan(0.04);
    expect(Math.abs(medianError(run, 3600, 7200))).toBeLessThan(Math.abs(medianError(run, 0, 600)) / 2);
  });
});

describe("latency estimator", () => {
  it("recovers δ from cars whose lengths do not depend on speed, with an honest standard error (seeded)", () => {
    const seed = 1405;
    const rng = new Rng(seed);
    const est = new TrapLatencyEstimator();
    const D = 6;
    const Ll = 1.8288;
    for (let i = 0; i < 4000; i++) {
      const v = rng.normal(25, 5);
      const L = rng.normal(4.5, 0.4);
      const transit = (D / v) * 1e9 + 12e6;
      const on = ((L + Ll) / v) * 1e9;
      est.add(transit, on, L);
    }
    const e = est.estimate();
    expect(Math.abs(e.deltaMs - 12), `seed ${seed}`).toBeLessThan(3 * e.seMs);
    expect(e.seMs).toBeLessThan(1.5);
  });

  it("known speed: the median over passes ignores one disturbed pass", () => {
    const k = knownSpeedLatency([15.8, 15.81, 15.79, 12, 15.8], 60 / 3.6, 6);
    expect(k.deltaMs).toBeCloseTo((6 / 15.8 - 6 / (60 / 3.6)) * 1e3, 6);
    expect(k.n).toBe(5);
  });
});
