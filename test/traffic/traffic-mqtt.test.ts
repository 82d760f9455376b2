import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { percentile } from "../../src/aggregate/percentile.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { startSimDevice } from "../helpers/sim-device.js";

const SEED = 11;

/**
 * The full path: simulated card outputs on the simulated board → johnny-five inputs → the traffic
 * feature → publisher → SQLite outbox → MQTT → a subscriber, in virtual time. A morning half hour
 * on a speed trap and a single loop, with the trap's upstream loop stuck on for five minutes.
 */
function site(id: string) {
  return {
    device: { id, board: "sim" },
    inputs: { "l1.up": { line: 17 }, "l1.down": { line: 27 }, "l2.loop": { line: 22 } },
    detectors: {
      lane1: { loops: ["l1.up", "l1.down"], window: "1m" },
      lane2: { loops: ["l2.loop"], window: "5m" },
    },
    sim: {
      seed: SEED,
      traffic: {
        lane1: { vehiclesPerHour: 1600, speedKmh: 95, wrongWayPerHour: 4 },
        lane2: { vehiclesPerHour: 900, speedKmh: 60 },
      },
      faults: [{ at: "10m", for: "5m", kind: "stuck-on", target: "l1.up" }],
    },
  };
}

describe(`traffic summaries and alarms through the device to a broker (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  it("publishes every measure with its SenML unit, matching the ground truth, and alarms the stuck loop", async () => {
    const sub = await subscribe(broker.url, "roadside/tr-1/#");
    const dev = await startSimDevice(site("tr-1"), { brokerUrl: broker.url, seed: SEED });
    const t0 = dev.clock.monoNs();
    await dev.run(30 * 60 + 5);
    await dev.stop();
    await sub.waitFor((m) => m.filter((x) => x.topic.includes("/traffic/lane1")).length >= 30);
    await sub.close();

    const traffic = sub.messages
      .filter((m) => m.topic.startsWith("roadside/tr-1/traffic/"))
      .map((m) => ({ lane: m.topic.split("/").pop()!, msg: decodeMessage(m.payload) }));
    const lane1 = traffic.filter((t) => t.lane === "lane1").map((t) => t.msg);
    const lane2 = traffic.filter((t) => t.lane === "lane2").map((t) => t.msg);
    expect(lane1.length).toBeGreaterThanOrEqual(30);
    expect(lane2.length).toBeGreaterThanOrEqual(6);

    // units from the SenML registry, as docs/payloads.md lists them
    const full = lane1.find((m) => (m.measures["speed.n"]?.v ?? 0) > 5)!;
    const units = Object.fromEntries(Object.entries(full.measures).map(([n, m]) => [n, m.u]));
    expect(units).toMatchObject({
      volume: "count",
      flow: "1/s",
      occupancy: "/",
      "speed.n": "count",
      "speed.tms": "km/h",
      "speed.sms": "km/h",
      "speed.p85": "km/h",
      "length.mean": "m",
      "class.motorcycle": "count",
      "class.short": "count",
      "class.medium": "count",
      "class.long": "count",
      wrongway: "count",
      "headway.mean": "s",
      "headway.min": "s",
      "gap.mean": "s",
      "gap.min": "s",
      "quality.observed": "/",
      "quality.faults": "count",
      "quality.excluded": "s",
      "quality.glitches": "count",
      "quality.dropped": "count",
      "quality.unpaired": "count",
    });
    expect(lane2.find((m) => m.measures["speed.est"])?.measures["speed.est"]?.u).toBe("km/h");

    const faultFrom = t0 + 600e9;
    const faultTo = t0 + 900e9 + 120e9;
    for (const [lane, msgs] of [
      ["lane1", lane1],
      ["lane2", lane2],
    ] as const) {
      for (const m of msgs) {
        const startNs = dev.clock.toMonoNs(m.windowStartMs);
        const endNs = startNs + m.observedS * 1e9;
        if (lane === "lane1" && startNs < faultTo && endNs > faultFrom) continue;
        const truth = dev.vehicles.filter((v) => v.detector === lane && v.countNs >= startNs && v.countNs < endNs - 1e3);
        expect(m.measures["volume"]?.v, `${lane} at ${new Date(m.windowStartMs).toISOString()}`).toBe(truth.length);
        if (lane !== "lane1" || (m.measures["speed.n"]?.v ?? 0) < 5) continue;
        const speeds = dev.vehicles
          .filter((v) => v.detector === lane && !v.wrongWay && v.card[1] && v.card[1].offNs >= startNs && v.card[1].offNs < endNs)
          .map((v) => v.speedMs * 3.6);
        expect(Math.abs(m.measures["speed.p85"]!.v! - percentile(speeds, speeds.length, 0.85))).toBeLessThanOrEqual(1);
      }
    }
    // the stuck loop is a fault, not traffic: alarmed with NTCIP 210, and never 100 % occupancy
    const alarms = sub.messages.filter((m) => m.topic === "roadside/tr-1/alarm/lane1").map((m) => decodeMessage(m.payload));
    const fault = alarms.filter((a) => a.measures["alarm"]?.vs === "detector-fault");
    expect(fault.map((a) => [a.measures["state"]?.vs, a.measures["code"]?.v, a.measures["input"]?.vs, a.measures["fault"]?.vs])).toEqual([
      ["start", 210, "l1.up", "locked-on"],
      ["end", 210, "l1.up", "locked-on"],
    ]);
    expect(lane1.every((m) => (m.measures["occupancy"]?.v ?? 0) < 0.5)).toBe(true);
    expect(lane1.some((m) => m.measures["occupancy.loop"]?.vs === "downstream")).toBe(true);
    const truthWw = dev.vehicles.filter(
      (v) => v.detector === "lane1" && v.wrongWay && (v.countNs < faultFrom || v.countNs > faultTo),
    ).length;
    expect(alarms.filter((a) => a.measures["alarm"]?.vs === "wrong-way").length).toBe(truthWw);

    // the retained manifest lists the measures
    const manifest = sub.messages.find((m) => m.topic === "roadside/tr-1/manifest");
    const streams = JSON.parse(manifest!.payload.toString()).streams as { name: string; measures: { n: string; u?: string }[] }[];
    expect(streams.find((s) => s.name === "lane1")!.measures.map((m) => m.n)).toContain("speed.p85");
    expect(streams.find((s) => s.name === "lane2")!.measures.map((m) => m.n)).toContain("speed.est");
  });
});
