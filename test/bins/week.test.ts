import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NS_PER_S } from "../../src/clock/clock.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { alarms, decodeAll } from "../helpers/decode.js";
import { startSimDevice } from "../helpers/sim-device.js";

const SEED = 5;

function binSite(id: string, sim: Record<string, unknown>, bin: Record<string, unknown> = {}) {
  return {
    device: { id, board: "sim" },
    inputs: { "b.tilt": { line: 22, activeLow: false }, "b.lid": { line: 23, activeLow: false } },
    bins: {
      bin1: {
        distance: { type: "maxbotix" as const, model: "hrxl" as const, port: { path: "sim1" } },
        emptyDistanceMm: 1100,
        fullDistanceMm: 350,
        measureEvery: "10m",
        temperature: { adc: { address: 0x48 as const, channel: 1 }, every: "10s" },
        tilt: { input: "b.tilt", debounce: 1, confirm: "2m" },
        lid: { input: "b.lid", debounce: 0.5, alarmAfter: "10m" },
        window: "30m",
        ...bin,
      },
    },
    sim: { seed: SEED, bins: { bin1: sim } },
  };
}

describe(`a simulated week of a bin, checked against the simulator's ground truth (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  it("counts every pickup, raises the fire alarm within a minute, tilt only when knocked over", async () => {
    const sub = await subscribe(broker.url, "roadside/bin-week/#");
    let committed = 0;
    const sim = {
      depositsPerHour: 5,
      depositPct: 2,
      pickups: ["1d", "60h", "4d", "6d"],
      fires: [{ at: "100h", for: "15m", riseCPerMin: 12 }],
      knockovers: [{ at: "130h", for: "30m" }],
    };
    const dev = await startSimDevice(binSite("bin-week", sim), {
      brokerUrl: broker.url,
      seed: SEED,
      deps: { onCommitted: (m) => (committed += m.length) },
    });
    await dev.run(7 * 24 * 3600);
    await dev.stop();
    await sub.waitFor((m) => decodeAll(m).length >= committed);
    await sub.close();
    const seen = decodeAll(sub.messages);
    const ns = (wallMs: number): number => dev.clock.toMonoNs(wallMs);

    // pickups: every one counted, each within one measurement interval (+ the 60 s re-check) of the truth
    const truthPickups = dev.truth.filter((r) => r.kind === "pickup") as unknown as { tNs: number; beforePct: number }[];
    expect(truthPickups.length).toBe(4);
    const pickups = alarms(seen, "pickup");
    expect(pickups.length, `pickups at ${pickups.map((p) => ns(p.windowStartMs) / 3600 / NS_PER_S).join(", ")} h`).toBe(
      truthPickups.length,
    );
    truthPickups.forEach((t, i) => {
      const d = ns(pickups[i]!.windowStartMs) - t.tNs;
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(11 * 60 * NS_PER_S);
      expect(Math.abs(pickups[i]!.measures["fillBefore"]!.v! - Math.min(100, t.beforePct))).toBeLessThan(5);
    });
    const bins = seen.filter((s) => s.msg.kind === "bin").map((s) => s.msg);
    expect(bins.reduce((n, m) => n + (m.measures["pickups"]?.v ?? 0), 0)).toBe(truthPickups.length);

    // fill %: each summary against the true fill at its last reading (noise 5 mm ≈ 0.7 %, deposits between readings)
    const fills = dev.truth.filter((r) => r.kind === "fill") as unknown as { tNs: number; percent: number }[];
    const trueFillAt = (tNs: number): number => {
      let f = 0;
      for (const r of fills) if (r.tNs <= tNs) f = r.percent;
      return Math.min(100, f);
    };
    let compared = 0;
    for (const m of bins) {
      const fill = m.measures["actualFillingPercentage"]?.v;
      if (fill === undefined) continue;
      const end = ns(m.windowStartMs) + m.observedS * NS_PER_S;
      // the last reading falls in the last 10 minutes of the window
      const lo = Math.min(trueFillAt(end - 11 * 60 * NS_PER_S), trueFillAt(end));
      const hi = Math.max(trueFillAt(end - 11 * 60 * NS_PER_S), trueFillAt(end));
      expect(fill, `window ${new Date(m.windowStartMs).toISOString()}`).toBeGreaterThanOrEqual(lo - 2);
      expect(fill, `window ${new Date(m.windowStartMs).toISOString()}`).toBeLessThanOrEqual(hi + 2);
      compared++;
    }
    expect(compared).toBeGreaterThan(300);
    // filling speed: the simulated rate is ~5 deposits/h × 2 % by day, a tenth at night ≈ 170 %/day
    const speeds = bins.map((m) => m.measures["averageFillingSpeed"]?.v).filter((v): v is number => v !== undefined);
    expect(speeds.length).toBeGreaterThan(100);
    const median = [...speeds].sort((a, b) => a - b)[speeds.length >> 1]!;
    expect(median).toBeGreaterThan(80);
    expect(median).toBeLessThan(300);
    expect(bins.some((m) => m.measures["forecastFullDate"]?.v !== undefined)).toBe(true);

    // fire: alarm within one minute of the simulated fire's start
    const fire = dev.truth.find((r) => r.kind === "fire") as unknown as { startNs: number };
    const fireStarts = alarms(seen, "fire", "start");
    expect(fireStarts.length).toBe(1);
    const delay = ns(fireStarts[0]!.windowStartMs) - fire.startNs;
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(60 * NS_PER_S);
    expect(alarms(seen, "fire", "end").length).toBe(1);

    // tilt: pickups tip the bin for 20 s (no alarm); the knock-over raises one
    const knock = dev.truth.find((r) => r.kind === "knockover") as unknown as { startNs: number; endNs: number };
    const tilts = alarms(seen, "tilt", "start");
    expect(tilts.length).toBe(1);
    expect(Math.abs(ns(tilts[0]!.windowStartMs) - knock.startNs)).toBeLessThanOrEqual(2 * NS_PER_S);
    expect(alarms(seen, "tilt", "end").length).toBe(1);
    // lids open for seconds per deposit: no cover-open alarm, but every opening counted
    expect(alarms(seen, "cover-open").length).toBe(0);
    const deposits = (dev.truth.find((r) => r.kind === "bin-end") as unknown as { deposits: number }).deposits;
    const openings = bins.reduce((n, m) => n + (m.measures["fillingOperations"]?.v ?? 0), 0);
    expect(openings).toBeGreaterThanOrEqual(deposits + truthPickups.length - 1);
    expect(openings).toBeLessThanOrEqual(deposits + truthPickups.length + 1);
    expect(alarms(seen, "sensor-fault").length).toBe(0);
  });
});
