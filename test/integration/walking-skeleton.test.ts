import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { startSimDevice } from "../helpers/sim-device.js";

const SEED = 42;

/** A two-lane simulated site with 10 s windows, busy enough that most windows see vehicles. */
function site(id: string) {
  return {
    device: { id, board: "sim" },
    inputs: { "l1.up": { line: 17 }, "l1.down": { line: 27 }, "l2.up": { line: 22 } },
    detectors: { lane1: { loops: ["l1.up", "l1.down"] }, lane2: { loops: ["l2.up"] } },
    windows: { default: "10s" },
    sim: { seed: SEED, traffic: { lane1: { vehiclesPerHour: 1200, speedKmh: 60 }, lane2: { vehiclesPerHour: 700, speedKmh: 40 } } },
  };
}

describe(`walking skeleton against an in-process broker (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  it("publishes per-lane volume and occupancy that match the simulator's vehicles", async () => {
    const sub = await subscribe(broker.url, "roadside/ws-1/#");
    const dev = await startSimDevice(site("ws-1"), { brokerUrl: broker.url, seed: SEED });
    const startWall = dev.clock.wallMs();
    await dev.run(65); // six full windows and a partial first one
    await dev.stop();
    await sub.waitFor((m) => m.filter((x) => x.topic.includes("/traffic/")).length >= 14);
    await sub.close();

    const status = sub.messages.filter((m) => m.topic === "roadside/ws-1/status");
    expect(status[0]?.payload.toString()).toBe("online");
    expect(status[0]?.retain).toBe(false); // a live subscriber sees the publish, not the retained copy
    const data = sub.messages.filter((m) => m.topic.startsWith("roadside/ws-1/traffic/"));
    expect(data.every((m) => m.qos === 1)).toBe(true);
    const decoded = data.map((m) => ({ topic: m.topic, msg: decodeMessage(m.payload) }));

    // sequence numbers: one per message, gap-free, starting at 1
    const seqs = decoded.map((d) => d.msg.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    let vehiclesSeen = 0;
    for (const { topic, msg } of decoded) {
      const lane = topic.split("/").pop()!;
      expect(msg.device).toBe("ws-1");
      expect(msg.stream).toBe(lane);
      expect(msg.windowS).toBe(10);
      const startNs = dev.clock.toMonoNs(msg.windowStartMs);
      const endNs = startNs + msg.observedS * 1e9;
      // the device counts a vehicle at its card's leading edge (the card adds latency to the physical one)
      const truth = dev.vehicles.filter((v) => v.detector === lane && v.countNs >= startNs && v.countNs < endNs - 1e3);
      expect(msg.measures["volume"]?.v, `${lane} window at ${new Date(msg.windowStartMs).toISOString()}`).toBe(truth.length);
      vehiclesSeen += truth.length;
      // occupancy: the upstream card's on-time clipped to the window, over the window
      let onNs = 0;
      for (const v of dev.vehicles.filter((x) => x.detector === lane)) {
        const l = v.card[0]!;
        onNs += Math.max(0, Math.min(l.offNs, endNs) - Math.max(l.onNs, startNs));
      }
      expect(msg.measures["occupancy"]?.v).toBeCloseTo(onNs / 1e9 / msg.observedS, 3);
      expect(msg.measures["flow"]?.u).toBe("1/s");
    }
    expect(vehiclesSeen).toBeGreaterThan(15);
    // windows are aligned: every window but the first starts on a multiple of 10 s
    const aligned = decoded.filter((d) => d.msg.windowStartMs > startWall);
    expect(aligned.every((d) => d.msg.windowStartMs % 10_000 === 0)).toBe(true);
  });
});
