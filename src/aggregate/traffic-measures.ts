import type { Window } from "../clock/windows.js";
import { gFactorSpeed } from "../sensors/loop-speed.js";
import { percentileSorted, spaceMeanSpeed, timeMeanSpeed } from "./percentile.js";
import type { Measure } from "./summary.js";
import type { TrafficBucket } from "./traffic-bucket.js";

/** What shapes a lane's summary. */
export interface LaneShape {
  mode: "presence" | "pulse";
  /** 1 (single loop) or 2 (speed trap). */
  loops: number;
  speedUnit: "km/h" | "m/s";
  /** Single loops: effective vehicle length for the estimated speed, m. */
  gFactorM: number;
  /** Length classes, shortest first; a vehicle belongs to the first whose maxM exceeds its length. */
  classes: readonly { name: string; maxM: number }[];
}

/** Index of the length class of a vehicle `lengthM` long, or -1 when longer than the last bound. */
export function classIndex(classes: readonly { maxM: number }[], lengthM: number): number {
  for (let i = 0; i < classes.length; i++) if (lengthM < classes[i]!.maxM) return i;
  return -1;
}

/**
 * The loop whose occupancy, headways and gaps a lane publishes: the upstream loop, unless the
 * downstream one was healthy for more of the window (the upstream one was in fault or held).
 */
export function referenceLoop(b: TrafficBucket, loops: number): number {
  if (loops < 2) return 0;
  return b.faultNs[1]! + b.heldNs[1]! < b.faultNs[0]! + b.heldNs[0]! ? 1 : 0;
}

/**
 * The measures of one lane for one closed window (docs/payloads.md "Traffic", docs/traffic.md).
 * A measure the data cannot support is left out rather than published as 0 or a guess.
 */
export function trafficMeasures(w: Window, b: TrafficBucket, shape: LaneShape): Measure[] {
  const out: Measure[] = [];
  const observedNs = Math.max(0, w.endNs - w.startNs);
  const countNs = Math.max(0, observedNs - b.countFaultNs);
  const countS = countNs / 1e9;
  const k = shape.speedUnit === "km/h" ? 3.6 : 1;
  const speedDigits = shape.speedUnit === "km/h" ? 2 : 3;
  if (countNs > 0) {
    out.push({ n: "volume", u: "count", v: b.volume });
    out.push({ n: "flow", u: "1/s", v: round(b.volume / countS, 6) });
  }
  const ref = referenceLoop(b, shape.loops);
  const excludedNs = b.faultNs[ref]! + b.heldNs[ref]!;
  let occupancy = NaN;
  if (shape.mode === "presence") {
    const occNs = observedNs - excludedNs;
    if (occNs > 0) {
      occupancy = Math.min(1, b.onNs[ref]! / occNs);
      out.push({ n: "occupancy", u: "/", v: round(occupancy, 6) });
      // the exception is named: occupancy, headways and gaps came from the downstream loop
      if (ref === 1) out.push({ n: "occupancy.loop", vs: "downstream" });
    }
  }
  if (shape.mode === "presence" && shape.loops === 2) {
    const n = b.speedN;
    out.push({ n: "speed.n", u: "count", v: n });
    if (n > 0) {
      const sorted = b.speeds.subarray(0, n).sort();
      out.push({ n: "speed.tms", u: shape.speedUnit, v: round(timeMeanSpeed(sorted, n) * k, speedDigits) });
      out.push({ n: "speed.sms", u: shape.speedUnit, v: round(spaceMeanSpeed(sorted, n) * k, speedDigits) });
      out.push({ n: "speed.p85", u: shape.speedUnit, v: round(percentileSorted(sorted, n, 0.85) * k, speedDigits) });
    }
    if (b.lengthN > 0) out.push({ n: "length.mean", u: "m", v: round(b.lengthSum / b.lengthN, 2) });
    for (let i = 0; i < shape.classes.length; i++) out.push({ n: `class.${shape.classes[i]!.name}`, u: "count", v: b.classCounts[i]! });
    out.push({ n: "wrongway", u: "count", v: b.wrongWay });
  } else if (shape.mode === "presence" && countNs > 0) {
    const v = gFactorSpeed(b.volume, countS, occupancy, shape.gFactorM);
    if (!Number.isNaN(v)) out.push({ n: "speed.est", u: shape.speedUnit, v: round(v * k, speedDigits) });
  }
  if (b.headN[ref]! > 0) {
    out.push({ n: "headway.mean", u: "s", v: round(b.headSum[ref]! / b.headN[ref]! / 1e9, 3) });
    out.push({ n: "headway.min", u: "s", v: round(b.headMin[ref]! / 1e9, 3) });
  }
  if (shape.mode === "presence" && b.gapN[ref]! > 0) {
    out.push({ n: "gap.mean", u: "s", v: round(b.gapSum[ref]! / b.gapN[ref]! / 1e9, 3) });
    out.push({ n: "gap.min", u: "s", v: round(b.gapMin[ref]! / 1e9, 3) });
  }
  out.push({ n: "quality.observed", u: "/", v: round(w.lengthS > 0 ? countS / w.lengthS : 0, 4) });
  out.push({ n: "quality.faults", u: "count", v: b.faulted[0]! + b.faulted[1]! });
  if (shape.mode === "presence") out.push({ n: "quality.excluded", u: "s", v: round(excludedNs / 1e9, 3) });
  out.push({ n: "quality.glitches", u: "count", v: b.glitches });
  out.push({ n: "quality.dropped", u: "count", v: b.dropped });
  if (shape.loops === 2) out.push({ n: "quality.unpaired", u: "count", v: b.unpaired });
  return out;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
