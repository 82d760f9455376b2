import { describe, expect, it } from "vitest";
import { gFactorSpeed, irisDensityPerMile, MS_PER_MPH, M_PER_FOOT, pemsSpeedMph, TRAP_RULES, trapLength, trapSpeed } from "./loop-speed.js";

const s = (x: number) => x * 1e9;

describe("speed trap (DOMAIN.md §1 dual loop)", () => {
  it("ORACLE: loop 1.8 m, spacing 6.0 m, up 0.000/0.252 s, down 0.240/0.492 s → 25.0 m/s (90 km/h), 4.50 m", () => {
    const v = trapSpeed(s(0), s(0.252), s(0.24), s(0.492), 6.0);
    expect(v).toBeCloseTo(25.0, 9);
    expect(v * 3.6).toBeCloseTo(90, 9);
    expect(trapLength(v, s(0.252), s(0.252), 1.8)).toBeCloseTo(4.5, 9);
  });

  it("averages the leading- and trailing-edge transit times, so a card switching off late on one loop cancels", () => {
    // trailing edge of the downstream loop 10 ms late: lead 0.240, trail 0.250 → Δt 0.245
    expect(trapSpeed(s(0), s(0.252), s(0.24), s(0.502), 6.0)).toBeCloseTo(6 / 0.245, 9);
  });

  it("counts but gives no speed when on-times disagree by more than 10 % (IRIS)", () => {
    // 0.252 vs 0.290: 14 % apart
    expect(trapSpeed(s(0), s(0.252), s(0.24), s(0.53), 6)).toBeNaN();
    // 0.252 vs 0.270: 6.9 % apart: valid
    expect(trapSpeed(s(0), s(0.252), s(0.24), s(0.51), 6)).not.toBeNaN();
  });

  it("rejects on-times below 20 ms", () => {
    expect(trapSpeed(s(0), s(0.019), s(0.2), s(0.219), 6)).toBeNaN();
    expect(trapSpeed(s(0), s(0.021), s(0.2), s(0.221), 6)).toBeCloseTo(30, 6);
  });

  it("keeps speeds between 5 and 120 mph only", () => {
    const at = (mph: number) => {
      const v = mph * MS_PER_MPH;
      const dt = 6 / v;
      const on = 6.3 / v;
      return trapSpeed(s(0), s(on), s(dt), s(dt + on), 6);
    };
    expect(at(4.9)).toBeNaN();
    expect(at(5.1)).toBeCloseTo(5.1 * MS_PER_MPH, 6);
    expect(at(119.9)).toBeCloseTo(119.9 * MS_PER_MPH, 6);
    expect(at(120.5)).toBeNaN();
    expect(TRAP_RULES.maxSpeedMs).toBeCloseTo(53.6448, 4);
  });

  it("needs the downstream loop after the upstream one on both edges", () => {
    expect(trapSpeed(s(0.24), s(0.492), s(0), s(0.252), 6)).toBeNaN();
  });

  it("gives no length outside (0, 255 ft]", () => {
    expect(trapLength(25, s(0.05), s(0.05), 1.8)).toBeNaN(); // 1.25 m − 1.8 m < 0
    expect(trapLength(25, s(3.2), s(3.2), 1.8)).toBeNaN(); // 78.2 m
    expect(trapLength(25, s(3.1), s(3.1), 1.8)).toBeCloseTo(75.7, 9);
  });
});

describe("single loop g-factor speed (DOMAIN.md §1)", () => {
  it("ORACLE PeMS 5-minute form: vol 100, occ 0.10, g 22 ft → 50 mph", () => {
    expect(pemsSpeedMph(100, 0.1, 22)).toBeCloseTo(50, 9);
  });

  it("ORACLE IRIS 30 s form: 10 veh/30 s, occ 10 %, g 22 ft → 24 veh/mi, 50 mph", () => {
    expect(irisDensityPerMile(10, 22)).toBeCloseTo(24, 9);
    const flowPerHour = 10 * 120;
    expect(flowPerHour / irisDensityPerMile(10, 22)).toBeCloseTo(50, 9);
  });

  it("the device's form (m/s, any window) agrees with both", () => {
    const g = 22 * M_PER_FOOT;
    expect(gFactorSpeed(10, 30, 0.1, g) / MS_PER_MPH).toBeCloseTo(50, 9);
    expect(gFactorSpeed(100, 300, 0.1, g) / MS_PER_MPH).toBeCloseTo(50, 9);
  });

  it("gives no estimate at or below 1.2 veh/mi, or without vehicles or occupancy", () => {
    const g = 22 * M_PER_FOOT;
    // occupancy giving exactly 1.2 veh/mi: occ = 1.2 · g / 1609.344
    const occAt = (perMile: number) => (perMile * g) / 1609.344;
    expect(gFactorSpeed(1, 30, occAt(1.2), g)).toBeNaN();
    expect(gFactorSpeed(1, 30, occAt(1.3), g)).not.toBeNaN();
    expect(gFactorSpeed(0, 30, 0.1, g)).toBeNaN();
    expect(gFactorSpeed(5, 30, 0, g)).toBeNaN();
  });
});
