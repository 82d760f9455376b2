import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { decodeAll } from "../helpers/decode.js";
import { laneRig, S } from "../helpers/lane.js";
import { startSimDevice } from "../helpers/sim-device.js";

const SEED = 1402;

describe(`a stuck loop raises locked-on, not unpaired; every fault start carries its delay (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  it("downstream loop stuck on for 10 min in 300 veh/h", async () => {
    const sub = await subscribe(broker.url, "roadside/stuck/#");
    let committed = 0;
    const config = {
      device: { id: "stuck", board: "sim" },
      inputs: { up: { line: 17 }, down: { line: 27 } },
      detectors: { lane: { loops: ["up", "down"] } },
      windows: { default: "1m" },
      sim: {
        seed: SEED,
        traffic: { lane: { vehiclesPerHour: 300, speedKmh: 90 } },
        faults: [{ at: "20m", for: "10m", kind: "stuck-on", target: "down" }],
      },
    };
    const dev = await startSimDevice(config, { brokerUrl: broker.url, seed: SEED, deps: { onCommitted: (m) => (committed += m.length) } });
    await dev.run(40 * 60);
    await dev.stop();
    await sub.waitFor((m) => decodeAll(m).length >= committed);
    await sub.close();
    const faults = decodeAll(sub.messages)
      .filter((s) => s.msg.kind === "alarm" && s.msg.measures["alarm"]?.vs === "detector-fault")
      .map((s) => ({
        state: s.msg.measures["state"]?.vs,
        fault: s.msg.measures["fault"]?.vs,
        input: s.msg.measures["input"]?.vs,
        delay: s.msg.measures["delay"]?.v,
        code: s.msg.measures["code"]?.v,
      }));
    const truth = dev.truth.filter((r) => r.kind === "fault");
    expect(truth.length, `seed ${SEED}`).toBe(1);
    // the sequence a technician sees: locked-on on the stuck input, then its end; nothing else
    expect(
      faults.map((f) => `${f.state} ${f.fault} ${f.input}`),
      `seed ${SEED}`,
    ).toEqual(["start locked-on down", "end locked-on down"]);
    for (const f of faults.filter((x) => x.state === "start")) expect(typeof f.delay).toBe("number");
    // recognised 2 min after the presence began (IRIS locked-on, mainline)
    expect(faults[0]!.delay).toBeGreaterThanOrEqual(120);
    expect(faults[0]!.delay).toBeLessThan(150);
  });
});

describe("fault-start alarms carry their delay, 0 included", () => {
  it("chatter is recognised at the end of the sample it happened in: delay 0 s", () => {
    const r = laneRig({}, { windowS: 60 });
    for (let i = 0; i < 40; i++) r.pulse(0, (1 + i * 0.7) * S, (1.2 + i * 0.7) * S);
    r.until(60 * S);
    const start = r.alarms.find((a) => a.state === "start");
    expect(start?.measures?.find((m) => m.n === "fault")?.vs).toBe("chatter");
    expect(start?.measures?.find((m) => m.n === "delay")).toEqual({ n: "delay", u: "s", v: 0 });
  });
});
