import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_PER_S } from "../../src/clock/clock.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { alarms, count1224, decodeAll } from "../helpers/decode.js";
import { startSimDevice } from "../helpers/sim-device.js";

const SEED = 11;
const FAST_S = 5;

/** A manhole with an HRXL on a simulated serial port and storms that overflow the weir. */
function manhole(id: string, storms: { at: string; for: string; intensityMmH: number }[], extra: Record<string, unknown> = {}) {
  return {
    device: { id, board: "sim" },
    inputs: { "mh1.cover": { line: 17, activeLow: false } },
    manholes: {
      mh1: {
        sensor: { type: "maxbotix" as const, model: "hrxl" as const, port: { path: "sim0" } },
        mountHeightMm: 2400,
        overflowHeightMm: 1500,
        sampling: { dry: "60s", fast: `${FAST_S}s` },
        cover: { input: "mh1.cover", debounce: 2, cooldown: "10m" },
        window: "15m",
        ...extra,
      },
    },
    sim: {
      seed: SEED,
      sewer: {
        mh1: {
          storms,
          coverOpenings: [
            { at: "30m", for: "5m" },
            { at: "38m", for: "1m" },
          ],
        },
      },
    },
  };
}

describe(`manhole in a simulated storm, checked against the simulator's ground truth (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  it("detects every overflow within one sampling interval and counts spills by the 12/24 rule", async () => {
    const sub = await subscribe(broker.url, "roadside/mh-storm/#");
    // overflows near 3 h, 20 h (second 24 h block) and 70 h (a new sequence after an empty block)
    const storms = [
      { at: "2h", for: "90m", intensityMmH: 30 },
      { at: "19h", for: "80m", intensityMmH: 35 },
      { at: "69h", for: "80m", intensityMmH: 40 },
    ];
    let committed = 0;
    const dev = await startSimDevice(manhole("mh-storm", storms), {
      brokerUrl: broker.url,
      seed: SEED,
      deps: { onCommitted: (m) => (committed += m.length) },
    });
    await dev.run(110 * 3600); // the second sequence ends with the empty 24 h block after 82 h
    await dev.stop();
    const truthOverflows = dev.truth.filter((r) => r.kind === "overflow") as unknown as {
      startNs: number;
      endNs: number;
      peakMm: number;
    }[];
    await sub.waitFor((m) => decodeAll(m).length >= committed);
    await sub.close();
    const seen = decodeAll(sub.messages);

    const spillAlarms = alarms(seen, "spill").map(
      (m) => `${m.measures["state"]?.vs}@${(dev.clock.toMonoNs(m.windowStartMs) / NS_PER_S).toFixed(0)}`,
    );
    expect(
      truthOverflows.length,
      `the storms must overflow the weir; truth ${JSON.stringify(truthOverflows)}, alarms ${spillAlarms.join(" ")}`,
    ).toBe(3);
    const kinds = seen.map((x) => `${x.msg.kind}:${x.msg.measures["alarm"]?.vs ?? ""}`);
    expect(
      kinds.filter((k) => k === "alarm:spill").length,
      `published: ${[...new Set(kinds)].join(" ")}; ${sub.messages.length} messages, ${committed} committed`,
    ).toBe(6);
    const starts = alarms(seen, "spill", "start");
    const ends = alarms(seen, "spill", "end");
    expect(starts.length).toBe(truthOverflows.length);
    expect(ends.length).toBe(truthOverflows.length);
    const toNs = (wallMs: number): number => dev.clock.toMonoNs(wallMs);
    truthOverflows.forEach((t, i) => {
      const s = toNs(starts[i]!.windowStartMs);
      const e = toNs(ends[i]!.windowStartMs);
      const why = `overflow ${i}: truth ${t.startNs / NS_PER_S}–${t.endNs / NS_PER_S} s, detected ${s / NS_PER_S}–${e / NS_PER_S} s`;
      expect(Math.abs(s - t.startNs), why).toBeLessThanOrEqual(FAST_S * NS_PER_S);
      expect(Math.abs(e - t.endNs), why).toBeLessThanOrEqual(FAST_S * NS_PER_S);
      expect(ends[i]!.measures["duration"]?.v).toBeCloseTo((e - s) / NS_PER_S, 0);
      // peak within the sensor noise and the median's smoothing of the true peak
      expect(Math.abs(ends[i]!.measures["peak"]!.v! * 1000 - t.peakMm), why).toBeLessThan(15);
    });

    // 12/24: the truth periods counted independently, against what the device published
    const expected = count1224(truthOverflows.map((t) => ({ startH: t.startNs / 3600 / NS_PER_S, endH: t.endNs / 3600 / NS_PER_S })));
    expect(expected).toBe(3);
    const level = seen.filter((s) => s.msg.kind === "level").map((s) => s.msg);
    expect(level.reduce((n, m) => n + (m.measures["spills"]?.v ?? 0), 0)).toBe(expected);
    const seqEnds = alarms(seen, "spill-sequence", "end");
    expect(seqEnds.map((m) => m.measures["spills"]?.v)).toEqual([2, 1]);
    // per day: the last window of each UTC day carries that day's count
    const byDay = new Map<string, number>();
    for (const m of level) byDay.set(new Date(m.windowStartMs).toISOString().slice(0, 10), m.measures["spillsDay"]!.v!);
    expect([...byDay.values()].reduce((a, b) => a + b, 0)).toBe(expected);

    // adaptive sampling: dry weather at 60 s, fast during the storms
    const intervals = new Set(level.map((m) => m.measures["sampleInterval"]?.v));
    expect(intervals).toEqual(new Set([60, FAST_S]));
    // the time-weighted depth of a dry window is close to the simulated dry-weather flow
    const dry = level.find((m) => m.windowStartMs > dev.clock.toWallMs(24 * 60 * 60 * NS_PER_S + 40 * 3600 * NS_PER_S));
    expect(dry?.measures["depthMean"]?.v).toBeGreaterThan(0.08);
    expect(dry?.measures["depthMean"]?.v).toBeLessThan(0.22);

    // cover: opened at 30 m (alarm), re-opened at 38 m within the 10 min cooldown (no alarm)
    expect(alarms(seen, "cover-open", "start").length).toBe(1);
    expect(alarms(seen, "cover-open", "end").length).toBe(1);
    expect(level.reduce((n, m) => n + (m.measures["coverOpenings"]?.v ?? 0), 0)).toBe(2);
    expect(alarms(seen, "sensor-fault").length).toBe(0);
  });

  it("raises nothing in a dry week (no high-level, spill or sensor-fault alarm)", async () => {
    const sub = await subscribe(broker.url, "roadside/mh-dry/#");
    const cfg = manhole("mh-dry", []);
    cfg.sim.sewer.mh1.coverOpenings = [];
    let committed = 0;
    const dev = await startSimDevice(cfg, { brokerUrl: broker.url, seed: SEED + 1, deps: { onCommitted: (m) => (committed += m.length) } });
    await dev.run(7 * 24 * 3600);
    await dev.stop();
    await sub.waitFor((m) => decodeAll(m).length >= committed);
    expect(decodeAll(sub.messages).filter((s) => s.msg.kind === "level").length).toBeGreaterThanOrEqual(7 * 96);
    await sub.close();
    const seen = decodeAll(sub.messages);
    expect(seen.filter((s) => s.msg.kind === "alarm").map((s) => s.msg.measures["alarm"]?.vs)).toEqual([]);
    expect(dev.truth.filter((r) => r.kind === "overflow")).toEqual([]);
    const level = seen.filter((s) => s.msg.kind === "level");
    expect(level.every((s) => s.msg.measures["state"]?.vs === "normal")).toBe(true);
  });
});
