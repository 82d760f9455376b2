import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEATURES } from "../../src/features/index.js";
import { silentLogger } from "../../src/log/logger.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import { replay, simulate } from "../../src/sim/session.js";
import { SCENARIOS } from "../../src/sim/site.js";
import { parseTrace } from "../../src/sim/trace.js";
import type { Received } from "../helpers/brokers.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { gaugeFeature, gaugeScenario } from "../helpers/gauge.js";
import { mustLoad } from "../helpers/sim-device.js";

const SEED = 42;
const HOURS = 3;
const START = Date.UTC(2026, 0, 5, 6, 0, 0);

function site() {
  const loaded = mustLoad({
    device: { id: "rr-1", board: "sim" },
    inputs: { "l1.up": { line: 17 }, "l1.down": { line: 27 }, "l2.up": { line: 22 }, "l2.down": { line: 23 } },
    detectors: { lane1: { loops: ["l1.up", "l1.down"] }, lane2: { loops: ["l2.up", "l2.down"] } },
    windows: { default: "1m" },
    sim: {
      seed: SEED,
      traffic: { lane1: { vehiclesPerHour: 900, speedKmh: 60 }, lane2: { vehiclesPerHour: 500, speedKmh: 45 } },
      // exactly on a window boundary: the step closes that window once, and nothing is lost
      faults: [{ at: "100m", kind: "clock-jump", params: { deltaS: 3600 } }],
    },
  });
  // the test gauge has no config section of its own, so its faults are added after validation
  loaded.config.sim!.faults.push(
    { at: 1800, for: 300, kind: "unplug", target: "gauge" },
    { at: 3000, kind: "garbage", target: "gauge", params: { bytes: 40 } },
    { at: 4000, for: 600, kind: "partial-frames", target: "gauge" },
    { at: 7000, for: 300, kind: "wrong-baud", target: "gauge" },
  );
  return loaded;
}

const data = (msgs: Received[]) =>
  msgs
    .filter((m) => /\/(traffic|level)\//.test(m.topic))
    .map((m) => ({ topic: m.topic, payload: m.payload, msg: decodeMessage(m.payload) }))
    .sort((a, b) => a.msg.seq - b.msg.seq);

describe(`record a simulated run with faults, replay its trace: the same summaries (seed ${SEED}, ${HOURS} h)`, () => {
  let broker: EmbeddedBroker;
  let dir: string;
  beforeAll(async () => {
    broker = await startAedes();
    dir = mkdtempSync(join(tmpdir(), "roadside-rr-"));
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("publishes byte-identical summaries from the live run and from its replayed trace", async () => {
    const common = {
      brokerUrl: broker.url,
      speed: "max" as const,
      logger: silentLogger,
      features: [...FEATURES, gaugeFeature],
      mqtt: { backoffMinMs: 50, backoffMaxMs: 500 },
      drainTimeoutMs: 30_000,
    };
    const tracePath = join(dir, "trace.jsonl");
    const truthPath = join(dir, "truth.jsonl");

    const liveSub = await subscribe(broker.url, "roadside/rr-1/#");
    const live = await simulate({
      ...common,
      loaded: site(),
      startWallMs: START,
      durationS: HOURS * 3600,
      recordPath: tracePath,
      truthPath,
      scenarios: [...SCENARIOS, gaugeScenario],
    });
    expect(live.undelivered).toBe(0);
    await liveSub.waitFor((m) => data(m).length >= live.committed);
    await liveSub.close();

    const replaySub = await subscribe(broker.url, "roadside/rr-1/#");
    const again = await replay({ ...common, loaded: site(), trace: tracePath });
    expect(again.undelivered).toBe(0);
    await replaySub.waitFor((m) => data(m).length >= again.committed);
    await replaySub.close();

    const a = data(liveSub.messages);
    const b = data(replaySub.messages);
    expect(a.length).toBe(live.committed);
    expect(a.length).toBeGreaterThan(HOURS * 60 * 3 - 5);
    expect(b.map((x) => x.topic)).toEqual(a.map((x) => x.topic));
    for (let i = 0; i < a.length; i++) {
      expect(b[i]!.msg, `message ${i} (${a[i]!.topic} seq ${a[i]!.msg.seq})`).toEqual(a[i]!.msg);
      expect(b[i]!.payload.equals(a[i]!.payload)).toBe(true);
    }

    // the faults really happened, and the summaries show them
    const gauge = a.filter((x) => x.msg.stream === "gauge").map((x) => x.msg);
    expect(gauge.some((m) => m.measures["bad"]!.v! > 0)).toBe(true); // garbage, partial frames, wrong baud
    expect(gauge.filter((m) => m.measures["samples"]!.v === 0).length).toBeGreaterThanOrEqual(4); // unplugged for 5 min
    // the window the NTP step closed early and the one it opened, per stream
    expect(a.filter((x) => x.msg.timeq === "jump").length).toBe(6);

    // the trace: header, initial levels at t = 0, edges, serial data, the port loss, the clock jump, the end
    const trace = parseTrace(readFileSync(tracePath, "utf8"));
    expect(trace.issues).toEqual([]);
    expect(trace.header.start).toBe(new Date(START).toISOString());
    const kinds = new Set(trace.lines.map((l) => l.kind));
    expect([...kinds].sort()).toEqual(["clock-jump", "data", "end", "input", "port-state"]);
    expect(trace.lines.filter((l) => l.kind === "input" && l.t === 0).length).toBe(4);
    expect(trace.lines.at(-1)).toEqual({ t: HOURS * 3600, kind: "end" });

    // ground truth: every vehicle and fault; the published volumes count exactly the vehicles
    const truth = readFileSync(truthPath, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(truth[0]).toMatchObject({ truth: 1, seed: SEED, start: new Date(START).toISOString() });
    const vehicles = truth.filter((r) => r["kind"] === "vehicle");
    const faults = truth.filter((r) => r["kind"] === "fault").map((r) => r["fault"]);
    expect(faults).toEqual(["unplug", "garbage", "partial-frames", "clock-jump", "wrong-baud"]);
    const volume = a.filter((x) => x.msg.kind === "traffic").reduce((s, x) => s + (x.msg.measures["volume"]?.v ?? 0), 0);
    // a vehicle counts when its card's leading edge reaches the board (countNs), which card latency
    // can push past the end of the run
    const endNs = (truth[0]!["startMonoNs"] as number) + HOURS * 3600e9;
    const counted = vehicles.filter((v) => Number.isFinite(v["countNs"] as number) && (v["countNs"] as number) < endNs);
    expect(volume).toBe(counted.length);
  });
});
