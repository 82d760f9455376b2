/**
 * Turns a free-running stream of readings into samples at a rate the caller chooses: each sample is
 * the median of the readings received since the previous one. A MaxBotix sensor sends ~6 frames a
 * second; single frames in a manhole or a bin carry outliers (foam, a condensation drop on the
 * transducer, an echo off a rung or a bag), and the median of a sampling interval rejects them
 * where a mean would not.
 *
 * A sample belongs to the window its time falls in (docs/sewer.md): `take(beforeNs)` samples only
 * the readings stamped before a window boundary and keeps the rest for the next sample, so the
 * readings of one sample never straddle a boundary.
 *
 * Fixed memory: a ring of `capacity` readings (the newest win when an interval holds more).
 * Allocation-free per reading and per sample.
 */
export class MedianSampler {
  private readonly values: Float64Array;
  private readonly times: Float64Array;
  private readonly scratch: Float64Array;
  private n = 0;
  private head = 0;

  constructor(capacity = 512) {
    this.values = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
    this.scratch = new Float64Array(capacity);
  }

  /** Readings waiting for the next sample. */
  get pending(): number {
    return this.n;
  }

  /** Readings stamped before `tNs` waiting for the next sample. */
  pendingBefore(tNs: number): number {
    const cap = this.values.length;
    let k = 0;
    while (k < this.n && this.times[(this.head - this.n + k + cap) % cap]! < tNs) k++;
    return k;
  }

  add(value: number, tNs: number): void {
    const cap = this.values.length;
    this.times[this.head] = tNs;
    this.values[this.head] = value;
    this.head = (this.head + 1) % cap;
    if (this.n < cap) this.n++;
  }

  /**
   * The median of the readings since the last call that were stamped before `beforeNs` (all of
   * them by default; NaN when there were none), and forget them; later readings stay for the next
   * sample. `sampleNs` then gives the sample's time: the middle of the span the readings covered.
   */
  take(beforeNs = Infinity): number {
    const total = this.n;
    const n = beforeNs === Infinity ? total : this.pendingBefore(beforeNs);
    if (n === 0) return Number.NaN;
    const cap = this.values.length;
    const s = this.scratch;
    const first = (this.head - total + cap) % cap;
    for (let i = 0; i < n; i++) s[i] = this.values[(first + i) % cap]!;
    const sorted = s.subarray(0, n).sort();
    const mid = n >> 1;
    const med = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    const lastTaken = this.times[(first + n - 1) % cap]!;
    this.sampleNs = (this.times[first]! + lastTaken) / 2;
    this.n = total - n;
    return med;
  }

  /** Time of the last sample taken (middle of its readings), ns. */
  sampleNs = 0;
}
