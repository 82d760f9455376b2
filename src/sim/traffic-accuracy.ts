import type { Alarm } from "../aggregate/alarm.js";
import { percentile } from "../aggregate/percentile.js";
import type { Summary } from "../aggregate/summary.js";
import { resolveDiagnostics } from "../config/sections/lane-types.js";
import type { TrafficRun } from "./traffic-rig.js";
import type { VehicleTruth } from "./traffic.js";

/**
 * Compares what the traffic aggregators published with the simulator's ground truth: the numbers
 * behind the accuracy claims of docs/traffic.md, printed by scripts/bench/traffic-edges.mjs and
 * asserted by the accuracy tests.
 */
export interface InjectedFaultReport {
  fault: string;
  inputs: string[];
  startNs: number;
  endNs: number | null;
  /** Detector faults a correct device raises for it (empty: none expected, e.g. bounce). */
  expected: string[];
  detected: boolean;
  /** Seconds from the injected start to its detection. */
  delayS: number;
}

export interface LaneReport {
  detector: string;
  windows: number;
  volume: { compared: number; exact: number; mismatches: { startNs: number; device: number; truth: number }[] };
  /** Volume during injected faults a trap must survive (drop-edges, bounce). */
  volumeDuringFaults: { compared: number; exact: number; mismatches: { startNs: number; device: number; truth: number }[] };
  /** Against the card output the board saw, and against the vehicles' physical presence (card latency and jitter included). */
  occupancy: { compared: number; maxErrPp: number; maxErrPhysicalPp: number };
  speed: {
    vehicles: number;
    medianAbsErrPct: number;
    p95AbsErrPct: number;
    windowsCompared: number;
    p85MaxErrKmh: number;
    dayP85ErrKmh: number;
  };
  faults: InjectedFaultReport[];
  /** Detector-fault alarms no injected fault explains. */
  unexpected: Alarm[];
  wrongWay: { truth: number; device: number };
  glitches: number;
  vehicles: number;
}

const value = (s: Summary, n: string): number | undefined => s.measures.find((m) => m.n === n)?.v;

/** Detector faults that a fault of the simulator should raise, given the lane and the thresholds. */
function expectedFaults(kind: string, dual: boolean, durS: number, diag: ReturnType<typeof resolveDiagnostics>, share: number): string[] {
  switch (kind) {
    case "stuck-on":
      return durS >= diag.lockedOnS + 30 ? ["locked-on"] : [];
    case "stuck-off":
      if (dual) return ["mismatch"];
      return durS >= diag.noHitsS + 30 ? ["no-hits"] : [];
    case "chatter":
      return ["chatter"];
    case "intermittent":
      return ["spike"];
    case "drop-edges":
      return dual && share > diag.unpairedShare * 1.3 ? ["unpaired"] : [];
    default:
      return [];
  }
}

