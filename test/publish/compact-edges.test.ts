import { describe, expect, it } from "vitest";
import type { Summary } from "../../src/aggregate/summary.js";
import type { Window } from "../../src/clock/windows.js";
import { compactPack, encodeCompact, groupByWindow } from "../../src/publish/compact.js";
import { decodeMessage, encodePack, summaryPack } from "../../src/publish/envelope.js";
import { decodeCompact } from "../../src/watch/compact.js";

const START = Date.UTC(2026, 0, 5, 7);

function win(observedS: number, synced = true): Window {
  return {
    lengthS: 300,
    startNs: (300 - observedS) * 1e9,
    endNs: 300e9,
    startWallMs: START + (300 - observedS) * 1000,
    endWallMs: START + 300_000,
    index: 0,
    partial: observedS < 300,
    clockJump: false,
    synced,
  };
}

const full = win(300);
const summaries: Summary[] = [
  {
    kind: "traffic",
    name: "lane1",
    window: full,
    measures: [
      { n: "volume", u: "count", v: 12 },
      // more than 6 significant digits: must travel under its full name, exactly
      { n: "flow", u: "1/s", v: 0.0401234567 },
      { n: "speed.n", u: "count", v: 11 },
      // a detector in m/s: the unit is not the table's, so it is sent
      { n: "speed.tms", u: "m/s", v: 24.713 },
      { n: "class.small-car", u: "count", v: 3 },
      { n: "class.short", u: "count", v: 0 },
      { n: "quality.observed", u: "/", v: 0.9967 },
      { n: "quality.faults", u: "count", v: 1 },
      { n: "occupancy.loop", vs: "downstream" },
      { n: "quality.latencyDiff", u: "s", v: -0.00133 },
    ],
  },
  { kind: "level", name: "mh1", window: full, measures: [{ n: "samples", u: "count", v: 0 }] },
  // a stream that started inside the window, and one on an unsynchronised clock: packs of their own
  { kind: "traffic", name: "lane2", window: win(120), measures: [{ n: "volume", u: "count", v: 4 }] },
  { kind: "bin", name: "bin1", window: win(300, false), measures: [{ n: "containerFull", vb: true }] },
];

describe("cellular packs: edge cases decode to exactly the standard profile's messages", () => {
  for (const encoding of ["cbor", "json"] as const) {
    it(`${encoding}: long-named exact values, units off the table, custom names, partial and unsynchronised windows`, () => {
      const groups = groupByWindow(summaries);
      expect(groups.map((g) => g.map((s) => s.name))).toEqual([["lane1", "mh1"], ["lane2"], ["bin1"]]);
      let seq = 40;
      for (const group of groups) {
        seq++;
        const payload = encodeCompact(compactPack("pole-7", group, seq), encoding);
        const { envelope, streams } = decodeCompact(payload);
        expect(envelope.seq).toBe(seq);
        expect(streams.length).toBe(group.length);
        for (const [i, s] of group.entries()) {
          const std = decodeMessage(encodePack(summaryPack("pole-7", s, seq), encoding));
          expect(streams[i], `${s.kind}/${s.name} (${encoding})`).toEqual(std);
        }
      }
    });
  }

  it("a value of more than 6 significant digits keeps its full name; one of 6 or fewer gets its short name", () => {
    const pack = compactPack("pole-7", [summaries[0]!], 1);
    const names = pack.map((r) => r.n);
    expect(names).toContain("flow");
    expect(names).toContain("G"); // quality.latencyDiff, -0.00133
    // speed.n (11) is not volume (12): sent, under its short name
    expect(names).not.toContain("speed.n");
    expect(names).toContain("3");
  });
});
