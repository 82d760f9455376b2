import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceConfigInput } from "../../src/config/schema.js";
import { healthFingerprint } from "../../src/control/health-changes.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { startSimDevice } from "../helpers/sim-device.js";

const SEED = 99;

function lane(profile: "standard" | "cellular", id: string): DeviceConfigInput {
  return {
    device: { id, board: "sim" },
    inputs: { "l1.up": { line: "GPIO17" }, "l1.down": { line: "GPIO27" } },
    detectors: { lane1: { loops: ["l1.up", "l1.down"] } },
    windows: { default: "5m" },
    health: { interval: "1m" },
    publish: { profile, healthEvery: "1h" },
    sim: { seed: SEED, traffic: { lane1: { vehiclesPerHour: 600, speedKmh: 80 } } },
  } as DeviceConfigInput;
}

describe(`cellular profile health: changes plus a slow heartbeat (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  it("what grows by itself (time, uptime, deliveries, counters of traffic) is no change; faults, drops and states are", () => {
    const base = {
      time: "2026-01-05T07:00:00.000Z",
      uptimeS: 60,
      outbox: { depth: 0, dropped: { routine: 0, alarms: 0 }, lastLoss: null },
      mqtt: { state: "connected", reconnects: 0, delivered: 10, since: "2026-01-05T06:59:00.000Z" },
      sections: {
        "traffic.lane1": { vehicles: 5, faults: "", inFault: false },
        "sensor.mh1": { state: "ok", levelState: "normal", depthM: null },
      },
    };
    const print = healthFingerprint(base);
    const later = structuredClone(base);
    later.time = "2026-01-05T08:00:00.000Z";
    later.uptimeS = 3660;
    later.mqtt.delivered = 900;
    later.sections["traffic.lane1"].vehicles = 700;
    (later.sections["sensor.mh1"] as { depthM: number | null }).depthM = 0.4;
    later.sections["sensor.mh1"].levelState = "spill";
    expect(healthFingerprint(later)).toBe(print);
    for (const change of [
      (h: typeof base) => (h.sections["traffic.lane1"].faults = "l1.up:locked-on"),
      (h: typeof base) => (h.outbox.dropped.routine = 3),
      (h: typeof base) => (h.mqtt.reconnects = 1),
      (h: typeof base) => (h.sections["sensor.mh1"].state = "silent"),
      (h: typeof base) => (h.mqtt.state = "disconnected"),
    ]) {
      const h = structuredClone(base);
      change(h);
      expect(healthFingerprint(h), change.toString()).not.toBe(print);
    }
  });

  it("in 3 simulated hours of a quiet lane: a heartbeat at connect and one an hour, against one a minute in the standard profile", async () => {
    const counts: Record<string, number> = {};
    for (const profile of ["standard", "cellular"] as const) {
      const id = `hc-${profile}`;
      const sub = await subscribe(broker.url, `roadside/${id}/health`);
      const dev = await startSimDevice(lane(profile, id), { brokerUrl: broker.url, seed: SEED });
      await dev.run(3 * 3600 + 30);
      const expected = profile === "cellular" ? 4 : 3 * 60 + 1;
      await sub.waitFor((m) => m.length >= expected);
      await dev.stop();
      await new Promise((r) => setTimeout(r, 200));
      await sub.close();
      counts[profile] = sub.messages.filter((m) => m.payload.length > 0).length;
    }
    expect(counts, `seed ${SEED}`).toEqual({ standard: 3 * 60 + 1, cellular: 4 });
  });
});
