import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { decodeAll } from "../helpers/decode.js";
import { startSimDevice } from "../helpers/sim-device.js";

const SEED = 14;
const T0 = Date.UTC(2026, 0, 5, 7, 0, 30); // the sampling timer runs 30 s off the window boundaries

describe(`a manhole sample belongs to the window its readings were taken in (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  it("readings before an unplug count in their own window; a window wholly inside the outage reports no depth", async () => {
    const sub = await subscribe(broker.url, "roadside/mh-o/#");
    let committed = 0;
    const config = {
      device: { id: "mh-o", board: "sim" },
      manholes: {
        mh1: {
          sensor: { type: "maxbotix" as const, port: { path: "sim0", baudRate: 9600 } },
          mountHeightMm: 2400,
          overflowHeightMm: 1500,
          staleAfter: "2m",
          window: "1m",
        },
      },
      // unplugged 07:09:40 (10 s after a sample) to 07:14:30
      sim: { seed: SEED, sewer: { mh1: {} }, faults: [{ at: "550s", for: "290s", kind: "unplug", target: "mh1" }] },
    };
    const dev = await startSimDevice(config, {
      brokerUrl: broker.url,
      seed: SEED,
      startWallMs: T0,
      deps: { onCommitted: (m) => (committed += m.length) },
    });
    await dev.run(13 * 60);
    await dev.stop();
    await sub.waitFor((m) => decodeAll(m).length >= committed);
    await sub.close();
    const levels = decodeAll(sub.messages).filter((s) => s.msg.kind === "level");
    const at = (hh: number, mm: number) => levels.find((s) => s.msg.windowStartMs === Date.UTC(2026, 0, 5, hh, mm))?.msg.measures;
    // 07:09: readings from 07:09:30 to the unplug at 07:09:40 make the window's last sample
    expect(at(7, 9)?.["samples"]?.v, `seed ${SEED}`).toBe(2);
    expect(at(7, 9)?.["depthMean"]?.v).toBeGreaterThan(0);
    for (const m of [10, 11, 12]) {
      expect(at(7, m)?.["samples"]?.v, `07:${m} (unplugged), seed ${SEED}`).toBe(0);
      expect(at(7, m)?.["depthMean"]).toBeUndefined();
    }
    // before the outage every full window has exactly one sample stamped inside it
    for (const m of [2, 3, 4, 5]) expect(at(7, m)?.["samples"]?.v).toBe(2);
  });
});
