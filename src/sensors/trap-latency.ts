/**
 * Estimates the latency difference δ between a speed trap's two loops (downstream card minus
 * upstream card) from the traffic itself.
 *
 * Why it works: a vehicle of length L at speed v has a true transit D / v and an on-time
 * t_on = (L + L_loop) / v; the device measures the transit as D / v + δ (equal latencies cancel,
 * different ones do not) while the on-time is unbiased (a card delays both edges of its loop alike).
 * So t_on = c · (transit − δ) with c = (L + L_loop) / D, and for passenger cars c does not depend
 * on speed. A least-squares line of t_on over the measured transit crosses t_on = 0 at δ. With
 * δ wrong, computed car lengths grow (or shrink) with speed; the estimate is the δ that makes them
 * independent of it.
 *
 * How well: the information comes from the spread of speeds only (c and δ trade off around the
 * mean transit), so the standard error is about (σ_c / c) · t̄ · (t̄ / σ_t) / √n: with car lengths
 * spread ±9 % and speeds ±10 %, 1,000 cars give ±6–8 ms; ±20 % speeds halve it. `seMs` reports it,
 * and the device applies an estimate only once it is small (docs/traffic.md "Calibration").
 *
 * O(1) memory: five running sums, halved when they grow past `maxN` so a replaced card shows.
 */
export class TrapLatencyEstimator {
  private n = 0;
  /** Σ over cars of the raw transit y (s), the on-time x (s), y², x·y, x². */
  private sy = 0;
  private sx = 0;
  private syy = 0;
  private sxy = 0;
  private sxx = 0;

  constructor(
    private readonly opts: { minLengthM: number; maxLengthM: number; maxN: number } = { minLengthM: 3, maxLengthM: 6.5, maxN: 50_000 },
  ) {}

  /** Cars used so far (after halving, the effective number). */
  get count(): number {
    return this.n;
  }

  /**
   * One measured vehicle: its transit as the cards showed it (before any automatic correction), its
   * mean on-time, and its length as published (only passenger cars are used).
   */
  add(rawTransitNs: number, onTimeNs: number, lengthM: number): void {
    if (!(lengthM >= this.opts.minLengthM && lengthM <= this.opts.maxLengthM)) return;
    const y = rawTransitNs * 1e-9;
    const x = onTimeNs * 1e-9;
    if (!(y > 0 && x > 0)) return;
    if (this.n >= this.opts.maxN) {
      this.n /= 2;
      this.sy /= 2;
      this.sx /= 2;
      this.syy /= 2;
      this.sxy /= 2;
      this.sxx /= 2;
    }
    this.n++;
    this.sy += y;
    this.sx += x;
    this.syy += y * y;
    this.sxy += x * y;
    this.sxx += x * x;
  }

  /** δ in ms with its standard error; NaN for both with fewer than 30 cars or no spread of speeds. */
  estimate(): { deltaMs: number; seMs: number; n: number } {
    const n = this.n;
    if (n < 30) return { deltaMs: NaN, seMs: NaN, n };
    const my = this.sy / n;
    const mx = this.sx / n;
    const Syy = this.syy - n * my * my;
    const Sxy = this.sxy - n * mx * my;
    const Sxx = this.sxx - n * mx * mx;
    if (!(Syy > 0) || !(Sxy > 0)) return { deltaMs: NaN, seMs: NaN, n };
    const c = Sxy / Syy;
    const delta = my - mx / c;
    const s2 = Math.max(0, (Sxx - c * Sxy) / (n - 2));
    // delta method on δ = ȳ − x̄ / c
    const varC = s2 / Syy;
    const varDelta = s2 / (n * c * c) + ((mx * mx) / (c * c * c * c)) * varC;
    return { deltaMs: delta * 1e3, seMs: Math.sqrt(varDelta) * 1e3, n };
  }

  reset(): void {
    this.n = this.sy = this.sx = this.syy = this.sxy = this.sxx = 0;
  }
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
