import { NS_PER_S } from "../clock/clock.js";

const DAY_NS = 86_400 * NS_PER_S;

/**
 * Fill % of a bin from the distance its top-mounted sensor reads (DOMAIN.md §3):
 * clamp((H_empty − d) / (H_empty − d_full), 0, 1) · 100, where H_empty is the distance to the bottom
 * of the empty bin and d_full the distance at which it counts as full.
 */
export function fillPercent(emptyMm: number, fullMm: number, distanceMm: number): number {
  const f = (emptyMm - distanceMm) / (emptyMm - fullMm);
  return (f < 0 ? 0 : Math.min(f, 1)) * 100;
}

/**
 * Pickup (emptying) detection (DOMAIN.md §3): a drop of at least `dropPct` points to below the low
 * threshold, confirmed by a second reading below it. A single low reading (a bag shifted, an echo
 * off the lid edge) is not a pickup; the fill before the drop is kept until the drop is confirmed.
 */
export class PickupDetector {
  private before = Number.NaN;
  private candNs = -1;
  private candFill = 0;
  private lowCount = 0;
  count = 0;

  /** A drop waits for its confirming reading. */
  get pending(): boolean {
    return this.candNs >= 0;
  }

  constructor(
    private readonly dropPct: number,
    private readonly lowPct: number,
    /** `tNs`: the first low reading (when the bin was emptied); `confirmedNs`: the reading that confirmed it. */
    private readonly onPickup: (tNs: number, beforePct: number, afterPct: number, confirmedNs: number) => void,
  ) {}

  reading(fillPct: number, tNs: number): void {
    if (this.candNs >= 0) {
      if (fillPct < this.lowPct) {
        if (++this.lowCount >= 2) {
          this.count++;
          const before = this.before;
          const at = this.candNs;
          this.candNs = -1;
          this.before = fillPct;
          this.onPickup(at, before, this.candFill, tNs);
        }
        return;
      }
      // not confirmed: the low reading was a glitch; the bin is as it was
      this.candNs = -1;
    }
    if (!Number.isNaN(this.before) && this.before - fillPct >= this.dropPct && fillPct < this.lowPct) {
      this.candNs = tNs;
      this.candFill = fillPct;
      this.lowCount = 1;
      return;
    }
    this.before = fillPct;
  }
}

/**
 * Average filling speed (percentage points per day; LwM2M 3435 resource 8) and the forecast full
 * time (resource 10). The speed is the least-squares slope of fill over time since the last pickup,
 * once that cycle spans `minSpanNs` (deposits come in steps and follow the day, so shorter spans
 * mislead); until then the previous cycle's speed stands.
 */
export class FillingSpeed {
  private n = 0;
  private t0 = 0;
  private st = 0;
  private sf = 0;
  private stt = 0;
  private stf = 0;
  private lastNs = 0;
  private previous = Number.NaN;

  constructor(private readonly minSpanNs = 6 * 3600 * NS_PER_S) {}

  reading(fillPct: number, tNs: number): void {
    if (this.n === 0) this.t0 = tNs;
    const t = (tNs - this.t0) / DAY_NS;
    this.n++;
    this.st += t;
    this.sf += fillPct;
    this.stt += t * t;
    this.stf += t * fillPct;
    this.lastNs = tNs;
  }

  /** The bin was emptied: keep the finished cycle's speed, start a new one. */
  reset(): void {
    const s = this.current();
    if (!Number.isNaN(s)) this.previous = s;
    this.n = 0;
    this.st = this.sf = this.stt = this.stf = 0;
  }

  /** %/day, NaN when unknown. */
  speed(): number {
    const s = this.current();
    return Number.isNaN(s) ? this.previous : s;
  }

  /** Monotonic ns at which the fill reaches `targetPct`, from `nowPct` at `nowNs`; NaN when it will not. */
  forecast(nowPct: number, nowNs: number, targetPct: number): number {
    const s = this.speed();
    if (nowPct >= targetPct) return nowNs;
    if (!(s > 0.01)) return Number.NaN;
    return nowNs + ((targetPct - nowPct) / s) * DAY_NS;
  }

  private current(): number {
    if (this.n < 3 || this.lastNs - this.t0 < this.minSpanNs) return Number.NaN;
    const d = this.n * this.stt - this.st * this.st;
    if (d <= 0) return Number.NaN;
    return (this.n * this.stf - this.st * this.sf) / d;
  }
}
