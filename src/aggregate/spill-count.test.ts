import { describe, expect, it } from "vitest";
import { NS_PER_S } from "../clock/clock.js";
import { Rng } from "../sim/rng.js";
import { count1224 } from "../../test/helpers/decode.js";
import type { SpillSequence } from "./spill-count.js";
import { SpillCounter } from "./spill-count.js";

const H = 3600 * NS_PER_S;

describe("UK 12/24 spill counting", () => {
  it("ORACLE (DOMAIN.md §2): discharges at t = 0, 10, 30, 80 h → 3 spills", () => {
    const seqs: SpillSequence[] = [];
    const c = new SpillCounter({ onSequenceEnd: (s) => seqs.push(s) });
    for (const h of [0, 10, 30, 80]) {
      c.start(h * H);
      c.end(h * H);
    }
    c.advance(200 * H);
    expect(c.total).toBe(3);
    // blocks [0,12) and [12,36) had discharges, [36,60) none: ended at 36 h with 2 spills; [80,92) then [92,116) empty
    expect(seqs.map((s) => [s.startNs / H, s.endNs / H, s.spills])).toEqual([
      [0, 36, 2],
      [80, 92, 1],
    ]);
  });

  it("a discharge lasting across block boundaries counts once per block it touches", () => {
    const c = new SpillCounter();
    c.start(0);
    c.advance(11 * H);
    c.advance(13 * H); // into block 2 while discharging
    c.end(40 * H); // into block 3 [36, 60)
    c.advance(100 * H);
    expect(c.total).toBe(3);
    expect(c.inSequence).toBe(false);
  });

  it("a 24 h block without discharge ends a sequence; a discharge right after starts a new 12 h block", () => {
    const c = new SpillCounter();
    c.start(0);
    c.end(1 * H);
    c.start(36 * H + 1); // block [12,36) was empty: the sequence ended at 36 h
    c.end(37 * H);
    expect(c.total).toBe(2);
    expect(c.sequenceSpills).toBe(1);
  });

  const SEED = 1224;
  it(`matches an independent batch count on random discharge histories (seed ${SEED})`, () => {
    const rng = new Rng(SEED);
    for (let run = 0; run < 300; run++) {
      const periods: { startH: number; endH: number }[] = [];
      let t = rng.uniform(0, 20);
      const n = rng.int(1, 12);
      for (let k = 0; k < n; k++) {
        const dur = rng.chance(0.2) ? 0 : rng.exponential(3);
        periods.push({ startH: t, endH: t + dur });
        t += dur + rng.exponential(20) + 0.01;
      }
      const c = new SpillCounter();
      for (const p of periods) {
        c.start(p.startH * H);
        c.end(p.endH * H);
      }
      c.advance((t + 100) * H);
      expect(c.total, `seed ${SEED} run ${run}: ${JSON.stringify(periods)}`).toBe(count1224(periods));
    }
  });
});
