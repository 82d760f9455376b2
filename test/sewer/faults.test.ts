import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { alarms, decodeAll } from "../helpers/decode.js";
import type { SimDevice } from "../helpers/sim-device.js";
import { startSimDevice } from "../helpers/sim-device.js";

const SEED = 3;

function site(id: string, faults: { at: string; for: string; kind: string; target: string }[], baudRate = 9600) {
  return {
    device: { id, board: "sim" },
    manholes: {
      mh1: {
        sensor: { type: "maxbotix" as const, port: { path: "sim0", baudRate } },
        mountHeightMm: 2400,
        overflowHeightMm: 1500,
        staleAfter: "2m",
        window: "5m",
      },
    },
    sim: { seed: SEED, sewer: { mh1: {} }, faults },
  };
}

type Health = Record<string, string | number | boolean | null>;
const health = (dev: SimDevice): Health => dev.device.health.snapshot()["sensor.mh1"]!;

describe(`serial faults on a manhole sensor are counted, reported in health and as sensor faults (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  it("unplug, garbage and partial frames", async () => {
    const sub = await subscribe(broker.url, "roadside/mh-f/#");
    let committed = 0;
    const faults = [
      { at: "10m", for: "10m", kind: "unplug", target: "mh1" },
      { at: "30m", for: "5m", kind: "garbage", target: "mh1" },
      { at: "40m", for: "10m", kind: "partial-frames", target: "mh1" },
    ];
    const dev = await startSimDevice(site("mh-f", faults), {
      brokerUrl: broker.url,
      seed: SEED,
      deps: { onCommitted: (m) => (committed += m.length) },
    });
    await dev.run(20 * 60);
    expect(health(dev).state).toBe("unplugged");
    // the serial link reopens on its own (real-time backoff): let it, while the sensor keeps sending
    for (let i = 0; i < 200 && health(dev).state !== "ok"; i++) {
      await dev.run(5);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(health(dev).state).toBe("ok");
    await dev.run(40 * 60);
    const h = health(dev);
    await dev.stop();
    await sub.waitFor((m) => decodeAll(m).length >= committed);
    await sub.close();
    const seen = decodeAll(sub.messages);
    const starts = alarms(seen, "sensor-fault", "start").map((m) => m.measures["cause"]?.vs);
    expect(starts).toEqual(["unplugged", "garbled"]);
    expect(alarms(seen, "sensor-fault", "end").length).toBe(2);
    expect(h["garbageBytes"]).toBeGreaterThan(100);
    expect(h["partialFrames"]).toBeGreaterThan(100);
    expect(h["faults"]).toBe(2);
    // garbage between good frames raised nothing: levels kept flowing through it
    const level = seen.filter(
      (s) =>
        s.msg.kind === "level" && s.msg.windowStartMs >= Date.UTC(2026, 0, 5, 7, 30) && s.msg.windowStartMs < Date.UTC(2026, 0, 5, 7, 35),
    );
    expect(level[0]?.msg.measures["samples"]?.v).toBeGreaterThan(3);
  });

  it("a port opened at the wrong baud rate is reported as garbled, naming the baud rate", async () => {
    const sub = await subscribe(broker.url, "roadside/mh-b/#");
    let committed = 0;
    const dev = await startSimDevice(site("mh-b", [], 19200), {
      brokerUrl: broker.url,
      seed: SEED,
      deps: { onCommitted: (m) => (committed += m.length) },
    });
    await dev.run(5 * 60);
    expect(health(dev).state).toBe("garbled");
    expect(health(dev).ranges).toBe(0);
    await dev.stop();
    await sub.waitFor((m) => decodeAll(m).length >= committed);
    await sub.close();
    const f = alarms(decodeAll(sub.messages), "sensor-fault", "start");
    expect(f.length).toBe(1);
    expect(f[0]!.measures["message"]?.vs).toMatch(/check baudRate \(MaxBotix sensors send 9600 8N1\)/);
  });
});
