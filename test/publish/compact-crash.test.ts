import { describe, expect, it } from "vitest";
import type { Summary } from "../../src/aggregate/summary.js";
import type { Window } from "../../src/clock/windows.js";
import type { LossReport } from "../../src/outbox/outbox.js";
import { compactPack, crashLossesOnWindow, encodeCompact, groupByWindow } from "../../src/publish/compact.js";
import { annotateLoss, decodeMessage, encodePack, summaryPack } from "../../src/publish/envelope.js";
import { decodeCompact, decodeMessages } from "../../src/watch/compact.js";

// After a crash a cellular device publishes its recovered windows as packs (docs/delivery.md
// "Crashes mid-window"): `recovered` and `dropped.cause` read back as the standard profile's.
const START = Date.UTC(2026, 0, 5, 7);

function win(observedS: number): Window {
  return {
    lengthS: 60,
    startNs: 0,
    endNs: observedS * 1e9,
    startWallMs: START,
    endWallMs: START + 60_000,
    index: 0,
    partial: observedS < 60,
    clockJump: false,
    synced: true,
  };
}

const recovered: Summary[] = [
  { kind: "traffic", name: "lane1", window: win(30), measures: [{ n: "volume", u: "count", v: 7 }], recovered: "crash" },
  { kind: "traffic", name: "lane2", window: win(30), measures: [{ n: "volume", u: "count", v: 3 }], recovered: "crash" },
];
const lost: LossReport = { count: 1, fromMs: START, toMs: START + 600_000, causes: ["crash"] };

describe("cellular packs after a crash", () => {
  for (const encoding of ["cbor", "json"] as const) {
    it(`${encoding}: a recovered pack with the crash's loss report decodes to the standard recovered messages, the report with the first stream`, () => {
      const payload = encodeCompact(compactPack("pole-7", recovered, 9, lost), encoding);
      const { envelope } = decodeCompact(payload);
      expect(envelope.recovered).toBe("crash");
      expect(envelope.droppedCause).toBe("crash");
      expect(envelope.dropped).toEqual({ count: 1, fromMs: START, toMs: START + 600_000 });
      const streams = decodeMessages(payload);
      const std = recovered.map((s, i) => decodeMessage(encodePack(summaryPack("pole-7", s, 9, i === 0 ? lost : undefined), encoding)));
      expect(std[0]?.droppedCause).toBe("crash");
      expect(std[1]?.recovered).toBe("crash");
      expect(streams).toEqual(std);
    });
  }

  it("a recovered summary never shares a pack with a live one of the same window", () => {
    const live: Summary = { kind: "level", name: "mh1", window: win(30), measures: [{ n: "samples", u: "count", v: 3 }] };
    expect(groupByWindow([live, ...recovered]).map((g) => g.map((s) => s.name))).toEqual([["mh1"], ["lane1", "lane2"]]);
  });

  it("a crash report added to a stored pack later (annotateLoss) names its cause too", () => {
    const plain = encodeCompact(compactPack("pole-7", [{ ...recovered[0]!, recovered: undefined, window: win(60) }], 10), "cbor");
    const [first] = decodeMessages(annotateLoss(plain, lost));
    expect(first?.dropped).toEqual({ count: 1, fromMs: START, toMs: START + 600_000 });
    expect(first?.droppedCause).toBe("crash");
    expect(first?.recovered).toBeUndefined();
  });

  it("the crash losses of a cellular device's streams are reported on …/window", () => {
    const moved = crashLossesOnWindow(
      [
        { topic: "r/p/presence/ped1", count: 1, fromMs: START, toMs: START + 600_000 },
        { topic: "r/p/traffic/lane1", count: 0, fromMs: START + 60_000, toMs: START + 600_000 },
      ],
      "r/p/window",
    );
    expect(moved.map((l) => [l.topic, l.count])).toEqual([
      ["r/p/window", 1],
      ["r/p/window", 0],
    ]);
  });
});
