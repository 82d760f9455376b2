/**
 * Estimates the latency difference δ between a speed trap's two loops (downstream card minus
 * upstream card) from the traffic itself.
 *
 * Why it works: a vehicle of length L at speed v has a true transit D / v and an on-time
 * t_on = (L + L_loop) / v; the device measures the transit as T = D / v + δ (equal latencies cancel,
 * different ones do not) while the on-time is unbiased (a card delays both edges of its loop alike).
 * So t_on / T = c · (1 − δ / T) with c = (L + L_loop) / D, and within a band of similar vehicles c
 * does not depend on speed. Every other edge difference a dual loop gives (rise-to-rise and
 * fall-to-fall transits, up and down on-times, headways) carries δ either not at all or the same
 * way, so this is the only handle on δ: it is the δ that makes lengths independent of speed.
 *
 * The fit: per band (motorcycles, passenger cars), a line of y = t_on / T over x = 1 / T, whose
 * errors (the spread of lengths within the band) are then of one size at every speed; the bands
 * share δ and keep their own c, each weighted by its own residual variance. For a given δ the
 * best c and the residual sum come in closed form from six running sums per band, so δ is the
 * minimum of a 1-D function (golden section) and its standard error comes from the curvature.
 *
 * How well (the Fisher bound for this model): SE(δ) = s · (D / σ_v) / √n, s the relative spread
 * of L + L_loop within a band, σ_v the spread of speeds. With cars ±8.7 % (4.5 ± 0.55 m over a
 * 1.83 m loop), motorcycles ±3 %, and speeds 90 ± 9 km/h over 6 m: 211 ms / √vehicles, so ±6.1 ms
 * from an hour at 1,200 veh/h and ±2.4 ms (1 % of speed) only from 7,800 vehicles. No estimator
 * does better from these observables; only wider speed spreads or more vehicles narrow it. `seMs`
 * reports it and the device applies an estimate only once it is small (docs/traffic.md
 * "Calibration"). Trucks are left out: their lengths vary so much that they would add 5 % of the
 * information, and a fleet whose heavy vehicles are both longer and slower would bias it.
 *
 * O(1) memory: six running sums per band, halved when a band passes `maxN` so a replaced card shows.
 */
export class TrapLatencyEstimator {
  private readonly bands: Band[];
  /** δ (s) the lengths that pick a vehicle's band are computed with: the latest estimate. */
  private selDelta = 0;
  private sinceSel = 0;
  /** The last δ (s) found, where the next search starts; NaN before the first. */
  private lastD = NaN;

  constructor(
    private readonly trap: { spacingM: number; loopLengthM: number },
    private readonly opts: { bandsM: readonly (readonly [number, number])[]; maxN: number } = {
      // motorcycles (IRIS < 7 ft) and passenger cars (IRIS short, < 20 ft), with a gap between them
      // so a few per cent of length error moves no vehicle from one band into the other; a car band
      // up to 6.5 m took in the shortest medium trucks, slower than cars, and biased δ by +1.4 ms
      bandsM: [
        [1.0, 2.5],
        [3.0, 6.1],
      ],
      maxN: 50_000,
    },
  ) {
    this.bands = opts.bandsM.map(([lo, hi]) => ({ lo, hi, n: 0, sx: 0, sy: 0, sxx: 0, sxy: 0, syy: 0 }));
  }

  /** Vehicles used so far (after halving, the effective number). */
  get count(): number {
    let n = 0;
    for (const b of this.bands) n += b.n;
    return n;
  }

  /**
   * One measured vehicle: its transit as the cards showed it (before any automatic correction) and
   * its mean on-time. Its band is picked by its length computed with the latest estimate of δ, not
   * with the published one: a length computed with the wrong δ is off by a speed-dependent factor,
   * so a band picked with it would keep more of its edge vehicles at one end of the speed range.
   */
  add(rawTransitNs: number, onTimeNs: number): void {
    const t = rawTransitNs * 1e-9;
    const on = onTimeNs * 1e-9;
    if (!(t > 0 && on > 0)) return;
    if (++this.sinceSel >= 256) {
      this.sinceSel = 0;
      const d = this.estimate().deltaMs / 1e3;
      if (!Number.isNaN(d)) this.selDelta = Math.max(-0.06, Math.min(0.06, d));
    }
    const trueT = t - this.selDelta;
    if (!(trueT > 0)) return;
    const lengthM = (this.trap.spacingM / trueT) * on - this.trap.loopLengthM;
    const b = this.bands.find((k) => lengthM >= k.lo && lengthM <= k.hi);
    if (!b) return;
    if (b.n >= this.opts.maxN) {
      b.n /= 2;
      b.sx /= 2;
      b.sy /= 2;
      b.sxx /= 2;
      b.sxy /= 2;
      b.syy /= 2;
    }
    const x = 1 / t;
    const y = on / t;
    b.n++;
    b.sx += x;
    b.sy += y;
    b.sxx += x * x;
    b.sxy += x * y;
    b.syy += y * y;
  }

