import { describe, expect, it } from "vitest";
import { Rng } from "../sim/rng.js";
import { PulseFilter } from "./pulse-filter.js";

const MS = 1e6;

function rig(widthMs = 10, initial: 0 | 1 = 0) {
  const out: [string, number][] = [];
  const f = new PulseFilter(widthMs * MS, widthMs * MS, { on: (t) => out.push(["on", t]), off: (t) => out.push(["off", t]) }, initial);
  return { f, out };
}

describe("PulseFilter (minimum pulse width)", () => {
  it("passes a clean pulse with its exact edge times", () => {
    const { f, out } = rig();
    f.edge(1, 100 * MS);
    f.edge(0, 350 * MS);
    f.flush(400 * MS);
    expect(out).toEqual([
      ["on", 100 * MS],
      ["off", 350 * MS],
    ]);
  });

  it("drops a spike shorter than the width and counts it as a glitch", () => {
    const { f, out } = rig();
    f.edge(1, 100 * MS);
    f.edge(0, 100.4 * MS);
    f.flush(1000 * MS);
    expect(out).toEqual([]);
    expect(f.glitches).toBe(1);
  });

  it("reports a bouncing switch at its first contact, not its last", () => {
    const { f, out } = rig();
    // relay closes at 100 ms and bounces for 1.2 ms; opens at 400 ms and bounces again
    for (const [lvl, t] of [
      [1, 100],
      [0, 100.3],
      [1, 100.6],
      [0, 100.9],
      [1, 101.2],
      [0, 400],
      [1, 400.4],
      [0, 400.8],
    ] as const) {
      f.edge(lvl, t * MS);
    }
    f.flush(500 * MS);
    expect(out).toEqual([
      ["on", 100 * MS],
      ["off", 400 * MS],
    ]);
    expect(f.glitches).toBe(3);
  });

  it("does not take an old spike for the start of a later change", () => {
    const { f, out } = rig();
    f.edge(1, 100 * MS);
    f.edge(0, 100.1 * MS); // noise
    f.edge(1, 2000 * MS); // a vehicle, long after
    f.edge(0, 2300 * MS);
    f.flush(3000 * MS);
    expect(out).toEqual([
      ["on", 2000 * MS],
      ["off", 2300 * MS],
    ]);
  });

  it("counts a repeated level as a lost edge and keeps its state", () => {
    const { f, out } = rig();
    f.edge(0, 50 * MS);
    expect(f.dropped).toBe(1);
    f.edge(1, 100 * MS);
    f.edge(1, 150 * MS);
    expect(f.dropped).toBe(2);
    f.edge(0, 300 * MS);
    f.flush(400 * MS);
    expect(out).toEqual([
      ["on", 100 * MS],
      ["off", 300 * MS],
    ]);
  });

  it("confirms a held change on flush only once it has held the width", () => {
    const { f, out } = rig();
    f.edge(1, 100 * MS);
    f.flush(105 * MS);
    expect(out).toEqual([]);
    expect(f.pendingSince()).toBe(100 * MS);
    f.flush(110 * MS);
    expect(out).toEqual([["on", 100 * MS]]);
    expect(f.level).toBe(1);
  });

  it("with width 0 accepts every change at once", () => {
    const { f, out } = rig(0);
    f.edge(1, 1);
    f.edge(0, 2);
    expect(out).toEqual([
      ["on", 1],
      ["off", 2],
    ]);
  });

  const SEED = 20260105;
  it(`bounce never becomes a vehicle and never moves an edge (property, seed ${SEED})`, () => {
    const rng = new Rng(SEED);
    for (let trial = 0; trial < 200; trial++) {
      const { f, out } = rig(10);
      const truth: [string, number][] = [];
      let t = 1000 * MS;
      let level: 0 | 1 = 0;
      const n = rng.int(1, 30);
      for (let i = 0; i < 2 * n; i++) {
        level = (1 - level) as 0 | 1;
        truth.push([level ? "on" : "off", t]);
        f.edge(level, t);
        // 0–4 bounces within 2 ms
        let bt = t;
        for (let b = rng.int(0, 4); b > 0; b--) {
          bt += rng.uniform(0.02, 0.5) * MS;
          f.edge((1 - level) as 0 | 1, bt);
          bt += rng.uniform(0.02, 0.5) * MS;
          f.edge(level, bt);
        }
        t += rng.uniform(15, 3000) * MS;
      }
      f.flush(t + 100 * MS);
      expect(out, `seed ${SEED} trial ${trial}`).toEqual(truth);
    }
  });
});
