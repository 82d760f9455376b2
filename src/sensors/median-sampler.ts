/**
 * Turns a free-running stream of readings into samples at a rate the caller chooses: each sample is
 * the median of the readings received since the previous one. A MaxBotix sensor sends ~6 frames a
 * second; single frames in a manhole or a bin carry outliers (foam, a condensation drop on the
 * transducer, an echo off a rung or a bag), and the median of a sampling interval rejects them
 * where a mean would not.
 *
 * Fixed memory: a ring of `capacity` readings (the newest win when an interval holds more).
 * Allocation-free per reading and per sample.
 */
export class MedianSampler {
  private readonly values: Float64Array;
  private readonly scratch: Float64Array;
  private n = 0;
  private head = 0;
  private firstNs = 0;
  private lastNs = 0;

  constructor(capacity = 512) {
    this.values = new Float64Array(capacity);
    this.scratch = new Float64Array(capacity);
  }

  /** Readings waiting for the next sample. */
  get pending(): number {
    return this.n;
  }

  add(value: number, tNs: number): void {
    const cap = this.values.length;
    if (this.n === 0) this.firstNs = tNs;
    this.lastNs = tNs;
    this.values[this.head] = value;
    this.head = (this.head + 1) % cap;
    if (this.n < cap) this.n++;
  }

  /**
   * The median of the readings since the last call (NaN when there were none), and forget them.
   * `timeNs()` then gives the sample's time: the middle of the span the readings covered.
   */
  take(): number {
    const n = this.n;
    if (n === 0) return Number.NaN;
    const cap = this.values.length;
    const s = this.scratch;
    for (let i = 0; i < n; i++) s[i] = this.values[(this.head - n + i + cap) % cap]!;
    const sorted = s.subarray(0, n).sort();
    const mid = n >> 1;
    const med = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    this.sampleNs = (this.firstNs + this.lastNs) / 2;
    this.n = 0;
    return med;
  }

  /** Time of the last sample taken (middle of its readings), ns. */
  sampleNs = 0;
}
