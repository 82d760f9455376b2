import { describe, expect, it } from "vitest";
import { laneRig, S } from "../../test/helpers/lane.js";
import { Rng } from "../sim/rng.js";
import type { Window } from "../clock/windows.js";
import { WindowBuckets } from "./buckets.js";

const win = (i: number, L = 60 * S): Window => ({
  lengthS: L / S,
  startNs: i * L,
  endNs: (i + 1) * L,
  startWallMs: (i * L) / 1e6,
  endWallMs: ((i + 1) * L) / 1e6,
  index: i,
  partial: false,
  clockJump: false,
  synced: true,
});

describe("window membership by timestamp, whatever the timers do (issue 14)", () => {
  it("an edge stamped on the boundary that arrives before the boundary timer counts in the new window", () => {
    const r = laneRig({}, { windowS: 60 });
    r.pulse(0, 30 * S, 30.4 * S);
    // the kernel stamped the edge at 60.000 s; the rotation has not run yet (a cron tick runs a few ms late)
    r.driver.edge(0, 1, 60 * S);
    r.driver.edge(0, 0, 60.3 * S);
    r.until(120 * S);
    expect(r.window(0)["volume"]).toBe(1);
    expect(r.window(0)["occupancy"]).toBeCloseTo(0.4 / 60, 6);
    expect(r.window(1)["volume"]).toBe(1);
    expect(r.window(1)["occupancy"]).toBeCloseTo(0.3 / 60, 6);
  });

  it("fuzz: vehicles around boundaries whose edges arrive before the rotation give the same windows as in-order delivery", () => {
    const seed = 1414;
    const rng = new Rng(seed);
    const L = 20;
    // vehicles: on at t, off at t + on-time; some cross a boundary, some start exactly on one
    const vs: [number, number][] = [];
    for (let i = 1; i < 30; i++) {
      const b = i * L;
      const t = rng.next() < 0.3 ? b : b - 0.5 + rng.next();
      vs.push([t, t + 0.1 + rng.next() * 0.3]);
    }
    const run = (early: boolean) => {
      const r = laneRig({}, { windowS: L });
      for (const [on, off] of vs) {
        if (early) {
          // both edges delivered before any boundary timer at or after the leading edge has run
          r.until(Math.round(on * S) - 0.6 * S - 1);
          r.driver.edge(0, 1, Math.round(on * S));
          r.driver.edge(0, 0, Math.round(off * S));
        } else r.pulse(0, Math.round(on * S), Math.round(off * S));
      }
      r.until(31 * L * S);
      return Array.from({ length: 30 }, (_, i) => [r.window(i)["volume"], r.window(i)["occupancy"]]);
    };
    expect(run(true), `seed ${seed}`).toEqual(run(false));
  });

  it("a sample stamped in a window already published is left out, not moved into the current one", () => {
    const b = new WindowBuckets<{ n: number }>(() => ({ n: 0 }));
    const w = [0, 1, 2, 3].map((i) => win(i));
    b.open(w[0]!);
    b.rotate(w[0]!, w[1]!);
    expect(b.take(w[0]!)).toEqual({ n: 0 });
    expect(b.at(30 * S)).toBeUndefined();
    expect(b.late).toBe(1);
    b.at(61 * S)!.n++;
    // stamped after the current window's end, delivered before the rotation
    b.at(120 * S)!.n++;
    b.rotate(w[1]!, w[2]!);
    expect(b.take(w[1]!)).toEqual({ n: 1 });
    b.rotate(w[2]!, w[3]!);
    expect(b.take(w[2]!)).toEqual({ n: 1 });
  });
});