export function evaluateTraffic(run: TrafficRun, opts: { faultMarginS?: number } = {}): LaneReport[] {
  const margin = (opts.faultMarginS ?? 120) * 1e9;
  const { config } = run.loaded;
  const reports: LaneReport[] = [];
  for (const [name, det] of Object.entries(config.detectors)) {
    const dual = det.loops.length === 2 && det.mode === "presence";
    const diag = resolveDiagnostics(det);
    const k = det.speedUnit === "km/h" ? 3.6 : 1;
    const sums = run.summaries.filter((s) => s.name === name);
    const vehicles = run.vehicles.filter((v) => v.detector === name);
    const faults = run.faults.filter((f) => f.detector === name);
    const survivable = (f: { fault: string }) => dual && (f.fault === "drop-edges" || f.fault === "bounce");
    const overlapsFault = (s: Summary, pick: (f: (typeof faults)[number]) => boolean) =>
      faults.some((f) => pick(f) && s.window.startNs < (f.endNs ?? Infinity) + margin && s.window.endNs > f.startNs);
    const counted = vehicles.filter((v) => Number.isFinite(v.countNs)).sort((a, b) => a.countNs - b.countNs);
    const truthVolume = (s: Summary) => countIn(counted, s.window.startNs, s.window.endNs);
    const rep: LaneReport = {
      detector: name,
      windows: sums.length,
      volume: { compared: 0, exact: 0, mismatches: [] },
      volumeDuringFaults: { compared: 0, exact: 0, mismatches: [] },
      occupancy: { compared: 0, maxErrPp: 0, maxErrPhysicalPp: 0 },
      speed: { vehicles: 0, medianAbsErrPct: NaN, p95AbsErrPct: NaN, windowsCompared: 0, p85MaxErrKmh: 0, dayP85ErrKmh: NaN },
      faults: [],
      unexpected: [],
      wrongWay: { truth: vehicles.filter((v) => v.wrongWay && v.card.every((c) => c !== null)).length, device: 0 },
      glitches: 0,
      vehicles: vehicles.length,
    };
    for (const s of sums) {
      rep.wrongWay.device += value(s, "wrongway") ?? 0;
      rep.glitches += value(s, "quality.glitches") ?? 0;
      const dev = value(s, "volume");
      if (dev === undefined) continue;
      if (!overlapsFault(s, () => true) && (value(s, "quality.faults") ?? 0) === 0) {
        const truth = truthVolume(s);
        rep.volume.compared++;
        if (truth === dev) rep.volume.exact++;
        else rep.volume.mismatches.push({ startNs: s.window.startNs, device: dev, truth });
        const occ = value(s, "occupancy");
        if (occ !== undefined && (value(s, "quality.excluded") ?? 0) === 0) {
          const len = s.window.endNs - s.window.startNs;
          const k = s.measures.some((m) => m.n === "occupancy.loop" && m.vs === "downstream") ? 1 : 0;
          const cardOcc = onTime(vehicles, (v) => v.card[k], s.window.startNs, s.window.endNs) / len;
          const physOcc = onTime(vehicles, (v) => v.loops[k], s.window.startNs, s.window.endNs) / len;
          rep.occupancy.compared++;
          rep.occupancy.maxErrPp = Math.max(rep.occupancy.maxErrPp, Math.abs(occ - cardOcc) * 100);
          rep.occupancy.maxErrPhysicalPp = Math.max(rep.occupancy.maxErrPhysicalPp, Math.abs(occ - physOcc) * 100);
        }
      } else if (overlapsFault(s, survivable) && !overlapsFault(s, (f) => !survivable(f))) {
        const truth = truthVolume(s);
        rep.volumeDuringFaults.compared++;
        if (truth === dev) rep.volumeDuringFaults.exact++;
        else rep.volumeDuringFaults.mismatches.push({ startNs: s.window.startNs, device: dev, truth });
      }
    }
    if (dual) speedAccuracy(run, name, k, vehicles, sums, (s) => overlapsFault(s, () => true), rep);
    // faults: each injected one detected, nothing else raised
    const alarms = run.alarms.filter((a) => a.source === name && a.kind === "detector-fault" && a.state === "start");
    const explained = new Set<Alarm>();
    for (const f of faults) {
      const dur = ((f.endNs ?? Infinity) - f.startNs) / 1e9;
      const share =
        (run.loaded.config.sim?.faults ?? []).find((x) => x.kind === f.fault && x.target === f.target)?.params?.["share"] ?? 0.2;
      const expected = expectedFaults(f.fault, dual, dur, diag, share);
      const hit = alarms.filter((a) => {
        const input = a.measures?.find((m) => m.n === "input")?.vs ?? "";
        const kind = a.measures?.find((m) => m.n === "fault")?.vs ?? "";
        // a fault is noticed after it began (no hits: hours after the last vehicle); its after-effects end later still
        const detectedNs = a.tNs + (a.measures?.find((m) => m.n === "delay")?.v ?? 0) * 1e9;
        return (
          f.inputs.includes(input) &&
          detectedNs >= f.startNs &&
          detectedNs <= (f.endNs ?? Infinity) + margin &&
          (expected.includes(kind) || f.fault !== "bounce")
        );
      });
      // alarms a fault may raise but need not (a mild drop-edges fault may or may not reach the unpaired threshold)
      const optional = hit.filter((a) => {
        const kind = a.measures?.find((m) => m.n === "fault")?.vs ?? "";
        return !expected.includes(kind) && f.fault === "drop-edges" && kind === "unpaired";
      });
      for (const a of hit) explained.add(a);
      const first = hit.find((a) => expected.includes(a.measures?.find((m) => m.n === "fault")?.vs ?? ""));
      const detectedNs = first ? first.tNs + (first.measures?.find((m) => m.n === "delay")?.v ?? 0) * 1e9 : NaN;
      rep.faults.push({
        fault: f.fault,
        inputs: f.inputs,
        startNs: f.startNs,
        endNs: f.endNs,
        expected,
        detected: expected.length === 0 ? hit.length === optional.length : first !== undefined,
        delayS: (detectedNs - f.startNs) / 1e9,
      });
    }
    rep.unexpected = alarms.filter((a) => !explained.has(a));
    reports.push(rep);
  }
  return reports;
}

