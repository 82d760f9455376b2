import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { levelThresholds } from "../../src/web/series.js";
import { startAedes } from "../helpers/brokers.js";
import { startSimDevice } from "../helpers/sim-device.js";

// A chart of a manhole draws its overflow and alert lines from the manifest (docs/payloads.md
// "Manifest": streams[].limits), not from the words of its description.
describe("a manhole's level stream in the manifest carries its overflow and alert depths", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  it("limits from overflowHeightMm and alertShare; the web view reads them", async () => {
    const sim = await startSimDevice(
      {
        device: { id: "mh-lim", board: "sim" },
        manholes: {
          mh1: {
            sensor: { type: "maxbotix", model: "hrxl-10m", port: { path: "sim0" } },
            mountHeightMm: 2400,
            overflowHeightMm: 1500,
            alertShare: 0.7,
          },
        },
      },
      { brokerUrl: broker.url, seed: 5 },
    );
    try {
      const stream = sim.device.manifest().streams.find((s) => s.kind === "level" && s.name === "mh1");
      expect(stream?.limits).toEqual({ overflowDepthM: 1.5, alertDepthM: 1.05 });
      expect(levelThresholds(stream!)).toEqual({ overflowM: 1.5 });
      // a device that predates limits: the description still serves
      expect(levelThresholds({ description: "Water depth …; overflow at 1200 mm, spills …" })).toEqual({ overflowM: 1.2 });
    } finally {
      await sim.stop();
    }
  });
});
