import { describe, expect, it } from "vitest";
import type { Summary } from "./summary.js";
import type { Window } from "../clock/windows.js";
import { VirtualClock } from "../clock/virtual.js";
import { BinAggregator } from "./bin.js";

const S = 1e9;
const win = (i: number): Window => ({
  lengthS: 600,
  startNs: i * 600 * S,
  endNs: (i + 1) * 600 * S,
  startWallMs: i * 600_000,
  endWallMs: (i + 1) * 600_000,
  index: i,
  partial: false,
  clockJump: false,
  synced: true,
});

describe("bin window membership (issue 14)", () => {
  it("a pickup whose first low reading fell in a window already published counts in the confirming reading's window", () => {
    const clock = new VirtualClock({ startWallMs: 0 });
    const out: Summary[] = [];
    const agg = new BinAggregator({
      bin: "b1",
      clock,
      sink: (s) => out.push(...s),
      alarm: () => {},
      emptyMm: 1000,
      fullMm: 300,
      highPct: 80,
      lowPct: 10,
      pickupDropPct: 30,
      changeMm: 100,
      onlyOnChange: false,
      heartbeatS: 3600,
      fire: { limitC: 57, riseCPerMin: 8.3, confirm: 2, clearNs: 600 * S },
    });
    const w = [win(0), win(1), win(2)];
    agg.open(w[0]!);
    agg.distance(400, 100 * S); // 85 %
    agg.distance(980, 599 * S); // first low reading, just before the boundary
    agg.rotate(w[0]!, w[1]!);
    agg.finalize(w[0]!, 600.5 * S);
    agg.distance(985, 659 * S); // confirms it, 60 s later
    agg.rotate(w[1]!, w[2]!);
    agg.finalize(w[1]!, 1200.5 * S);
    const pickups = out.map((s) => s.measures.find((m) => m.n === "pickups")?.v);
    expect(pickups).toEqual([0, 1]);
  });
});
