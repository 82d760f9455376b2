import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { Summary } from "../aggregate/summary.js";
import { annotateLoss, decodeMessage, encodePack, summaryPack } from "./envelope.js";

const W0 = Date.UTC(2026, 0, 5, 7, 0, 0);
const summary: Summary = {
  kind: "traffic",
  name: "lane1",
  window: {
    lengthS: 60,
    startNs: 0,
    endNs: 60e9,
    startWallMs: W0,
    endWallMs: W0 + 60_000,
    index: 3,
    partial: false,
    clockJump: false,
    synced: true,
  },
  measures: [{ n: "volume", u: "count", v: 23 }],
};
const lost = { count: 37, fromMs: W0 - 37 * 60_000, toMs: W0 };

describe("drop accounting in the envelope", () => {
  for (const enc of ["cbor", "json"] as const) {
    it(`${enc}: a loss report decodes as dropped, not as a measure, and annotating replaces it`, () => {
      const plain = encodePack(summaryPack("pole-0042", summary, 100), enc);
      expect(decodeMessage(plain).dropped).toBeUndefined();
      const a = annotateLoss(plain, lost);
      const m = decodeMessage(a);
      expect(m.dropped).toEqual(lost);
      expect(m.measures).toEqual({ volume: { u: "count", v: 23 } });
      expect(m.seq).toBe(100);
      // what summaryPack writes directly is what annotate writes afterwards
      expect(a.equals(encodePack(summaryPack("pole-0042", summary, 100, lost), enc))).toBe(true);
      const again = decodeMessage(annotateLoss(a, { count: 40, fromMs: lost.fromMs - 180_000, toMs: W0 }));
      expect(again.dropped).toEqual({ count: 40, fromMs: lost.fromMs - 180_000, toMs: W0 });
    });
  }

  it.skipIf(spawnSync("/usr/bin/python3", ["-c", "import cbor2"]).status !== 0)(
    "a standard CBOR decoder (Python cbor2) reads the records",
    () => {
      const payload = encodePack(summaryPack("pole-0042", summary, 100, lost), "cbor");
      const py =
        "import sys,cbor2,json; p=cbor2.loads(sys.stdin.buffer.read()); print(json.dumps([{str(k):v for k,v in r.items()} for r in p]))";
      const r = spawnSync("/usr/bin/python3", ["-c", py], { input: payload });
      const recs = JSON.parse(r.stdout.toString()) as Record<string, unknown>[];
      const byName = new Map(recs.map((x) => [x["0"], x]));
      expect(byName.get("dropped")).toEqual({ "0": "dropped", "1": "count", "2": 37 });
      expect(byName.get("dropped.from")).toEqual({ "0": "dropped.from", "1": "s", "2": lost.fromMs / 1000 });
      expect(byName.get("dropped.to")).toEqual({ "0": "dropped.to", "1": "s", "2": W0 / 1000 });
    },
  );
});
