import type { Rng } from "./rng.js";

/**
 * The traffic model of the simulator: how much traffic arrives when, which vehicles, how fast, and
 * how a congested queue moves. Pure data and arithmetic; the scenario (traffic.ts) turns it into
 * card outputs on the simulated board.
 */

/**
 * Weekday commuter demand as a share of the peak hour, by local time of day (piecewise linear):
 * a quiet night at 3–4 %, the morning peak at 08:00, a midday plateau near 60 %, the evening peak
 * at 17:15 — the double-hump shape of urban weekday counts.
 */
const COMMUTER: readonly (readonly [number, number])[] = [
  [0, 0.04],
  [4, 0.03],
  [5.5, 0.15],
  [6.5, 0.55],
  [7.5, 0.95],
  [8, 1.0],
  [9, 0.7],
  [10, 0.55],
  [12, 0.6],
  [14, 0.58],
  [15.5, 0.75],
  [16.5, 0.95],
  [17.25, 1.0],
  [18.5, 0.7],
  [20, 0.4],
  [22, 0.15],
  [24, 0.04],
];

/** Share of the peak demand at local hour `h` (0–24). */
export function demandFactor(profile: "flat" | "commuter", h: number): number {
  if (profile === "flat") return 1;
  const x = ((h % 24) + 24) % 24;
  for (let i = 1; i < COMMUTER.length; i++) {
    const [h1, f1] = COMMUTER[i]!;
    if (x <= h1) {
      const [h0, f0] = COMMUTER[i - 1]!;
      return f0 + ((x - h0) / (h1 - h0)) * (f1 - f0);
    }
  }
  return COMMUTER[0]![1];
}

/** Local hour of day of a wall-clock instant. */
export function localHour(wallMs: number, utcOffsetH: number): number {
  const h = (wallMs / 3_600_000 + utcOffsetH) % 24;
  return h < 0 ? h + 24 : h;
}

/** True when local hour `h` falls in [from, to) (a period may span midnight). */
export function inPeriod(h: number, from: number, to: number): boolean {
  return from <= to ? h >= from && h < to : h >= from || h < to;
}

export type VehicleClass = "motorcycle" | "short" | "medium" | "long";

/**
 * Physical length (m) and speed factor per class. Lengths stay inside the IRIS class bounds
 * (7, 20, 43, 255 ft) so the class of a vehicle is unambiguous; heavy vehicles run a little slower.
 */
const CLASSES: Record<VehicleClass, { mean: number; sd: number; min: number; max: number; speed: number }> = {
  motorcycle: { mean: 1.95, sd: 0.12, min: 1.6, max: 2.1, speed: 1.05 },
  short: { mean: 4.5, sd: 0.55, min: 2.3, max: 5.9, speed: 1.0 },
  medium: { mean: 9.5, sd: 1.8, min: 6.3, max: 12.9, speed: 0.95 },
  long: { mean: 18.5, sd: 2.2, min: 13.3, max: 25, speed: 0.9 },
};

export interface ClassMix {
  motorcycle: number;
  short: number;
  medium: number;
  long: number;
}

export const DEFAULT_CLASS_MIX: ClassMix = { motorcycle: 0.01, short: 0.87, medium: 0.08, long: 0.04 };

/** Draw a vehicle class and its length. */
export function drawVehicle(rng: Rng, mix: ClassMix): { cls: VehicleClass; lengthM: number; speedFactor: number } {
  const total = mix.motorcycle + mix.short + mix.medium + mix.long;
  let u = rng.next() * (total > 0 ? total : 1);
  let cls: VehicleClass = "short";
  for (const c of ["motorcycle", "short", "medium", "long"] as const) {
    if (u < mix[c]) {
      cls = c;
      break;
    }
    u -= mix[c];
  }
  const k = CLASSES[cls];
  const lengthM = Math.min(k.max, Math.max(k.min, rng.normal(k.mean, k.sd)));
  return { cls, lengthM, speedFactor: k.speed };
}

/**
 * A stop-and-go queue over the detector: everything within the few metres of a trap moves and stops
 * together, so the queue is one position function X(t) (m, piecewise linear in time: moving at the
 * crawl speed, or stopped) and a vehicle is an offset on it (front at X(t) − s). Vehicles keep their
 * spacing, never overtake, and stop wherever the wave catches them — on a loop, or between the loops.
 * Phases are drawn lazily as far as vehicles need them.
 */
export class StopAndGoWave {
  /** Segment starts (ns), positions at the start (m), speeds (m/s). */
  private t: number[] = [];
  private x: number[] = [];
  private v: number[] = [];
  private moving = true;

  constructor(
    private readonly rng: Rng,
    startNs: number,
    private readonly speedMs: number,
    private readonly stopS: number,
    private readonly goS: number,
  ) {
    this.t.push(startNs);
    this.x.push(0);
    this.v.push(speedMs);
  }

  /** X at `tNs` (m). */
  position(tNs: number): number {
    this.extendTime(tNs);
    const i = this.segmentAt(tNs);
    return this.x[i]! + (this.v[i]! * (tNs - this.t[i]!)) / 1e9;
  }

  /** The first instant X reaches `pos` (ns). */
  timeAt(pos: number): number {
    while (this.x[this.x.length - 1]! <= pos || this.v[this.v.length - 1] === 0) this.addPhase();
    // first segment whose end position exceeds pos
    let lo = 0;
    let hi = this.x.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.x[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    let i = lo;
    while (this.v[i] === 0) i++;
    if (pos < this.x[i]!) return this.t[i]!;
    return this.t[i]! + ((pos - this.x[i]!) / this.v[i]!) * 1e9;
  }

  /** Index of the segment in force at `tNs`. */
  segmentAt(tNs: number): number {
    let lo = 0;
    let hi = this.t.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.t[mid]! <= tNs) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Forget phases that ended before `tNs` (keeps memory flat over a long run). */
  prune(tNs: number): void {
    let k = 0;
    while (k + 2 < this.t.length && this.t[k + 1]! < tNs) k++;
    if (k > 64) {
      this.t = this.t.slice(k);
      this.x = this.x.slice(k);
      this.v = this.v.slice(k);
    }
  }

  private extendTime(tNs: number): void {
    while (this.t[this.t.length - 1]! <= tNs) this.addPhase();
  }

  private addPhase(): void {
    const i = this.t.length - 1;
    const mean = this.moving ? this.goS : this.stopS;
    const dur = Math.min(3 * mean, Math.max(0.3 * mean, this.rng.exponential(mean)));
    const tEnd = this.t[i]! + dur * 1e9;
    const xEnd = this.x[i]! + this.v[i]! * dur;
    this.moving = !this.moving;
    this.t.push(tEnd);
    this.x.push(xEnd);
    this.v.push(this.moving ? this.speedMs : 0);
  }
}
