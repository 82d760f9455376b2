import { describe, expect, it } from "vitest";
import { percentile, percentileSorted, spaceMeanSpeed, timeMeanSpeed } from "./percentile.js";

describe("speed statistics", () => {
  it("ORACLE: speeds {20, 30} m/s → TMS 25, SMS 24", () => {
    expect(timeMeanSpeed([20, 30], 2)).toBe(25);
    expect(spaceMeanSpeed([20, 30], 2)).toBeCloseTo(24, 12);
  });

  it("space-mean speed is the harmonic mean: never above the time-mean speed", () => {
    const v = [12, 25, 31, 8, 19];
    expect(spaceMeanSpeed(v, 5)).toBeLessThan(timeMeanSpeed(v, 5));
    expect(spaceMeanSpeed([17, 17, 17], 3)).toBeCloseTo(17, 12);
  });

  it("85th percentile interpolates like Excel PERCENTILE.INC", () => {
    // PERCENTILE.INC({1..10}, 0.85) = 8.65
    expect(percentileSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 10, 0.85)).toBeCloseTo(8.65, 12);
    expect(percentile([30, 10, 20], 3, 0.5)).toBe(20);
    expect(percentileSorted([42], 1, 0.85)).toBe(42);
    expect(percentileSorted([], 0, 0.85)).toBeNaN();
  });

  it("uses only the first n values of a larger buffer", () => {
    const buf = new Float64Array([20, 30, 999, 999]);
    expect(timeMeanSpeed(buf, 2)).toBe(25);
    expect(percentileSorted(buf, 2, 1)).toBe(30);
  });
});
