import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { DeviceConfigInput } from "../../src/config/schema.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { startSimDevice } from "../helpers/sim-device.js";

/**
 * What docs/payloads.md and docs/subscribing.md promise a subscriber, checked against a real device
 * in virtual time: a partial window's `bt` is the aligned window start, health is retained, and the
 * health example's sections are what a device sends.
 */
const doc = (p: string): string => readFileSync(fileURLToPath(new URL(`../../${p}`, import.meta.url)), "utf8");
const START = Date.UTC(2026, 0, 5, 7, 0, 25); // 25 s into a minute: the first window is partial

describe("the payload contract on a device started inside a window", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it("a partial window's bt is the aligned window start, observed says how much was seen; health is retained as documented", async () => {
    const manhole = parseYaml(doc("examples/manhole.yaml")) as { inputs: Record<string, unknown>; manholes: Record<string, unknown> };
    const config = {
      device: { id: "bt-1", board: "sim" },
      inputs: { ...manhole.inputs, "lane1.up": { line: "GPIO22" } },
      detectors: { lane1: { loops: ["lane1.up"] } },
      manholes: manhole.manholes,
      windows: { default: "1m" },
      health: { interval: "30s" },
      sim: { seed: 5, traffic: { lane1: { vehiclesPerHour: 600 } } },
    } as unknown as DeviceConfigInput;
    const sub = await subscribe(broker.url, "roadside/bt-1/traffic/#");
    const dev = await startSimDevice(config, { brokerUrl: broker.url, startWallMs: START });
    await dev.run(100); // to 07:02:05
    await dev.stop();
    await sub.waitFor((m) => m.length >= 3);
    const got = sub.messages
      .map((m) => decodeMessage(m.payload))
      .map((d) => [new Date(d.windowStartMs).toISOString(), d.windowS, d.observedS]);
    expect(got).toEqual([
      ["2026-01-05T07:00:00.000Z", 60, 35],
      ["2026-01-05T07:01:00.000Z", 60, 60],
      ["2026-01-05T07:02:00.000Z", 60, 5],
    ]);
    await sub.close();

    // subscribing after the device stopped still gets its last heartbeat: it is retained
    const late = await subscribe(broker.url, "roadside/bt-1/health");
    await late.waitFor((m) => m.length >= 1);
    expect(late.messages[0]!.retain).toBe(true);
    const health = JSON.parse(late.messages[0]!.payload.toString()) as { sections: Record<string, Record<string, unknown>> };
    await late.close();
    for (const [file, row] of [
      ["docs/payloads.md", /^\| `\{prefix\}\/\{device\}\/health` \| (yes|no) \|/m],
      ["docs/subscribing.md", /^\| `…\/health` \| (yes|no) \|/m],
    ] as const) {
      expect(row.exec(doc(file))?.[1], `${file}: the health row of the topic table`).toBe("yes");
    }

    // the health example in payloads.md shows the sections a device really sends, key for key
    const text = doc("docs/payloads.md");
    const start = text.indexOf('{\n  "health": 1,');
    const example = JSON.parse(text.slice(start, text.indexOf("\n}\n", start) + 2)) as {
      sections: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(example.sections["sensor.mh1"]!).sort()).toEqual(Object.keys(health.sections["sensor.mh1"]!).sort());
    expect(Object.keys(example.sections["traffic.lane1"]!).sort()).toEqual(Object.keys(health.sections["traffic.lane1"]!).sort());
    expect(JSON.stringify(example)).not.toContain("no-echo");
  });
});
