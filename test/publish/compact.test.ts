import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceConfigInput } from "../../src/config/schema.js";
import { silentLogger } from "../../src/log/logger.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { annotateLoss, decodeMessage } from "../../src/publish/envelope.js";
import { simulate } from "../../src/sim/session.js";
import type { DataEvent, WatchEvent } from "../../src/watch/events.js";
import { decodeMessages } from "../../src/watch/compact.js";
import { WatchModel } from "../../src/watch/model.js";
import type { Received } from "../helpers/brokers.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { mustLoad } from "../helpers/sim-device.js";

const SEED = 4711;
const START = Date.UTC(2026, 0, 5, 13);

/** The full site of scripts/bench/configs/site-24h.yaml, every stream on 5-minute windows, a storm at the start. */
function site(profile: "standard" | "cellular", id: string): DeviceConfigInput {
  const inputs: Record<string, { line: string; activeLow?: boolean }> = {};
  const lines = ["GPIO17", "GPIO27", "GPIO22", "GPIO23", "GPIO24", "GPIO25", "GPIO5", "GPIO6"];
  const detectors: Record<string, { loops: [string, string] }> = {};
  for (let i = 1; i <= 4; i++) {
    inputs[`l${i}.up`] = { line: lines[2 * i - 2]! };
    inputs[`l${i}.down`] = { line: lines[2 * i - 1]! };
    detectors[`lane${i}`] = { loops: [`l${i}.up`, `l${i}.down`] };
  }
  inputs["mh1.cover"] = { line: "GPIO12", activeLow: false };
  inputs["bin1.tilt"] = { line: "GPIO13", activeLow: false };
  inputs["bin1.lid"] = { line: "GPIO16", activeLow: false };
  return {
    device: { id, board: "sim" },
    inputs,
    detectors,
    manholes: {
      mh1: {
        sensor: { type: "maxbotix", model: "hrxl", port: { path: "sim0" } },
        mountHeightMm: 2400,
        overflowHeightMm: 1500,
        cover: { input: "mh1.cover" },
        window: "5m",
      },
    },
    bins: {
      bin1: {
        distance: { type: "maxbotix", model: "hrxl", port: { path: "sim1" } },
        emptyDistanceMm: 1100,
        fullDistanceMm: 350,
        temperature: { adc: { address: 0x48, channel: 1 } },
        tilt: { input: "bin1.tilt" },
        lid: { input: "bin1.lid" },
        window: "5m",
      },
    },
    windows: { default: "5m" },
    publish: { profile },
    sim: {
      seed: SEED,
      traffic: {
        lane1: { vehiclesPerHour: 1400, speedKmh: 90 },
        lane2: { vehiclesPerHour: 1100, speedKmh: 100 },
        lane3: { vehiclesPerHour: 900, speedKmh: 110 },
        lane4: { vehiclesPerHour: 20, speedKmh: 80 },
      },
      sewer: { mh1: { storms: [{ at: "10m", for: "60m", intensityMmH: 35 }] } },
      bins: { bin1: { depositsPerHour: 6 } },
    },
  } as DeviceConfigInput;
}

/** What a subscriber learns about each window of each stream, keyed `kind/stream@start`. */
function windows(events: readonly WatchEvent[]): Map<string, Omit<DataEvent, "receivedAt" | "seq" | "seqCheck">> {
  const out = new Map<string, Omit<DataEvent, "receivedAt" | "seq" | "seqCheck">>();
  for (const ev of events) {
    if (ev.type !== "data") continue;
    const { receivedAt: _r, seq: _s, seqCheck: _c, ...rest } = ev;
    out.set(`${ev.kind}/${ev.stream}@${ev.windowStart}`, rest);
  }
  return out;
}

function watch(messages: readonly Received[]): WatchEvent[] {
  const model = new WatchModel({ prefix: "roadside" });
  return messages.flatMap((m) => model.message(m.topic, m.payload, m.retain, Date.UTC(2026, 0, 5, 16)));
}

