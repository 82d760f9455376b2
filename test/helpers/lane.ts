import type { Alarm } from "../../src/aggregate/alarm.js";
import type { Summary } from "../../src/aggregate/summary.js";
import type { TrafficAggregator } from "../../src/aggregate/traffic.js";
import { SAMPLE_NS } from "../../src/aggregate/traffic-diagnostics.js";
import type { Window } from "../../src/clock/windows.js";
import { laneAggregator } from "../../src/features/traffic.js";
import type { Level } from "../../src/io/contract.js";
import { LoopDriver } from "../../src/sensors/loop.js";
import { mustLoad } from "./sim-device.js";

export const S = 1e9;

/**
 * One lane's driver and aggregator driven by hand: edges at chosen instants, windows of `windowS`
 * from t = 0 (rotated at each boundary, finalised 0.5 s later, as the device's scheduler does) and
 * 30 s diagnostics ticks. What it publishes and alarms is collected.
 */
export function laneRig(detector: Record<string, unknown>, opts: { windowS?: number; glitchMs?: number } = {}) {
  const loops = (detector["loops"] as string[] | undefined)?.length ?? 1;
  const names = loops === 2 ? ["up", "down"] : ["loop"];
  const loaded = mustLoad({
    device: { id: "rig", board: "sim" },
    inputs: Object.fromEntries(names.map((n, i) => [n, { line: 5 + i, glitchMs: opts.glitchMs ?? 10 }])),
    detectors: { lane: { loops: names, ...detector } },
  });
  const det = loaded.config.detectors["lane"]!;
  const summaries: Summary[] = [];
  const alarms: Alarm[] = [];
  const passages: { t: number; v: number; L: number }[] = [];
  const agg: TrafficAggregator = laneAggregator("lane", det, {
    sink: (s) => summaries.push(...s),
    alarm: (a) => alarms.push(a),
    onPassage: (t, v, L) => passages.push({ t, v, L }),
  });
  const driver = new LoopDriver(
    names.map(() => opts.glitchMs ?? 10),
    names.map(() => 0 as Level),
    agg,
  );
  agg.attach(driver);
  agg.start(
    0,
    names.map(() => 0),
  );
  const L = (opts.windowS ?? 60) * S;
  const mk = (i: number): Window => ({
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
  let cur = mk(0);
  let prev: Window | undefined;
  let nextTick = SAMPLE_NS;
  agg.open(cur);
  /** Run the clock to `t`: boundaries, finalisations and ticks due on the way, in time order. */
  const advance = (t: number) => {
    for (;;) {
      const fin = prev ? prev.endNs + 0.5 * S : Infinity;
      const next = Math.min(cur.endNs, fin, nextTick);
      if (next > t) break;
      if (next === cur.endNs) {
        const opening = mk(cur.index + 1);
        agg.rotate(cur, opening);
        prev = cur;
        cur = opening;
      } else if (next === fin) {
        agg.finalize(prev!, fin);
        prev = undefined;
      } else {
        agg.tick(nextTick);
        nextTick += SAMPLE_NS;
      }
    }
  };
  const rig = {
    det,
    agg,
    driver,
    summaries,
    alarms,
    passages,
    windowNs: L,
    edge(loop: number, level: Level, t: number) {
      advance(t);
      driver.edge(loop, level, t);
    },
    /** A presence on `loop` from `on` to `off` (ns). Edges must be given in time order overall. */
    pulse(loop: number, on: number, off: number) {
      rig.edge(loop, 1, on);
      rig.edge(loop, 0, off);
    },
    /** Run to `t` and publish every window that ended by then. */
    until(t: number) {
      advance(t + 0.6 * S);
    },
    /** Measures of the window starting at `i · window`. */
    window(i: number): Record<string, number | string | undefined> {
      const s = summaries.find((x) => x.window.startNs === i * L);
      if (!s) throw new Error(`window ${i} not published (published: ${summaries.map((x) => x.window.startNs / L).join(", ")})`);
      return Object.fromEntries(s.measures.map((m) => [m.n, m.v ?? m.vs]));
    },
  };
  return rig;
}

/** Edges of a forward vehicle over a trap (spacing D, loop length Ll): front at the upstream loop at t0 (s). */
export function trapEdges(t0: number, v: number, L: number, D = 6, Ll = 1.8288): [number, number, Level][] {
  const ev: [number, number, Level][] = [];
  [0, D].forEach((x, k) => {
    ev.push([Math.round((t0 + x / v) * S), k, 1], [Math.round((t0 + (x + Ll + L) / v) * S), k, 0]);
  });
  return ev.sort((a, b) => a[0] - b[0]);
}
