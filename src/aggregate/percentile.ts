/**
 * Speed statistics over a window's vehicles. Traffic engineering uses two means (DOMAIN.md §1):
 * the time-mean speed (what a spot observer averages) and the space-mean speed (harmonic mean: what
 * flow = density × speed needs). ORACLE: {20, 30} m/s → TMS 25, SMS 24.
 */

/** Arithmetic mean of the first n values. NaN when n = 0. */
export function timeMeanSpeed(speeds: ArrayLike<number>, n: number): number {
  if (n <= 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += speeds[i]!;
  return s / n;
}

/** Harmonic mean n / Σ(1/vᵢ) of the first n values. NaN when n = 0. */
export function spaceMeanSpeed(speeds: ArrayLike<number>, n: number): number {
  if (n <= 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += 1 / speeds[i]!;
  return n / s;
}

/**
 * The p-th percentile (0–1) of the first n values of an ascending array, interpolated linearly
 * between order statistics (Hyndman–Fan type 7: Excel's PERCENTILE.INC, numpy's default), so the
 * 85th-percentile speed matches what an engineer computes from the same speeds in a spreadsheet.
 */
export function percentileSorted(sorted: ArrayLike<number>, n: number, p: number): number {
  if (n <= 0) return NaN;
  if (n === 1) return sorted[0]!;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = lo + 1 < n ? lo + 1 : lo;
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** The p-th percentile of the first n values of any array (copies, sorts, interpolates). */
export function percentile(values: ArrayLike<number>, n: number, p: number): number {
  const a = Float64Array.from({ length: n }, (_, i) => values[i]!);
  a.sort();
  return percentileSorted(a, n, p);
}