  /** The weighted residual sum over δ (s), or undefined with fewer than 30 vehicles in every band or no spread of speeds. */
  private objective(): ((d: number) => number) | undefined {
    // each band's weight: 1 / its residual variance about its own free line
    const used: { b: Band; w: number }[] = [];
    for (const b of this.bands) {
      if (b.n < 30) continue;
      const Sxx = b.sxx - (b.sx * b.sx) / b.n;
      const Sxy = b.sxy - (b.sx * b.sy) / b.n;
      const Syy = b.syy - (b.sy * b.sy) / b.n;
      if (!(Sxx > 0)) continue;
      const s2 = (Syy - (Sxy * Sxy) / Sxx) / (b.n - 2);
      if (s2 > 0) used.push({ b, w: 1 / s2 });
    }
    if (used.length === 0) return undefined;
    return (d: number) => {
      let s = 0;
      for (const { b, w } of used) s += w * rss(b, d);
      return s;
    };
  }

  /** δ in ms with its standard error; NaN for both with fewer than 30 vehicles in every band or no spread of speeds. */
  estimate(): { deltaMs: number; seMs: number; n: number } {
    const n = this.count;
    const nan = { deltaMs: NaN, seMs: NaN, n };
    const q = this.objective();
    if (!q) return nan;
    const d = this.near(q) ?? this.search(q);
    if (d === undefined) return nan;
    this.lastD = d;
    // −2 log-likelihood is q (errors weighted by their variance), so the Fisher information is q'' / 2
    const h = 1e-4;
    const curv = (q(d + h) - 2 * q(d) + q(d - h)) / (h * h);
    if (!(curv > 0)) return nan;
    return { deltaMs: d * 1e3, seMs: Math.sqrt(2 / curv) * 1e3, n };
  }

  /**
   * The minimum within one grid cell of the last δ found, if it lies inside that cell: δ moves little
   * between two calls (every 256 vehicles and at every window's end), and 25 evaluations replace
   * the full search's 130. (Issue 15: the full search took a third of the traffic path's time.)
   */
  private near(q: (d: number) => number): number | undefined {
    if (Number.isNaN(this.lastD)) return undefined;
    const d = goldenMin(q, this.lastD - GRID_STEP, this.lastD + GRID_STEP);
    return Math.abs(d - this.lastD) < GRID_STEP * 0.99 ? d : undefined;
  }

  /** The full search: the grid, then golden section in its best cell; undefined when the best is at the grid's edge. */
  private search(q: (d: number) => number): number | undefined {
    // a grid first (q need not be unimodal far from the answer, where 1 − δ·x changes sign), then a
    // golden-section search in the best cell: ±0.2 s spans every transit up to 30 m/s over 6 m
    const step = GRID_STEP;
    let best = 0;
    let bestQ = Infinity;
    for (let k = -50; k <= 50; k++) {
      const v = q(k * step);
      if (v < bestQ) {
        bestQ = v;
        best = k;
      }
    }
    if (Math.abs(best) === 50) return undefined;
    return goldenMin(q, (best - 1) * step, (best + 1) * step);
  }

  reset(): void {
    this.lastD = NaN;
    this.selDelta = 0;
    this.sinceSel = 0;
    for (const b of this.bands) b.n = b.sx = b.sy = b.sxx = b.sxy = b.syy = 0;
  }
}

/** The search grid's cell (s): ±0.2 s in 101 steps. */
const GRID_STEP = 0.004;

interface Band {
  lo: number;
  hi: number;
  n: number;
  /** Σ over vehicles of x = 1 / T (1/s), y = t_on / T, x², x·y, y². */
  sx: number;
  sy: number;
  sxx: number;
  sxy: number;
  syy: number;
}

/** The minimum of `q` in [lo, hi] by golden-section search, to 0.1 µs. */
function goldenMin(q: (d: number) => number, lo: number, hi: number): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo);
  let c = lo + g * (hi - lo);
  let qa = q(a);
  let qc = q(c);
  while (hi - lo > 1e-7) {
    if (qa < qc) {
      hi = c;
      c = a;
      qc = qa;
      a = hi - g * (hi - lo);
      qa = q(a);
    } else {
      lo = a;
      a = c;
      qa = qc;
      c = lo + g * (hi - lo);
      qc = q(c);
    }
  }
  return (lo + hi) / 2;
}

/** Residual sum of squares of y = c · (1 − δ · x) with the best c for this δ. */
function rss(b: Band, d: number): number {
  const szz = b.n - 2 * d * b.sx + d * d * b.sxx;
  const syz = b.sy - d * b.sxy;
  return szz > 0 ? b.syy - (syz * syz) / szz : Infinity;
}

/**
 * Known-speed calibration (`roadside calibrate`): a test vehicle driven over the trap at a speed
 * measured independently (radar gun, GPS); δ is the median over its passes of the measured transit
 * minus D / v. The median ignores a pass disturbed by another vehicle. Returns NaN without passes.
 */
export function knownSpeedLatency(
  measuredSpeedsMs: readonly number[],
  knownSpeedMs: number,
  spacingM: number,
): { deltaMs: number; spreadMs: number; n: number } {
  const d = measuredSpeedsMs
    .filter((v) => v > 0)
    .map((v) => (spacingM / v - spacingM / knownSpeedMs) * 1e3)
    .sort((a, b) => a - b);
  const n = d.length;
  if (n === 0) return { deltaMs: NaN, spreadMs: NaN, n };
  const med = n % 2 ? d[n >> 1]! : (d[n / 2 - 1]! + d[n / 2]!) / 2;
  return { deltaMs: med, spreadMs: d[n - 1]! - d[0]!, n };
}
