import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { replay } from "../../src/sim/session.js";
import { parseTrace } from "../../src/sim/trace.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { decodeAll } from "../helpers/decode.js";
import { mustLoad } from "../helpers/sim-device.js";

const START = "2026-01-05T07:00:00.000Z";
const config = () =>
  mustLoad({
    device: { id: "eor", board: "sim" },
    inputs: { up: { line: 17 }, down: { line: 27 } },
    detectors: { lane: { loops: ["up", "down"], spacingM: 6, loopLengthM: 1.8 } },
    windows: { default: "1m" },
  });

/** DOMAIN.md ORACLE vehicle (90 km/h, 4.50 m) with its front at the upstream loop at `t0` s. */
function oracle(t0: number): string[] {
  const e = (t: number, input: string, level: number) => JSON.stringify({ t: Math.round((t0 + t) * 1e6) / 1e6, input, level });
  return [e(0, "up", 1), e(0.24, "down", 1), e(0.252, "up", 0), e(0.492, "down", 0)];
}

async function run(broker: EmbeddedBroker, lines: string[]) {
  const sub = await subscribe(broker.url, "roadside/eor/#");
  const trace = parseTrace([JSON.stringify({ trace: 1, start: START }), ...lines].join("\n"));
  const r = await replay({
    loaded: config(),
    trace,
    brokerUrl: broker.url,
    speed: "max",
    logger: silentLogger,
    mqtt: { backoffMinMs: 50, backoffMaxMs: 500 },
    drainTimeoutMs: 20_000,
  });
  await sub.waitFor((m) => decodeAll(m).length >= r.committed);
  await sub.close();
  return decodeAll(sub.messages)
    .filter((s) => s.msg.kind === "traffic")
    .map((s) => s.msg);
}

describe("end of a run (issue 14)", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  it("a trace without an end line ends at its last signal, and its last edge leaves the glitch filter: the last vehicle has its speed and class", async () => {
    const w = await run(broker, [...oracle(30), ...oracle(119)]);
    expect(w.map((m) => m.windowStartMs - Date.parse(START))).toEqual([0, 60_000]);
    const last = w[1]!.measures;
    expect(last["volume"]?.v).toBe(1);
    expect(last["speed.n"]?.v).toBe(1);
    expect(last["speed.tms"]?.v).toBeCloseTo(90, 1);
    expect(last["length.mean"]?.v).toBeCloseTo(4.5, 2);
    expect(last["class.short"]?.v).toBe(1);
  });

  it("a run ending exactly on a boundary publishes no empty window", async () => {
    const w = await run(broker, [...oracle(30), JSON.stringify({ t: 120, end: true })]);
    expect(w.map((m) => m.windowStartMs - Date.parse(START))).toEqual([0, 60_000]);
    expect(w.map((m) => m.seq)).toEqual([w[0]!.seq, w[0]!.seq + 1]);
  });
});
