import { describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual.js";
import { Rng } from "./rng.js";
import type { LaneFault, TrafficLaneSpec, VehicleTruth } from "./traffic.js";
import { TrafficSim } from "./traffic.js";
import { demandFactor, inPeriod, StopAndGoWave } from "./traffic-model.js";

const S = 1e9;
const SEED = 31337;

/** Run one lane for `seconds` on a recording board; returns the truth and every pin write. */
function runLane(spec: Partial<TrafficLaneSpec>, seconds: number, seed = SEED, startWallMs = Date.UTC(2026, 0, 5, 0, 0, 0)) {
  const clock = new VirtualClock({ startWallMs });
  const writes: { pin: number; v: 0 | 1; t: number }[] = [];
  const levels = new Map<number, 0 | 1>();
  const board = {
    setPin(pin: number, v: 0 | 1) {
      if (levels.get(pin) === v) return;
      levels.set(pin, v);
      writes.push({ pin, v, t: clock.monoNs() });
    },
  };
  const vehicles: VehicleTruth[] = [];
  const faults: Record<string, unknown>[] = [];
  const lane: TrafficLaneSpec = {
    detector: "lane1",
    loops: [
      { line: 5, activeLow: false },
      { line: 6, activeLow: false },
    ],
    vehiclesPerHour: 900,
    speedKmh: 90,
    ...spec,
  };
  const sim = new TrafficSim(
    clock,
    board,
    new Rng(seed),
    [lane],
    (v) => vehicles.push(v),
    (f) => faults.push(f),
  );
  sim.start();
  clock.advanceTo(seconds * S);
  sim.stop();
  return { vehicles, writes, faults };
}

/** The on/off intervals of one pin, from its writes. */
function intervals(writes: { pin: number; v: 0 | 1; t: number }[], pin: number): [number, number][] {
  const out: [number, number][] = [];
  let on = -1;
  for (const w of writes) {
    if (w.pin !== pin) continue;
    if (w.v === 1) on = w.t;
    else if (on >= 0) {
      out.push([on, w.t]);
      on = -1;
    }
  }
  return out;
}

describe("traffic model", () => {
  it("commuter demand: morning and evening peaks, a midday plateau, a quiet night", () => {
    expect(demandFactor("commuter", 8)).toBe(1);
    expect(demandFactor("commuter", 17.25)).toBe(1);
    expect(demandFactor("commuter", 3)).toBeLessThan(0.05);
    expect(demandFactor("commuter", 12)).toBeCloseTo(0.6, 6);
    expect(demandFactor("commuter", 24 + 8)).toBe(1);
    expect(demandFactor("flat", 3)).toBe(1);
    expect(inPeriod(23.5, 22, 1)).toBe(true);
    expect(inPeriod(12, 22, 1)).toBe(false);
  });

  it(`a stop-and-go wave moves and stops; timeAt inverts position (seed ${SEED})`, () => {
    const w = new StopAndGoWave(new Rng(SEED), 0, 4, 6, 10);
    let stops = 0;
    let last = -1;
    for (let t = 0; t < 600 * S; t += 0.25 * S) {
      const x = w.position(t);
      expect(x).toBeGreaterThanOrEqual(last);
      if (x === last) stops++;
      last = x;
    }
    expect(stops).toBeGreaterThan(100);
    for (const x of [1, 17.5, 333, 1000]) {
      const t = w.timeAt(x);
      expect(w.position(t)).toBeCloseTo(x, 6);
      expect(w.position(t - 0.01 * S)).toBeLessThan(x);
    }
  });
});

describe("TrafficSim", () => {
  it(`puts each vehicle's card output on the pins exactly as the truth says (seed ${SEED})`, () => {
    const { vehicles, writes } = runLane({}, 1800);
    expect(vehicles.length).toBeGreaterThan(350);
    for (const [k, pin] of [
      [0, 5],
      [1, 6],
    ] as const) {
      const truth = vehicles
        .map((v) => v.card[k])
        .filter((c) => c !== null)
        .map((c) => [c!.onNs, c!.offNs]);
      expect(intervals(writes, pin).slice(0, truth.length)).toEqual(truth.slice(0, intervals(writes, pin).length));
    }
  });

  it("adds one card latency (5–30 ms) to both loops and sub-millisecond jitter to each edge", () => {
    const { vehicles } = runLane({ traffic: { card: { latencyMs: [5, 30], jitterMs: 0.5, skewMs: 0, pulseMs: 150 } } }, 900);
    const lat = vehicles.map((v) => [(v.card[0]!.onNs - v.loops[0]!.onNs) / 1e6, (v.card[1]!.onNs - v.loops[1]!.onNs) / 1e6] as const);
    const mean = lat.reduce((s, [a]) => s + a, 0) / lat.length;
    expect(mean).toBeGreaterThanOrEqual(5);
    expect(mean).toBeLessThanOrEqual(30);
    for (const [a, b] of lat) {
      expect(Math.abs(a - mean)).toBeLessThan(2.5);
      expect(Math.abs(b - mean)).toBeLessThan(2.5);
    }
  });

  it("pulse-mode cards give one fixed pulse per vehicle", () => {
    const run = runLane({ loops: [{ line: 5, activeLow: true }], mode: "pulse" }, 600);
    const writes = run.writes;
    // vehicles are generated a little ahead of time: keep those that reached the loop
    const vehicles = run.vehicles.filter((v) => v.card[0]!.offNs <= 600 * S);
    for (const v of vehicles) expect(v.card[0]!.offNs - v.card[0]!.onNs).toBe(150e6);
    // active low: the line rests high and drops for each pulse
    expect(writes[0]).toMatchObject({ pin: 5, v: 1 });
    expect(writes.filter((w) => w.v === 0)).toHaveLength(vehicles.length);
  });

  it("records classes, lengths inside their IRIS bins, steady speeds, and is repeatable", () => {
    const a = runLane({}, 1200);
    const b = runLane({}, 1200);
    expect(a.vehicles).toEqual(b.vehicles);
    const bins: Record<string, [number, number]> = {
      motorcycle: [0, 2.1336],
      short: [2.1336, 6.096],
      medium: [6.096, 13.1064],
      long: [13.1064, 77.7],
    };
    for (const v of a.vehicles) {
      const [lo, hi] = bins[v.class]!;
      expect(v.lengthM).toBeGreaterThanOrEqual(lo);
      expect(v.lengthM).toBeLessThan(hi);
      expect(v.steady).toBe(true);
    }
  });

  it("lane changes hit one loop only; wrong-way drivers hit the downstream loop first", () => {
    const { vehicles } = runLane({ traffic: { laneChangeShare: 0.1, wrongWayPerHour: 30 } }, 3600);
    const out = vehicles.filter((v) => v.laneChange === "out");
    const into = vehicles.filter((v) => v.laneChange === "in");
    expect(out.length).toBeGreaterThan(10);
    expect(out.every((v) => v.card[0] && !v.card[1] && v.countNs === v.card[0].onNs)).toBe(true);
    expect(into.every((v) => !v.card[0] && v.card[1] && v.countNs === v.card[1].onNs)).toBe(true);
    const ww = vehicles.filter((v) => v.wrongWay);
    expect(ww.length).toBeGreaterThan(10);
    expect(ww.every((v) => v.card[1]!.onNs < v.card[0]!.onNs && v.countNs === v.card[1]!.onNs)).toBe(true);
  });

  it("stop-and-go: vehicles crawl and stop over the loops, never overlapping on a loop", () => {
    const { vehicles } = runLane({ traffic: { stopAndGo: [{ from: 0, to: 1, speedKmh: 15, stopS: 6, goS: 10, gapM: 2.5 }] } }, 1800);
    expect(vehicles.some((v) => !v.steady)).toBe(true);
    for (const k of [0, 1]) {
      const iv = vehicles.map((v) => v.loops[k]!).sort((a, b) => a.onNs - b.onNs);
      for (let i = 1; i < iv.length; i++) expect(iv[i]!.onNs).toBeGreaterThan(iv[i - 1]!.offNs);
    }
  });

  it("commuter profile: about 20 times more traffic in the morning peak than at 3 am", () => {
    const night = runLane({ traffic: { profile: "commuter" } }, 3600, SEED, Date.UTC(2026, 0, 5, 3, 0, 0)).vehicles.length;
    const peak = runLane({ traffic: { profile: "commuter" } }, 3600, SEED, Date.UTC(2026, 0, 5, 7, 30, 0)).vehicles.length;
    expect(peak / Math.max(1, night)).toBeGreaterThan(12);
  });

  const fault = (kind: string, loops: number[], atS: number, forS: number, params: Record<string, number> = {}): LaneFault => ({
    kind,
    target: "x",
    loops,
    inputs: loops.map(String),
    startNs: atS * S,
    endNs: (atS + forS) * S,
    params,
  });

  it("faults: stuck-on holds the output, stuck-off drops it, both end on time", () => {
    const on = runLane({ faults: [fault("stuck-on", [0], 100, 200)] }, 400);
    const held = intervals(on.writes, 5).find(([a, b]) => a <= 100 * S && b >= 300 * S);
    expect(held).toBeDefined();
    expect(on.faults[0]).toMatchObject({ fault: "stuck-on", startNs: 100 * S, endNs: 300 * S });
    const off = runLane({ faults: [fault("stuck-off", [1], 100, 200)] }, 400);
    expect(intervals(off.writes, 6).filter(([a]) => a > 100 * S && a < 300 * S)).toEqual([]);
    expect(intervals(off.writes, 5).filter(([a]) => a > 100 * S && a < 300 * S).length).toBeGreaterThan(20);
  });

  it("faults: chatter pulses about twice a second; bounce adds sub-2 ms flips around each switch", () => {
    const ch = runLane({ vehiclesPerHour: 0, faults: [fault("chatter", [0], 10, 60)] }, 100);
    const pulses = intervals(ch.writes, 5);
    expect(pulses.length).toBeGreaterThan(80);
    expect(pulses.length).toBeLessThan(160);
    expect(pulses.every(([a, b]) => b - a >= 30e6 && b - a <= 120e6 && a >= 10 * S && b <= 70 * S)).toBe(true);
    const b = runLane({ faults: [fault("bounce", [0], 0, 600, { count: 3, widthMs: 1 })] }, 300);
    const edges = b.writes.filter((w) => w.pin === 5).length;
    const clean = b.vehicles.filter((v) => v.card[0]).length * 2 + 1;
    expect(edges).toBeGreaterThan(clean * 3);
    // every switch ends at the truth: between vehicles the line rests inactive
    for (const v of b.vehicles) {
      const after = b.writes.filter((w) => w.pin === 5 && w.t > v.card[0]!.offNs && w.t < v.card[0]!.offNs + 5e6);
      expect(after.at(-1)?.v ?? 0).toBe(0);
      expect(after.every((w) => w.t - v.card[0]!.offNs < 2.1e6)).toBe(true);
    }
  });

  it("faults: drop-edges loses about the given share of vehicles on the target loop", () => {
    const { vehicles } = runLane({ faults: [fault("drop-edges", [1], 0, 3600, { share: 0.3 })] }, 3600);
    const lost = vehicles.filter((v) => v.dropped[1]).length / vehicles.length;
    expect(lost).toBeGreaterThan(0.25);
    expect(lost).toBeLessThan(0.35);
    expect(vehicles.every((v) => !v.dropped[0])).toBe(true);
    expect(vehicles.filter((v) => v.dropped[1]).every((v) => v.card[1] === null)).toBe(true);
  });
});
