import { describe, expect, it } from "vitest";
import { Rng } from "../sim/rng.js";
import { fingerprint, SeqTracker } from "./sequence.js";

const fp = (seq: number): number => fingerprint(`traffic:lane1:${seq * 60_000}`);

describe("SeqTracker", () => {
  it("accepts the next number, reports a jump as a gap with its range, and a late arrival fills it", () => {
    const t = new SeqTracker();
    expect(t.observe(10, fp(10)).check).toBe("first");
    expect(t.observe(11, fp(11)).check).toBe("ok");
    expect(t.observe(15, fp(15))).toEqual({ check: "gap", from: 12, to: 14 });
    expect(t.missing).toBe(3);
    expect(t.observe(13, fp(13)).check).toBe("late");
    expect(t.missingRanges()).toEqual([
      [12, 12],
      [14, 14],
    ]);
    expect(t.observe(12, fp(12)).check).toBe("late");
    expect(t.observe(14, fp(14)).check).toBe("late");
    expect(t.missing).toBe(0);
    expect(t.observe(16, fp(16)).check).toBe("ok");
    expect({ gaps: t.gaps, missingTotal: t.missingTotal, late: t.late, duplicates: t.duplicates }).toEqual({
      gaps: 1,
      missingTotal: 3,
      late: 3,
      duplicates: 0,
    });
  });

  it("calls a repeated number with the same stream and window a redelivery", () => {
    const t = new SeqTracker();
    t.observe(1, fp(1));
    t.observe(2, fp(2));
    expect(t.observe(2, fp(2)).check).toBe("duplicate");
    expect(t.observe(1, fp(1)).check).toBe("duplicate");
    expect(t.duplicates).toBe(2);
    expect(t.highest).toBe(2);
  });

  it("calls a repeated number with another stream or window a restarted counter, not a redelivery", () => {
    const t = new SeqTracker();
    for (let s = 1; s <= 40; s++) t.observe(s, fp(s));
    // the device lost its state folder and counts from 1 again, for newer windows
    expect(t.observe(1, fingerprint("traffic:lane1:99999999"))).toEqual({ check: "reset", previous: 40 });
    expect(t.observe(2, fingerprint("traffic:lane2:99999999")).check).toBe("ok");
    expect(t.resets).toBe(1);
  });

  it("calls a small number far below the highest a restart even when it is too old to compare", () => {
    const t = new SeqTracker();
    for (let s = 1; s <= 2000; s++) t.observe(s, fp(s));
    expect(t.observe(1, fingerprint("other")).check).toBe("reset");
    expect(t.highest).toBe(1);
  });

  it("numbers before the first one seen (a backlog arriving out of order) are news, not redeliveries", () => {
    const t = new SeqTracker();
    t.observe(100, fp(100));
    expect(t.observe(98, fp(98)).check).toBe("late");
    expect(t.observe(98, fp(98)).check).toBe("duplicate");
  });

  const seed = 20260105;
  it(`fuzz (seed ${seed}): shuffled, duplicated and dropped deliveries add up`, () => {
    const rng = new Rng(seed);
    for (let round = 0; round < 50; round++) {
      const n = rng.int(20, 400);
      const dropped = new Set<number>();
      const deliveries: number[] = [];
      for (let s = 1; s <= n; s++) {
        if (s > 1 && rng.chance(0.05)) {
          dropped.add(s);
          continue;
        }
        deliveries.push(s);
        if (rng.chance(0.05)) deliveries.push(s); // redelivered at once
      }
      // a little reordering: swap neighbours (in-flight window)
      for (let i = 1; i < deliveries.length; i++) {
        if (rng.chance(0.05)) [deliveries[i - 1], deliveries[i]] = [deliveries[i]!, deliveries[i - 1]!];
      }
      const t = new SeqTracker();
      const seen = new Set<number>();
      let news = 0;
      for (const s of deliveries) {
        const r = t.observe(s, fp(s));
        if (r.check === "duplicate") expect(seen.has(s), `seed ${seed} round ${round}: ${s} called a duplicate but never seen`).toBe(true);
        else {
          expect(seen.has(s), `seed ${seed} round ${round}: ${s} seen before but not called a duplicate (${r.check})`).toBe(false);
          news++;
        }
        seen.add(s);
        expect(r.check, `seed ${seed} round ${round}`).not.toBe("reset");
      }
      expect(news, `seed ${seed} round ${round}`).toBe(seen.size);
      const stillMissing = [...dropped].filter((s) => s < t.highest).length;
      expect(t.missing, `seed ${seed} round ${round}`).toBe(stillMissing);
    }
  });
});
