import { describe, expect, it } from "vitest";
import { WindowBuckets, overlapNs } from "../aggregate/buckets.js";
import { NS_PER_MS, NS_PER_S } from "./clock.js";
import { cronExpression } from "./cron.js";
import { VirtualClock } from "./virtual.js";
import type { Ticker, Window } from "./windows.js";
import { alignedStart, nextBoundary, WindowScheduler } from "./windows.js";
import { Rng } from "../sim/rng.js";

const T0 = Date.UTC(2026, 10, 22, 7, 0, 0);

describe("window alignment", () => {
  it("aligns windows to wall-clock boundaries", () => {
    expect(alignedStart(T0 + 59_999, 60)).toBe(T0);
    expect(alignedStart(T0 + 60_000, 60)).toBe(T0 + 60_000);
    expect(nextBoundary(T0 + 1, 300)).toBe(T0 + 300_000);
    expect(nextBoundary(T0, 900)).toBe(T0 + 900_000);
    expect(alignedStart(Date.UTC(2026, 10, 22, 7, 14, 59), 900)).toBe(T0);
  });

  it("maps each window length to a node-cron schedule on its boundaries", () => {
    expect(cronExpression(10)).toBe("*/10 * * * * *");
    expect(cronExpression(30)).toBe("*/30 * * * * *");
    expect(cronExpression(60)).toBe("0 * * * * *");
    expect(cronExpression(300)).toBe("0 */5 * * * *");
    expect(cronExpression(900)).toBe("0 */15 * * * *");
    expect(cronExpression(3600)).toBe("0 0 * * * *");
    expect(cronExpression(90)).toBe("* * * * * *"); // divides an hour, not a minute: checked every second
    expect(() => cronExpression(7)).toThrow(/does not divide an hour/);
  });
});

function collect(s: WindowScheduler): Window[] {
  const out: Window[] = [];
  s.add({ rotate: () => {}, finalize: (w) => out.push({ ...w }) });
  return out;
}

describe("window scheduler in virtual time", () => {
  it("opens a partial first window, then aligned full ones, finalised after the grace period", () => {
    const clock = new VirtualClock({ startWallMs: T0 + 25_000 });
    const s = new WindowScheduler({ clock, lengthS: 60, graceMs: 500 });
    const done = collect(s);
    s.start();
    clock.advanceTo(35 * NS_PER_S); // the first boundary (T0+60 s) passed at 35 s, grace not yet
    expect(done).toHaveLength(0);
    clock.advanceTo(35.5 * NS_PER_S);
    expect(done).toHaveLength(1);
    clock.advanceTo(216 * NS_PER_S);
    expect(done.map((w) => [w.startWallMs - T0, w.endNs - w.startNs, w.partial])).toEqual([
      [25_000, 35 * NS_PER_S, true],
      [60_000, 60 * NS_PER_S, false],
      [120_000, 60 * NS_PER_S, false],
      [180_000, 60 * NS_PER_S, false],
    ]);
    // consecutive windows tile monotonic time with no gap and no overlap
    for (let i = 1; i < done.length; i++) expect(done[i]!.startNs).toBe(done[i - 1]!.endNs);
  });

  it("closes the window early on a wall-clock jump, flags it, and realigns to the new wall time", () => {
    const clock = new VirtualClock({ startWallMs: T0, synced: false });
    const s = new WindowScheduler({ clock, lengthS: 60 });
    const done = collect(s);
    s.start();
    clock.advanceTo(90 * NS_PER_S); // 1.5 windows, unsynced
    clock.jumpWall(3_600_000 + 12_000, true); // NTP: the fake-hwclock time was 1 h 12 s behind
    clock.advanceTo(300 * NS_PER_S);
    const jumped = done.find((w) => w.clockJump)!;
    expect(jumped.endNs).toBe(90 * NS_PER_S);
    expect(jumped.synced).toBe(false);
    const after = done.filter((w) => w.startNs >= 90 * NS_PER_S);
    expect(after[0]!.clockJump).toBe(true);
    expect(after[0]!.partial).toBe(true);
    expect(after[1]!.startWallMs % 60_000).toBe(0); // realigned
    expect(after[1]!.synced).toBe(true);
    for (let i = 1; i < done.length; i++) expect(done[i]!.startNs).toBe(done[i - 1]!.endNs);
  });

  it("starts its ticker again from the new wall time on a jump (node-cron would walk every skipped boundary)", () => {
    const clock = new VirtualClock({ startWallMs: T0, synced: false });
    const calls: string[] = [];
    const ticker: Ticker = {
      start: (l) => calls.push(`start ${l} at ${clock.wallMs() - T0}`),
      stop: () => calls.push(`stop at ${clock.wallMs() - T0}`),
    };
    const s = new WindowScheduler({ clock, lengthS: 10, ticker });
    s.start();
    clock.advanceTo(25 * NS_PER_S);
    clock.jumpWall(365 * 86_400_000, true);
    clock.advanceTo(30 * NS_PER_S);
    expect(calls).toEqual(["start 10 at 0", "stop at 31536025000", "start 10 at 31536025000"]);
    s.stop();
  });

  it("stop() closes and finalises the open window as partial", () => {
    const clock = new VirtualClock({ startWallMs: T0 });
    const s = new WindowScheduler({ clock, lengthS: 10 });
    const done = collect(s);
    s.start();
    clock.advanceTo(23 * NS_PER_S);
    s.stop();
    expect(done.map((w) => [(w.endNs - w.startNs) / NS_PER_S, w.partial])).toEqual([
      [10, false],
      [10, false],
      [3, true],
    ]);
  });

  it("never loses or double-counts an event across boundaries and jumps (seeded)", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = new Rng(seed);
      const clock = new VirtualClock({ startWallMs: T0 + rng.int(0, 59_999) });
      const s = new WindowScheduler({ clock, lengthS: 10, graceMs: 300 });
      const buckets = new WindowBuckets<{ n: number }>(() => ({ n: 0 }));
      let counted = 0;
      s.add({
        open: (w) => buckets.open(w),
        rotate: (c, o) => buckets.rotate(c, o),
        finalize: (w) => (counted += buckets.take(w)?.n ?? 0),
      });
      s.start();
      let sent = 0;
      let t = 0;
      for (let i = 0; i < 2000; i++) {
        t += rng.exponential(0.2) * NS_PER_S;
        // events arrive up to 200 ms after they happened (filters, pipes), never after the grace
        const stamp = t;
        clock.setTimer(t + rng.uniform(0, 200) * NS_PER_MS, () => buckets.at(stamp)!.n++);
        sent++;
        if (rng.chance(0.002)) clock.setTimer(t, () => clock.jumpWall(rng.uniform(-5000, 5000)));
      }
      clock.advanceTo(t + 1 * NS_PER_S);
      s.stop();
      expect(buckets.late, `seed ${seed}`).toBe(0);
      expect(counted, `seed ${seed}`).toBe(sent);
    }
  });
});

describe("overlap of an interval with a window", () => {
  const w = { startNs: 100, endNs: 200 } as Window;
  it("clips on-time to the window", () => {
    expect(overlapNs(w, 50, 150)).toBe(50);
    expect(overlapNs(w, 120, 180)).toBe(60);
    expect(overlapNs(w, 150, 400)).toBe(50);
    expect(overlapNs(w, 0, 100)).toBe(0);
    expect(overlapNs(w, 200, 300)).toBe(0);
  });
});
