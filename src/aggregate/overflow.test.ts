import { describe, expect, it } from "vitest";
import { OverflowDetector } from "./overflow.js";

function run(depths: number[], confirm = 3) {
  const ev: string[] = [];
  const d = new OverflowDetector({ alertMm: 800, spillMm: 1000, hysteresisMm: 20, confirm }, (kind, edge, t, c) =>
    ev.push(`${kind}-${edge}@${t}/${c}`),
  );
  depths.forEach((x, i) => {
    d.sample(x, i * 10);
  });
  return { ev, state: d.state };
}

describe("overflow states with hysteresis and N-sample confirmation", () => {
  it("confirms after N samples and backdates to the threshold crossing", () => {
    // 700 → 900 crosses 800 a half-step after t=0; 900 → 1100 crosses 1000 at t=15
    const { ev, state } = run([700, 900, 900, 900, 1100, 1100, 1100]);
    expect(ev).toEqual(["alert-start@5/30", "spill-start@35/60"]);
    expect(state).toBe("spill");
  });

  it("ignores a wave shorter than N samples", () => {
    expect(run([900, 1010, 1010, 990, 1010, 990, 990]).ev).toEqual(["alert-start@0/20"]);
  });

  it("stays in spill inside the hysteresis band, and ends where the level left the crest", () => {
    const { ev } = run([1050, 1050, 1050, 990, 985, 990, 985, 960, 950, 940]);
    // 990/985 are inside crest − 20: still spilling; confirmed by 960, 950, 940, the end is dated where
    // the level crossed the crest between 1050 at t=20 and 990 at t=30
    expect(ev.slice(0, 2)).toEqual(["alert-start@0/20", "spill-start@0/20"]);
    expect(ev[2]).toMatch(/^spill-end@28\.33+\d*\/90$/);
    expect(ev.length).toBe(3);
  });

  it("a fast drop from spill to normal ends both states", () => {
    const { ev, state } = run([1100, 1100, 1100, 500, 500, 500]);
    // 1100 at t=20 → 500 at t=30: the crest (1000) is crossed at 21.7, the alert level (800) at 25
    expect(ev[2]).toMatch(/^spill-end@21\.66+\d*\/50$/);
    expect(ev[3]).toBe("alert-end@25/50");
    expect(state).toBe("normal");
  });
});