function speedAccuracy(
  run: TrafficRun,
  name: string,
  k: number,
  vehicles: VehicleTruth[],
  sums: Summary[],
  inFault: (s: Summary) => boolean,
  rep: LaneReport,
): void {
  const byEnd = new Map<number, VehicleTruth>();
  for (const v of vehicles) if (!v.wrongWay && v.card[0] && v.card[1]) byEnd.set(v.card[1].offNs, v);
  const errs: number[] = [];
  const devDay: number[] = [];
  const truthDay: number[] = [];
  for (const p of run.passages) {
    if (p.detector !== name || Number.isNaN(p.speedMs)) continue;
    const v = byEnd.get(p.tEndNs);
    if (!v?.steady) continue;
    errs.push(Math.abs(p.speedMs - v.speedMs) / v.speedMs);
    devDay.push(p.speedMs);
    truthDay.push(v.speedMs);
  }
  errs.sort((a, b) => a - b);
  rep.speed.vehicles = errs.length;
  rep.speed.medianAbsErrPct = percentile(errs, errs.length, 0.5) * 100;
  rep.speed.p95AbsErrPct = percentile(errs, errs.length, 0.95) * 100;
  rep.speed.dayP85ErrKmh = Math.abs(percentile(devDay, devDay.length, 0.85) - percentile(truthDay, truthDay.length, 0.85)) * 3.6;
  // per window: the 85th percentile of the true speeds of the steady vehicles measured in it
  const steadyEnds = [...byEnd.values()].filter((v) => v.steady).sort((a, b) => a.card[1]!.offNs - b.card[1]!.offNs);
  for (const s of sums) {
    const n = s.measures.find((m) => m.n === "speed.n")?.v ?? 0;
    const p85 = s.measures.find((m) => m.n === "speed.p85")?.v;
    if (n < 5 || p85 === undefined || inFault(s)) continue;
    const inWin = steadyEnds.filter((v) => v.card[1]!.offNs >= s.window.startNs && v.card[1]!.offNs < s.window.endNs);
    if (inWin.length !== n) continue; // the window holds vehicles in a stop-and-go queue: no single true speed
    const truth = percentile(
      inWin.map((v) => v.speedMs),
      inWin.length,
      0.85,
    );
    rep.speed.windowsCompared++;
    rep.speed.p85MaxErrKmh = Math.max(rep.speed.p85MaxErrKmh, Math.abs(p85 / k - truth) * 3.6);
  }
}

/** Vehicles (sorted by countNs) counted in [from, to). */
function countIn(sorted: VehicleTruth[], from: number, to: number): number {
  return lowerBound(sorted, to) - lowerBound(sorted, from);
}

function lowerBound(sorted: VehicleTruth[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.countNs < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** On-time over a loop (as `pick` gives it) clipped to [from, to), ns. */
function onTime(
  vehicles: VehicleTruth[],
  pick: (v: VehicleTruth) => { onNs: number; offNs: number } | null | undefined,
  from: number,
  to: number,
): number {
  let s = 0;
  for (const v of vehicles) {
    const c = pick(v);
    if (!c || c.offNs <= from || c.onNs >= to) continue;
    s += Math.min(c.offNs, to) - Math.max(c.onNs, from);
  }
  return s;
}

/** One line per lane, for people. */
export function formatReport(r: LaneReport): string {
  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "-");
  const faults = r.faults
    .map(
      (x) => `${x.fault}@${x.inputs.join("+")}:${x.detected ? `ok${Number.isFinite(x.delayS) ? `(${f(x.delayS, 0)}s)` : ""}` : "MISSED"}`,
    )
    .join(" ");
  return [
    `${r.detector}: ${r.vehicles} vehicles, ${r.windows} windows`,
    `volume exact ${r.volume.exact}/${r.volume.compared}${r.volumeDuringFaults.compared ? ` (during drop-edges/bounce ${r.volumeDuringFaults.exact}/${r.volumeDuringFaults.compared})` : ""}`,
    `occupancy max err ${f(r.occupancy.maxErrPhysicalPp, 3)} pp vs presence (${f(r.occupancy.maxErrPp, 4)} vs card) over ${r.occupancy.compared}`,
    r.speed.vehicles
      ? `speed median |err| ${f(r.speed.medianAbsErrPct, 3)} % (p95 ${f(r.speed.p95AbsErrPct, 3)} %) over ${r.speed.vehicles}; p85 max err ${f(r.speed.p85MaxErrKmh, 3)} km/h over ${r.speed.windowsCompared} windows, day ${f(r.speed.dayP85ErrKmh, 3)} km/h`
      : "",
    r.wrongWay.truth || r.wrongWay.device ? `wrong-way ${r.wrongWay.device}/${r.wrongWay.truth}` : "",
    faults ? `faults ${faults}` : "",
    `unexpected faults ${r.unexpected.length}`,
  ]
    .filter((x) => x)
    .join("; ");
}
