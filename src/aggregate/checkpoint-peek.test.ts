import { describe, expect, it } from "vitest";
import { laneRig, S, trapEdges } from "../../test/helpers/lane.js";
import { Rng } from "../sim/rng.js";

/**
 * A checkpoint is the summary a window would have if it closed at that instant (checkpoint.ts): a
 * lane's `peek` at the window's end gives exactly the summary the window gets when it closes, and
 * peeking mid-window changes nothing that is published afterwards.
 */
describe("TrafficAggregator.peek", () => {
  for (const seed of [1, 2, 3]) {
    it(`a trap's peek at the window's end is its summary, and peeks leave the windows as they were (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const edges: [number, number, 0 | 1][] = [];
      let t0 = 1;
      while (t0 < 50) {
        edges.push(...trapEdges(t0, 12 + rng.next() * 20, 3.5 + rng.next() * 8));
        t0 += 1.5 + rng.next() * 4;
      }
      edges.sort((a, b) => a[0] - b[0]);
      const peeked = laneRig({ loops: ["up", "down"] }, { windowS: 60 });
      const plain = laneRig({ loops: ["up", "down"] }, { windowS: 60 });
      const mid: number[] = [];
      for (const [t, k, l] of edges) {
        if (mid.length < 3 && t > (mid.length + 1) * 12 * S) {
          mid.push(t);
          expect(peeked.agg.peek(t)?.window.endNs).toBe(t);
        }
        peeked.edge(k, l, t);
        plain.edge(k, l, t);
      }
      const atEnd = peeked.agg.peek(60 * S)!;
      peeked.until(120 * S);
      plain.until(120 * S);
      const closed = peeked.summaries.find((s) => s.window.startNs === 0)!;
      expect(atEnd.measures).toEqual(closed.measures);
      expect(peeked.summaries.map((s) => s.measures)).toEqual(plain.summaries.map((s) => s.measures));
      expect(closed.measures.find((m) => m.n === "volume")!.v).toBeGreaterThan(5);
    });
  }

  it("counts what happened up to the instant, with a presence still on clipped to it", () => {
    const r = laneRig({}, { windowS: 60 });
    r.pulse(0, 10 * S, 10.5 * S);
    r.pulse(0, 20 * S, 20.4 * S);
    r.edge(0, 1, 29 * S); // on at the peek
    const s = r.agg.peek(30 * S)!;
    const m = Object.fromEntries(s.measures.map((x) => [x.n, x.v]));
    expect(m["volume"]).toBe(3);
    expect((s.window.endNs - s.window.startNs) / S).toBe(30);
    expect(m["occupancy"]).toBeCloseTo((0.5 + 0.4 + 1) / 30, 6);
    expect(m["flow"]).toBeCloseTo(3 / 30, 6);
  });
});
