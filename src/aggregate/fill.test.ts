import { describe, expect, it } from "vitest";
import { NS_PER_S } from "../clock/clock.js";
import { FillingSpeed, fillPercent, PickupDetector } from "./fill.js";

const H = 3600 * NS_PER_S;

describe("bin fill", () => {
  it("ORACLE (DOMAIN.md §3): H_empty 1000 mm, d_full 300 mm, d = 650 mm → 50 %", () => {
    expect(fillPercent(1000, 300, 650)).toBe(50);
  });

  it("clamps to 0–100 %", () => {
    expect(fillPercent(1000, 300, 1200)).toBe(0);
    expect(fillPercent(1000, 300, 200)).toBe(100);
  });

  it("a pickup is a large drop below the low threshold confirmed by a second reading", () => {
    const seen: [number, number, number][] = [];
    const d = new PickupDetector(30, 10, (t, b, a) => seen.push([t, b, a]));
    for (const [f, t] of [
      [70, 1],
      [75, 2],
      [3, 3],
      [4, 4],
      [10, 5],
      [60, 6],
      [2, 7],
      [65, 8],
      [70, 9],
    ] as const)
      d.reading(f, t);
    // the drop at 3 is confirmed at 4; the drop at 7 is followed by 65: a glitch, not a pickup
    expect(seen).toEqual([[3, 75, 3]]);
    expect(d.count).toBe(1);
  });

  it("filling speed is the cycle's slope in %/day, and forecasts the full time", () => {
    const s = new FillingSpeed(6 * H);
    for (let h = 0; h <= 12; h++) s.reading(10 + 2 * h, h * H); // 2 %/h = 48 %/day
    expect(s.speed()).toBeCloseTo(48, 6);
    const at = s.forecast(34, 12 * H, 82);
    expect(at / H).toBeCloseTo(36, 6);
    s.reset();
    expect(s.speed()).toBeCloseTo(48, 6); // the finished cycle's speed stands until the new one spans 6 h
  });
});
