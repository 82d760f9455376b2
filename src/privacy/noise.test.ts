import { describe, expect, it } from "vitest";
import { Rng } from "../sim/rng.js";
import { CountNoise, cryptoUniform, geometricAlpha, laplaceScale, noiseStd, sampleLaplace, sampleTwoSidedGeometric } from "./noise.js";

const SEED = 424242;
const seeded = (seed: number) => {
  const r = new Rng(seed);
  // open interval (0, 1): the seeded generator can return 0
  return () => (r.next() * 4294967295 + 0.5) / 4294967296;
};

function stats(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, sd: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) };
}

describe(`noise (seed ${SEED})`, () => {
  const oracle = { mechanism: "laplace" as const, epsilon: 1, sensitivity: 1 };

  it("Laplace scale b = Δ/ε; ORACLE ε = 1, Δ = 1 → std √2", () => {
    expect(laplaceScale(oracle)).toBe(1);
    expect(laplaceScale({ ...oracle, epsilon: 0.5, sensitivity: 2 })).toBe(4);
    expect(noiseStd(oracle)).toBeCloseTo(Math.SQRT2, 12);
    expect(noiseStd({ ...oracle, mechanism: "none" })).toBe(0);
  });

  it("Laplace samples: std √2 ≈ 1.414 and P(|X| > 3) = e^−3 ≈ 0.0498 (ORACLE), over 400,000 draws", () => {
    const u = seeded(SEED);
    const n = 400_000;
    const xs = Array.from({ length: n }, () => sampleLaplace(1, u));
    const { mean, sd } = stats(xs);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(sd).toBeGreaterThan(Math.SQRT2 * 0.99);
    expect(sd).toBeLessThan(Math.SQRT2 * 1.01);
    const tail = xs.filter((x) => Math.abs(x) > 3).length / n;
    // binomial sd of the tail share: √(p(1−p)/n) ≈ 0.00034
    expect(Math.abs(tail - Math.exp(-3))).toBeLessThan(0.0015);
  });

  it("two-sided geometric: α = e^−ε/Δ, P(X = x) ∝ α^|x|, variance 2α/(1−α)²", () => {
    const s = { mechanism: "geometric" as const, epsilon: 1, sensitivity: 1 };
    const a = geometricAlpha(s);
    expect(a).toBeCloseTo(Math.exp(-1), 12);
    expect(noiseStd(s)).toBeCloseTo(Math.sqrt(2 * a) / (1 - a), 12);
    const u = seeded(SEED + 1);
    const n = 400_000;
    const xs = Array.from({ length: n }, () => sampleTwoSidedGeometric(a, u));
    expect(xs.every(Number.isInteger)).toBe(true);
    const { mean, sd } = stats(xs);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(sd / noiseStd(s) - 1)).toBeLessThan(0.01);
    // P(X = 0) = (1 − α)/(1 + α)
    const p0 = xs.filter((x) => x === 0).length / n;
    expect(Math.abs(p0 - (1 - a) / (1 + a))).toBeLessThan(0.003);
    // P(|X| > 3) = 2α⁴/(1 + α)
    const tail = xs.filter((x) => Math.abs(x) > 3).length / n;
    expect(Math.abs(tail - (2 * a ** 4) / (1 + a))).toBeLessThan(0.0015);
  });

  it("CountNoise: none is the identity on whole counts; others are whole counts around the value", () => {
    expect(new CountNoise({ mechanism: "none", epsilon: 1, sensitivity: 1 }).apply(41.6)).toBe(42);
    const lap = new CountNoise(oracle, seeded(SEED + 2));
    const geo = new CountNoise({ ...oracle, mechanism: "geometric" }, seeded(SEED + 3));
    const a = Array.from({ length: 20_000 }, () => lap.apply(100));
    const g = Array.from({ length: 20_000 }, () => geo.apply(100));
    for (const xs of [a, g]) {
      expect(xs.every(Number.isInteger)).toBe(true);
      expect(Math.abs(stats(xs).mean - 100)).toBeLessThan(0.05);
    }
    // Laplace rounded to whole counts: variance 2b² + 1/12
    expect(Math.abs(stats(a).sd - Math.sqrt(2 + 1 / 12))).toBeLessThan(0.04);
    expect(() => new CountNoise({ mechanism: "laplace", epsilon: 0, sensitivity: 1 })).toThrow(/epsilon/);
  });

  it("the CSPRNG source is uniform on (0, 1) and never repeats", () => {
    const u = cryptoUniform();
    const xs = Array.from({ length: 50_000 }, u);
    expect(xs.every((x) => x > 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBe(xs.length);
    expect(Math.abs(stats(xs).mean - 0.5)).toBeLessThan(0.01);
  });
});

describe("the manifest states each published measure's noise (issue 14)", () => {
  it("devices is the sum of two noised cells: std √2 times one cell's (ORACLE ε = 1: 1.36 → 1.92 geometric)", async () => {
    const { noiseNotes } = await import("./disclosure.js");
    const { noiseStd } = await import("./noise.js");
    const s = { mechanism: "geometric" as const, epsilon: 1, sensitivity: 1 };
    const one = noiseStd(s);
    expect(one).toBeCloseTo(1.36, 2);
    const n = noiseNotes(s);
    expect(n.sum2).toContain(`std ${Math.round(one * Math.SQRT2 * 100) / 100}`);
    expect(n.sum2).toContain("std 1.92");
    expect(n.once).toContain("std 1.36");
    expect(noiseNotes({ mechanism: "none", epsilon: 1, sensitivity: 1 }).sum2).toBe("no noise added");
  });
});
