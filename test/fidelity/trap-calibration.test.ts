import { describe, expect, it } from "vitest";
import type { LoadedConfig } from "../../src/config/load.js";
import { knownSpeedLatency, TrapLatencyEstimator } from "../../src/sensors/trap-latency.js";
import type { TrafficRun } from "../../src/sim/traffic-rig.js";
import { runTrafficSite } from "../../src/sim/traffic-rig.js";
import { Rng } from "../../src/sim/rng.js";
import { DEFAULT_CLASS_MIX, drawVehicle } from "../../src/sim/traffic-model.js";
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
    if (Number.isNaN(p.speedMs) || p.tEndNs < fromS * 1e9 || p.tEndNs >= toS * 1e9) continue;
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
      .filter((p) => !Number.isNaN(p.speedMs))
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

  it("calibration: auto after an hour applies what the traffic has shown so far: never more than 3 standard errors off", () => {
    // the simulator's speeds spread ±10 %: an hour of traffic pins δ to ±6.3 ms at best (the Fisher
    // bound, docs/traffic.md "Calibration"), so 1 % (2.4 ms) in an hour is out of reach; what is
    // applied must be no further from the truth than the reported uncertainty allows, and not worse
    // than nothing
    const run = runTrafficSite(site(20, { calibration: "auto" }), { seconds: 2 * 3600, seed: SEED });
    const h = run.lanes.get("lane")!.health();
    const applied = h["latencyAppliedMs"] as number;
    expect(applied, `seed ${SEED}`).toBeGreaterThan(0);
    expect(Math.abs(applied - 20)).toBeLessThan(3 * (h["latencySeMs"] as number));
    expect(Math.abs(medianError(run, 3600, 7200))).toBeLessThan(Math.abs(medianError(run, 0, 600)));
  });

  for (const skew of [5, 10, 20]) {
    it(`calibration: auto brings the median speed error within 1 % after 12 hours (${skew} ms)`, () => {
      const run = runTrafficSite(site(skew, { calibration: "auto" }), { seconds: 13 * 3600, seed: SEED });
      expect(Math.abs(medianError(run, 12 * 3600, 13 * 3600)), `seed ${SEED}`).toBeLessThan(0.01);
      expect(run.alarms.filter((a) => a.kind === "trap-latency" && a.state === "start")).toEqual([]);
    });
  }
});

/** The simulator's traffic (90 ± 9 km/h, its class mix and lengths) over a 6 m trap whose loops differ by 20 ms. */
function feed(est: TrapLatencyEstimator, rng: Rng, n: number, sdKmh = 9): void {
  for (let i = 0; i < n; i++) {
    const veh = drawVehicle(rng, DEFAULT_CLASS_MIX);
    const v = Math.max(3, rng.normal(25 * veh.speedFactor, sdKmh / 3.6));
    const t = 6 / v + 0.02 + rng.normal(0, 0.0005);
    const on = (veh.lengthM + LOOP) / v + rng.normal(0, 0.0005);
    est.add(t * 1e9, on * 1e9);
  }
}

/** Fisher bound on SE(δ), ms, for n vehicles of the simulator's traffic: Σ over bands of share · Var(v / D) / (spread of L + L_loop)². */
function fisherBoundMs(n: number, sdKmh = 9): number {
  const rng = new Rng(7);
  const by = new Map<string, number[]>([
    ["motorcycle", []],
    ["short", []],
  ]);
  const m = 50_000;
  for (let i = 0; i < m; i++) {
    const v = drawVehicle(rng, DEFAULT_CLASS_MIX);
    by.get(v.cls)?.push(v.lengthM + LOOP);
  }
  let info = 0;
  for (const xs of by.values()) {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    info += (xs.length / m) * ((sdKmh / 3.6 / 6) ** 2 / (sd / mean) ** 2);
  }
  return 1e3 / Math.sqrt(n * info);
}

const LOOP = 1.8288;

