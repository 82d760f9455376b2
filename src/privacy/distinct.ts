import { HyperLogLog } from "./hll.js";

/**
 * Distinct tokens of one window: an exact set while it is small, a HyperLogLog sketch once it holds
 * more than `exactLimit` tokens (the set's tokens move into the sketch, and the set is dropped).
 * Exact below the limit; above it, within the sketch's error 1.04/√m.
 */
export class DistinctCounter {
  private set: Set<number> | undefined;
  private hll: HyperLogLog | undefined;

  constructor(
    private readonly exactLimit: number,
    private readonly precision: number,
  ) {
    if (exactLimit > 0) this.set = new Set();
    else this.hll = new HyperLogLog(precision);
  }

  add(token: number): void {
    if (this.set) {
      this.set.add(token);
      if (this.set.size > this.exactLimit) {
        const hll = new HyperLogLog(this.precision);
        for (const t of this.set) hll.add(t);
        this.set.clear();
        this.set = undefined;
        this.hll = hll;
      }
      return;
    }
    this.hll!.add(token);
  }

  /** True while the count is exact (set mode). */
  get exact(): boolean {
    return this.set !== undefined;
  }

  /** Distinct tokens added: exact in set mode, an estimate in sketch mode. */
  count(): number {
    return this.set ? this.set.size : this.hll!.estimate();
  }

  /** Forget every token (zeroes the sketch's registers). */
  clear(): void {
    this.set?.clear();
    this.hll?.clear();
  }
}