describe(`cellular profile: one pack per window, decoded back to the standard per-stream data (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  const runs = new Map<string, { messages: Received[]; committed: number }>();
  beforeAll(async () => {
    broker = await startAedes();
    for (const profile of ["standard", "cellular"] as const) {
      // one device id for both runs, so payloads and topics differ only by the profile
      const id = "pole-0042";
      const sub = await subscribe(broker.url, `roadside/${id}/#`);
      const r = await simulate({
        loaded: mustLoad(site(profile, id)),
        brokerUrl: broker.url,
        speed: "max",
        logger: silentLogger,
        mqtt: { backoffMinMs: 50, backoffMaxMs: 500 },
        drainTimeoutMs: 20_000,
        startWallMs: START,
        durationS: 2 * 3600,
      });
      const data = (m: Received[]) => m.filter((x) => /\/(traffic|level|bin|presence|alarm|window)\/?[^/]*$/.test(x.topic)).length;
      await sub.waitFor((m) => data(m) >= r.committed);
      await sub.close();
      runs.set(profile, { messages: sub.messages, committed: r.committed });
    }
  }, 120_000);
  afterAll(async () => {
    await broker.close();
  });

  it("every stream's every window has the same measures, units, window and time quality in both profiles", () => {
    const std = windows(watch(runs.get("standard")!.messages));
    const cell = windows(watch(runs.get("cellular")!.messages));
    expect(std.size, `seed ${SEED}`).toBe(6 * 24); // 4 lanes, a manhole, a bin; 2 h of 5-minute windows
    expect([...cell.keys()].sort()).toEqual([...std.keys()].sort());
    for (const [k, v] of std) expect(cell.get(k), `${k} (seed ${SEED})`).toEqual(v);
    // the storm and the traffic make values other than the defaults, so the defaults bits are not all there is
    const levels = [...std.values()].filter((e) => e.kind === "level").map((e) => e.measures["state"]?.vs);
    expect(new Set(levels).size, `seed ${SEED}: the storm should raise the level`).toBeGreaterThan(1);
  });

  it("sends one message per window on …/window, no per-stream topic, with no sequence gap, in under a third of the bytes", () => {
    const cell = runs.get("cellular")!.messages;
    const std = runs.get("standard")!.messages;
    const packs = cell.filter((m) => m.topic === "roadside/pole-0042/window");
    expect(packs.length).toBe(24);
    expect(cell.filter((m) => /\/(traffic|level|bin)\//.test(m.topic))).toEqual([]);
    const events = watch(cell);
    expect(events.filter((e) => e.type === "gap" || e.type === "invalid" || e.type === "conflict")).toEqual([]);
    const bytes = (ms: Received[]) =>
      ms.filter((m) => /\/(traffic|level|bin|window)(\/|$)/.test(m.topic)).reduce((a, m) => a + m.payload.length, 0);
    expect(bytes(packs) / bytes(std), `cellular ${bytes(packs)} B vs standard ${bytes(std)} B`).toBeLessThan(1 / 3);
  });

  it("a loss report on a pack is one dropped event on …/window, and the pack's streams still decode", () => {
    const pack = runs.get("cellular")!.messages.find((m) => m.topic === "roadside/pole-0042/window")!;
    const lost = annotateLoss(pack.payload, { count: 3, fromMs: START - 900_000, toMs: START });
    const model = new WatchModel({ prefix: "roadside" });
    const events = model.message(pack.topic, lost, false, START + 3600_000);
    const dropped = events.filter((e) => e.type === "dropped");
    expect(dropped).toEqual([
      expect.objectContaining({ topic: "roadside/pole-0042/window", count: 3, from: new Date(START - 900_000).toISOString() }),
    ]);
    expect(events.filter((e) => e.type === "data").length).toBe(6);
  });

  it("decodeMessages (for printing tools) gives a pack's six streams, and a standard message as itself", () => {
    const pack = runs.get("cellular")!.messages.find((m) => m.topic === "roadside/pole-0042/window")!;
    const streams = decodeMessages(pack.payload);
    expect(streams.map((m) => `${m.kind}/${m.stream}`).sort()).toEqual(
      ["bin/bin1", "level/mh1", "traffic/lane1", "traffic/lane2", "traffic/lane3", "traffic/lane4"].sort(),
    );
    expect(new Set(streams.map((m) => m.seq)).size).toBe(1);
    const std = runs.get("standard")!.messages.find((m) => m.topic === "roadside/pole-0042/traffic/lane1")!;
    expect(decodeMessages(std.payload)).toEqual([decodeMessage(std.payload)]);
  });
});
