import { describe, expect, it } from "vitest";
import { Rng } from "../sim/rng.js";
import { backoffDelay } from "./backoff.js";

const SEED = 1000;

describe(`backoffDelay: full jitter (seed ${SEED})`, () => {
  it("stays below min·2^attempt, capped at max", () => {
    const rng = new Rng(SEED);
    for (let attempt = 0; attempt < 40; attempt++) {
      for (let i = 0; i < 100; i++) {
        const d = backoffDelay(attempt, 2000, 300_000, () => rng.next());
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(Math.min(300_000, 2000 * 2 ** attempt));
      }
    }
  });

  it("spreads 1,000 devices' first reconnects evenly over the first ceiling", () => {
    const rng = new Rng(SEED);
    const delays = Array.from({ length: 1000 }, () => backoffDelay(0, 2000, 300_000, () => rng.next()));
    const buckets = new Array<number>(20).fill(0);
    for (const d of delays) buckets[Math.floor(d / 100)]!++;
    // uniform: 50 per 100 ms on average; no 100 ms slot gets more than twice that
    expect(Math.max(...buckets)).toBeLessThanOrEqual(100);
    expect(Math.min(...buckets)).toBeGreaterThanOrEqual(20);
  });
});
