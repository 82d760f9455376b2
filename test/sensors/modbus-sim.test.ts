import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Mosquitto } from "../helpers/brokers.js";
import { hasMosquitto, MOSQUITTO_MISSING, startMosquitto, subscribe } from "../helpers/brokers.js";
import { alarms, decodeAll } from "../helpers/decode.js";
import { startSimDevice } from "../helpers/sim-device.js";

const SEED = 17;
const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 7, 0, 0);

/** A radar manhole and an ultrasonic bin on one simulated RS-485 line, with line faults. */
const site = {
  device: { id: "mb-1", board: "sim" },
  inputs: {},
  manholes: {
    mh1: {
      sensor: { type: "modbus" as const, model: "vegapuls-c21", port: { path: "sim0" } },
      mountHeightMm: 2400,
      overflowHeightMm: 1500,
      staleAfter: "2m",
      sampling: { dry: "60s", fast: "5s" },
      window: "15m",
    },
  },
  bins: {
    b1: {
      distance: {
        type: "modbus" as const,
        model: "toughsonic-14",
        unitId: 1,
        pollEvery: "2s",
        // one line: the ToughSonic set to the VEGA's factory settings (9600 8N1, its own default too)
        port: { path: "sim0", parity: "none" as const },
      },
      emptyDistanceMm: 1100,
      fullDistanceMm: 350,
      measureEvery: "5m",
      window: "30m",
    },
  },
  sim: {
    seed: SEED,
    sewer: { mh1: { storms: [{ at: "30m", for: "60m", intensityMmH: 30 }] } },
    bins: { b1: { depositsPerHour: 20, depositPct: 3, pickups: ["3h"] } },
    faults: [
      { kind: "silent", target: "mh1", at: "2h", for: "10m" },
      { kind: "crc-errors", target: "b1", at: "4h", for: "30m" },
      { kind: "exception", target: "mh1", at: "5h", for: "5m", params: { code: 4 } },
    ],
  },
};

describe.skipIf(!hasMosquitto())(
  `Modbus radar (manhole) and ultrasonic (bin) sensors on one simulated RS-485 line, end to end to Mosquitto (seed ${SEED})${hasMosquitto() ? "" : `: skipped, ${MOSQUITTO_MISSING}`}`,
  () => {
    let broker: Mosquitto;
    beforeAll(async () => {
      broker = await startMosquitto();
    });
    afterAll(async () => {
      await broker?.stop();
    });

    it("publishes depths, spills, fill and pickups, and reports no answer, CRC errors and exceptions in health and as faults", async () => {
      const sub = await subscribe(broker.url, "roadside/mb-1/#", { protocolVersion: 5 });
      let committed = 0;
      const dev = await startSimDevice(site, {
        brokerUrl: broker.url,
        seed: SEED,
        startWallMs: T0,
        deps: { onCommitted: (m) => (committed += m.length) },
      });
      await dev.run(6 * 3600);
      const health = dev.device.health.snapshot();
      await dev.stop();
      await sub.waitFor((m) => decodeAll(m).length >= committed);
      await sub.close();
      const seen = decodeAll(sub.messages);

      // the manhole: depth follows the simulated water, and the storm's spill is seen
      const levels = seen.filter((s) => s.msg.kind === "level").map((s) => s.msg);
      expect(levels.length).toBeGreaterThanOrEqual(23);
      const truth = dev.truth.filter((r) => r.kind === "level" && r["sensor"] === "mh1");
      const early = levels.find((l) => l.windowStartMs === T0)!;
      const truthEarly = truth.filter((r) => (r["tNs"] as number) < 15 * 60e9).map((r) => r["depthMm"] as number);
      expect(Math.abs(early.measures["depthMean"]!.v! * 1000 - truthEarly.reduce((a, b) => a + b, 0) / truthEarly.length)).toBeLessThan(30);
      expect(Math.max(...levels.map((l) => l.measures["depthMax"]?.v ?? 0))).toBeGreaterThanOrEqual(1.5);
      expect(alarms(seen, "spill", "start").length).toBeGreaterThanOrEqual(1);
      expect(dev.truth.some((r) => r.kind === "overflow" && r["sensor"] === "mh1")).toBe(true);

      // the bin: fill summaries and the pickup at 3 h
      expect(seen.filter((s) => s.msg.kind === "bin").length).toBeGreaterThanOrEqual(11);
      const pickups = alarms(seen, "pickup");
      expect(pickups.length).toBe(1);
      expect(Math.abs(pickups[0]!.windowStartMs - (T0 + 3 * H))).toBeLessThan(20 * 60_000);

      // faults: each named by its cause, each counted on its unit
      const causes = (source: string) =>
        alarms(seen, "sensor-fault", "start")
          .filter((a) => a.stream === source)
          .map((a) => a.measures["cause"]?.vs);
      expect(causes("mh1")).toEqual(["silent", "garbled"]);
      expect(causes("b1")).toEqual(["garbled"]);
      const mh1 = health["sensor.mh1"]!;
      const b1 = health["sensor.b1"]!;
      expect(mh1).toMatchObject({ model: "vegapuls-c21", unitId: 246, crcErrors: 0, lastException: 4, state: "ok" });
      expect(mh1["timeouts"]).toBeGreaterThanOrEqual(500);
      expect(mh1["exceptions"]).toBeGreaterThanOrEqual(250);
      expect(mh1["responses"]).toBeGreaterThan(10_000);
      expect(b1).toMatchObject({ model: "toughsonic-14", unitId: 1, timeouts: 0, exceptions: 0, state: "ok" });
      expect(b1["crcErrors"]).toBeGreaterThanOrEqual(800);
    });
  },
);

describe(`a Modbus sensor whose line is missing at start (seed ${SEED})`, () => {
  it("is reported unplugged, its polls fail at once as port-down, and the link keeps retrying", async () => {
    const { startAedes } = await import("../helpers/brokers.js");
    const aedes = await startAedes();
    try {
      const dev = await startSimDevice(
        {
          device: { id: "mb-2", board: "sim" },
          manholes: {
            mh9: {
              // nothing simulated on sim5: the adapter is not plugged in
              sensor: { type: "modbus" as const, model: "vegapuls-c21", port: { path: "sim5" } },
              mountHeightMm: 2400,
              overflowHeightMm: 1500,
              staleAfter: "2m",
            },
          },
        },
        { brokerUrl: aedes.url, seed: SEED, startWallMs: T0 },
      );
      await dev.run(10 * 60);
      const h = dev.device.health.snapshot()["sensor.mh9"]!;
      await dev.stop();
      expect(h).toMatchObject({ state: "unplugged", openFailures: 1, responses: 0, timeouts: 0 });
      expect(h["requests"]).toBeGreaterThanOrEqual(590);
      expect(h["notSent"]).toBe(h["requests"]);
    } finally {
      await aedes.close();
    }
  });
});
