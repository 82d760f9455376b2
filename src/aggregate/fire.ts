import { NS_PER_S } from "../clock/clock.js";

export interface FireOptions {
  /** Absolute limit, °C (default 57: fixed-temperature heat detectors, EN 54-5 class A1). */
  limitC: number;
  /** Rate of rise, °C per minute (default 8.3 ≈ 15 °F/min, the rate-of-rise heat detector setting). */
  riseCPerMin: number;
  /** Consecutive samples over a limit needed to raise the alarm. */
  confirm: number;
  /** The alarm ends after the temperature stayed below limit − 5 °C and the rise below half its limit this long. */
  clearNs: number;
}

export type FireCause = "absolute" | "rate-of-rise";

/**
 * Bin fire detection from temperature samples (DOMAIN.md §3): an absolute limit, or a rate of rise
 * over the last minute (a smouldering bin heats slowly but steadily; a fire in a steel bin shows
 * first as a fast rise while the absolute temperature is still low). Fixed memory: a ring of the
 * last samples.
 */
export class FireDetector {
  private readonly ts = new Float64Array(64);
  private readonly cs = new Float64Array(64);
  private head = 0;
  private n = 0;
  private over = 0;
  private burning = false;
  private calmSince = -1;
  /** Rise over the last minute, °C (NaN until a minute of samples). */
  rise = Number.NaN;

  constructor(
    private readonly o: FireOptions,
    private readonly onFire: (start: boolean, tNs: number, tempC: number, riseC: number, cause: FireCause) => void,
  ) {}

  get active(): boolean {
    return this.burning;
  }

  sample(tempC: number, tNs: number): void {
    this.ts[this.head] = tNs;
    this.cs[this.head] = tempC;
    this.head = (this.head + 1) % this.ts.length;
    if (this.n < this.ts.length) this.n++;
    this.rise = this.riseOverMinute(tNs, tempC);
    const rateHit = this.rise >= this.o.riseCPerMin;
    const absHit = tempC >= this.o.limitC;
    if (!this.burning) {
      this.over = absHit || rateHit ? this.over + 1 : 0;
      if (this.over >= this.o.confirm) {
        this.burning = true;
        this.calmSince = -1;
        this.onFire(true, tNs, tempC, this.rise, absHit ? "absolute" : "rate-of-rise");
      }
      return;
    }
    const calm = tempC < this.o.limitC - 5 && !(this.rise >= this.o.riseCPerMin / 2);
    if (!calm) {
      this.calmSince = -1;
      return;
    }
    if (this.calmSince < 0) this.calmSince = tNs;
    if (tNs - this.calmSince >= this.o.clearNs) {
      this.burning = false;
      this.over = 0;
      this.onFire(false, tNs, tempC, this.rise, "absolute");
    }
  }

  /** Rise from the oldest sample within the last 60 s, scaled to one minute; needs ≥ 30 s of history. */
  private riseOverMinute(nowNs: number, nowC: number): number {
    const len = this.ts.length;
    let oldestT = nowNs;
    let oldestC = nowC;
    for (let k = 1; k < this.n; k++) {
      const i = (this.head - 1 - k + 2 * len) % len;
      const t = this.ts[i]!;
      if (nowNs - t > 60 * NS_PER_S) break;
      oldestT = t;
      oldestC = this.cs[i]!;
    }
    const span = nowNs - oldestT;
    if (span < 30 * NS_PER_S) return Number.NaN;
    return ((nowC - oldestC) * 60 * NS_PER_S) / span;
  }
}