describe("latency estimator", () => {
  it("recovers δ from cars whose lengths do not depend on speed, with an honest standard error (seeded)", () => {
    const seed = 1405;
    const rng = new Rng(seed);
    const est = new TrapLatencyEstimator({ spacingM: 6, loopLengthM: LOOP });
    for (let i = 0; i < 4000; i++) {
      const v = rng.normal(25, 5);
      const L = rng.normal(4.5, 0.4);
      const transit = (6 / v) * 1e9 + 12e6;
      const on = ((L + LOOP) / v) * 1e9;
      est.add(transit, on);
    }
    const e = est.estimate();
    expect(Math.abs(e.deltaMs - 12), `seed ${seed}`).toBeLessThan(3 * e.seMs);
    expect(e.seMs).toBeLessThan(1.5);
  });

  it("an hour of the simulator's traffic: the standard error is the Fisher bound's (±6.1 ms), unbiased, honestly reported", () => {
    // 200 hours of 1,200 vehicles, seeds 1000–1199
    const reps = 200;
    const d: number[] = [];
    const se: number[] = [];
    for (let r = 0; r < reps; r++) {
      const est = new TrapLatencyEstimator({ spacingM: 6, loopLengthM: LOOP });
      feed(est, new Rng(1000 + r), 1200);
      const e = est.estimate();
      d.push(e.deltaMs);
      se.push(e.seMs);
    }
    const mean = d.reduce((a, b) => a + b, 0) / reps;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / (reps - 1));
    const meanSe = se.reduce((a, b) => a + b, 0) / reps;
    const bound = fisherBoundMs(1200);
    const msg = `seeds 1000–${1000 + reps - 1}: mean ${mean.toFixed(2)}, sd ${sd.toFixed(2)}, mean se ${meanSe.toFixed(2)}, bound ${bound.toFixed(2)} ms`;
    // the docs' figure, and no estimator does better than the bound
    expect(bound, msg).toBeGreaterThan(5.9);
    expect(bound, msg).toBeLessThan(6.3);
    // within 15 % of the bound (the sd of an sd from 200 draws is 5 %)
    expect(sd, msg).toBeLessThan(1.15 * bound);
    expect(Math.abs(meanSe / sd - 1), msg).toBeLessThan(0.15);
    expect(Math.abs(mean - 20), msg).toBeLessThan((3 * sd) / Math.sqrt(reps));
  });

  it("12 hours of the simulator's traffic: unbiased though trucks are slower and longer, within 1 % of speed in 86 % of draws", () => {
    // a car band up to 6.5 m took in the shortest medium trucks (slower in the simulator) and biased
    // it by +1.4 ms, far above the 0.2 ms this resolves
    const reps = 100;
    const d: number[] = [];
    for (let r = 0; r < reps; r++) {
      const est = new TrapLatencyEstimator({ spacingM: 6, loopLengthM: LOOP });
      feed(est, new Rng(2000 + r), 14_400);
      d.push(est.estimate().deltaMs);
    }
    const mean = d.reduce((a, b) => a + b, 0) / reps;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / (reps - 1));
    const within = d.filter((x) => Math.abs(x - 20) <= 2.4).length / reps;
    const msg = `seeds 2000–${2000 + reps - 1}: mean ${mean.toFixed(2)} ± ${(sd / Math.sqrt(reps)).toFixed(2)} ms, within 2.4 ms ${within}`;
    expect(Math.abs(mean - 20), msg).toBeLessThan(Math.max(0.5, (3 * sd) / Math.sqrt(reps)));
    // docs/traffic.md: 86 % of 200 draws; the share from 100 draws is ±3.5 %
    expect(within, msg).toBeGreaterThanOrEqual(0.8);
  });

  it("known speed: the median over passes ignores one disturbed pass", () => {
    const k = knownSpeedLatency([15.8, 15.81, 15.79, 12, 15.8], 60 / 3.6, 6);
    expect(k.deltaMs).toBeCloseTo((6 / 15.8 - 6 / (60 / 3.6)) * 1e3, 6);
    expect(k.n).toBe(5);
  });
});
