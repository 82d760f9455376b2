import { describe, expect, it } from "vitest";
import { Rng } from "../sim/rng.js";
import { DistinctCounter } from "./distinct.js";
import { hllRse, HyperLogLog } from "./hll.js";

/** A seeded stream of uniform 52-bit hashes (what window tokens look like). */
function hashes(seed: number): () => number {
  const rng = new Rng(seed);
  return () => Math.floor(rng.next() * 0x100000) * 0x100000000 + Math.floor(rng.next() * 0x100000000);
}

describe("HyperLogLog", () => {
  it("documents its error as 1.04/√m (ORACLE p = 12 → 1.625 %, p = 14 → 0.8125 %)", () => {
    expect(hllRse(12)).toBeCloseTo(0.01625, 10);
    expect(hllRse(14)).toBeCloseTo(0.008125, 10);
  });

  it("rejects precisions outside 4…18", () => {
    expect(() => new HyperLogLog(3)).toThrow(/4 to 18/);
    expect(() => new HyperLogLog(19)).toThrow(/4 to 18/);
    expect(() => new HyperLogLog(12.5)).toThrow(/integer/);
  });

  it("estimates 0 when empty, counts duplicates once, and clears", () => {
    const h = new HyperLogLog(12);
    expect(h.estimate()).toBe(0);
    const next = hashes(1);
    const xs = Array.from({ length: 500 }, next);
    for (let r = 0; r < 5; r++) for (const x of xs) h.add(x);
    expect(Math.abs(h.estimate() - 500)).toBeLessThan(500 * 4 * hllRse(12));
    h.clear();
    expect(h.estimate()).toBe(0);
    expect(h.bytes).toBe(4096);
  });

  // Per precision and cardinality, many seeded sketches: the mean relative error is ~0 (no bias,
  // also in the small and mid range where the classic estimator needs corrections) and the spread
  // matches 1.04/√m within 20 %.
  for (const p of [12, 14]) {
    for (const n of [100, 1_000, 10_000, 100_000]) {
      const trials = n >= 100_000 ? 12 : 40;
      it(`p = ${p}, n = ${n}: unbiased, relative error ≈ ${(hllRse(p) * 100).toFixed(4)} % (${trials} trials, seeds 1…${trials})`, () => {
        const errs: number[] = [];
        for (let s = 1; s <= trials; s++) {
          const h = new HyperLogLog(p);
          const next = hashes(s * 7919 + n);
          for (let i = 0; i < n; i++) h.add(next());
          errs.push(h.estimate() / n - 1);
        }
        const mean = errs.reduce((a, b) => a + b, 0) / trials;
        const sd = Math.sqrt(errs.reduce((a, b) => a + (b - mean) ** 2, 0) / (trials - 1));
        const rse = hllRse(p);
        // small n: the sketch is nearly exact (few collisions in the registers), so only an upper bound
        expect(Math.abs(mean), `mean relative error ${mean}`).toBeLessThan(4 * (rse / Math.sqrt(trials)) + 0.002);
        expect(sd, `sd of relative error ${sd}`).toBeLessThan(rse * 1.2 + (n >= 100_000 ? rse * 0.3 : 0));
        if (n >= 10 * 2 ** p) expect(sd).toBeGreaterThan(rse * 0.6);
      });
    }
  }
});

describe("DistinctCounter", () => {
  it("is exact up to the limit and switches to HyperLogLog above it, keeping what it counted", () => {
    const c = new DistinctCounter(1000, 14);
    const next = hashes(99);
    const xs = Array.from({ length: 1000 }, next);
    for (const x of xs) {
      c.add(x);
      c.add(x);
    }
    expect(c.exact).toBe(true);
    expect(c.count()).toBe(1000);
    for (let i = 0; i < 9000; i++) c.add(next());
    expect(c.exact).toBe(false);
    expect(Math.abs(c.count() - 10_000)).toBeLessThan(10_000 * 4 * hllRse(14));
    c.clear();
    expect(c.count()).toBe(0);
  });

  it("with limit 0 estimates from the start", () => {
    const c = new DistinctCounter(0, 12);
    expect(c.exact).toBe(false);
    const next = hashes(5);
    for (let i = 0; i < 3000; i++) c.add(next());
    expect(Math.abs(c.count() - 3000)).toBeLessThan(3000 * 4 * hllRse(12));
  });
});
