import { describe, expect, it } from "vitest";
import { NS_PER_S } from "../clock/clock.js";
import { RealClock } from "../clock/real.js";
import { VirtualClock } from "../clock/virtual.js";
import type { SimFault } from "../config/sections/sim.js";
import { faultTargets, serialPortNames } from "../config/sim-faults.js";
import type { DeviceConfig } from "../config/schema.js";
import type { LoadedConfig } from "../config/load.js";
import { validateConfig } from "../config/load.js";
import type { ScenarioFactory, TruthRecord } from "./scenario.js";
import type { SimSerialDevice } from "./serial.js";
import { SimSite } from "./site.js";

const SEED = 5;

function loadedWith(faults: SimFault[]): LoadedConfig {
  const r = validateConfig({ device: { id: "f", board: "sim" }, sim: { seed: SEED } });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  r.loaded.config.sim!.faults.push(...faults);
  return r.loaded;
}

/** A sensor sending `R1234\r` every second for 100 s. */
function sensor(): { factory: ScenarioFactory; dev: () => SimSerialDevice } {
  let dev: SimSerialDevice | undefined;
  const factory: ScenarioFactory = (ctx) => {
    dev = ctx.createSerialDevice("mh1", "/dev/ttySIM0", 9600);
    const d = dev;
    return {
      name: "sensor",
      start: () => {
        for (let s = 1; s <= 100; s++) ctx.clock.setTimer(ctx.startNs + s * NS_PER_S, () => d.emit("R1234\r"));
      },
      stop: () => {},
    };
  };
  return { factory, dev: () => dev! };
}

describe(`generic faults (seed ${SEED})`, () => {
  it("unplug, garbage, partial frames and wrong baud act on the named sensor in their windows", async () => {
    const clock = new VirtualClock();
    const s = sensor();
    const truth: TruthRecord[] = [];
    const site = new SimSite(
      loadedWith([
        { at: 10, for: 5, kind: "unplug", target: "mh1" },
        { at: 20, for: 3, kind: "garbage", target: "mh1", params: { bytes: 7, everyS: 1 } },
        { at: 30, for: 10, kind: "partial-frames", target: "mh1", params: { share: 1 } },
        { at: 50, for: 5, kind: "wrong-baud", target: "mh1", params: { baud: 4800 } },
      ]),
      { clock, scenarios: [s.factory], onTruth: (r) => truth.push(r) },
    );
    const dev = s.dev();
    const emitted: { t: number; n: number }[] = [];
    const orig = dev.emit.bind(dev);
    dev.emit = (d) => {
      emitted.push({ t: clock.monoNs() / NS_PER_S, n: typeof d === "string" ? d.length : d.length });
      orig(d);
    };
    site.start();
    const seen: Record<number, unknown> = {};
    for (const t of [12, 16, 35, 41, 52, 56])
      clock.setTimer(t * NS_PER_S, () => (seen[t] = { plugged: dev.isPlugged, cut: dev.transform !== undefined, baud: dev.baudRate }));
    await clock.runUntil(100 * NS_PER_S);
    expect(seen).toEqual({
      12: { plugged: false, cut: false, baud: 9600 },
      16: { plugged: true, cut: false, baud: 9600 },
      35: { plugged: true, cut: true, baud: 9600 },
      41: { plugged: true, cut: false, baud: 9600 },
      52: { plugged: true, cut: false, baud: 4800 },
      56: { plugged: true, cut: false, baud: 9600 },
    });
    // garbage: bursts of 7 bytes at 20, 21, 22 s
    expect(emitted.filter((e) => e.n === 7).map((e) => e.t)).toEqual([20, 21, 22]);
    expect(truth.map((r) => [r["fault"], r["target"], r["startNs"]])).toEqual([
      ["unplug", "mh1", 10 * NS_PER_S],
      ["garbage", "mh1", 20 * NS_PER_S],
      ["partial-frames", "mh1", 30 * NS_PER_S],
      ["wrong-baud", "mh1", 50 * NS_PER_S],
    ]);
    site.stop();
  });

  it("cuts frames short while partial-frames is on", () => {
    const clock = new VirtualClock();
    const s = sensor();
    const site = new SimSite(loadedWith([{ at: 0, kind: "partial-frames", target: "mh1", params: { share: 1 } }]), {
      clock,
      scenarios: [s.factory],
    });
    site.start();
    clock.advanceTo(1);
    const cut = s.dev().transform!;
    for (let i = 0; i < 50; i++) expect(cut(Buffer.from("R1234\r")).length).toBeLessThan(6);
  });

  it("steps the virtual wall clock on clock-jump, and only warns on a real clock", async () => {
    const clock = new VirtualClock({ startWallMs: 0, synced: false });
    const site = new SimSite(loadedWith([{ at: 30, kind: "clock-jump", params: { deltaS: 86_400, synced: 1 } }]), { clock, scenarios: [] });
    const jumps: number[] = [];
    clock.onJump((d) => jumps.push(d));
    site.start();
    await clock.runUntil(60 * NS_PER_S);
    expect(jumps).toEqual([86_400_000]);
    expect(clock.wallMs()).toBe(86_460_000);
    expect(clock.synced).toBe(true);

    const warnings: string[] = [];
    const real = new RealClock();
    const site2 = new SimSite(loadedWith([{ at: 0, kind: "clock-jump" }]), { clock: real, scenarios: [], onWarn: (m) => warnings.push(m) });
    site2.start();
    await new Promise((r) => setTimeout(r, 20));
    site2.stop();
    expect(warnings).toEqual(["sim.faults[0]: clock-jump needs virtual time (roadside sim); it is skipped on a real clock"]);
  });

  it("refuses to start with a serial fault aimed at a sensor nobody simulates", () => {
    const site = new SimSite(loadedWith([{ at: 1, kind: "garbage", target: "mh9" }]), {
      clock: new VirtualClock(),
      scenarios: [sensor().factory],
    });
    expect(() => site.start()).toThrow('sim.faults[0].target: no simulated serial sensor is named "mh9"; simulated: mh1');
  });
});

describe("fault targets in a config", () => {
  it("names serial sensors after the entry holding their port, wherever the port sits", () => {
    const config = {
      device: { id: "x", board: "sim" },
      inputs: { a: {} },
      detectors: { lane1: {} },
      manholes: { mh1: { serial: { path: "sim0", baudRate: 9600 } }, mh2: { sensor: { port: { path: "/dev/ttyUSB1", baudRate: 9600 } } } },
      bins: { b1: { path: "sim1", baudRate: 9600 }, b2: { fillMm: 3 } },
      identifiers: { window: 900, scanners: { s1: { port: { path: "sim2", baudRate: 115200 } } }, readers: {} },
    } as unknown as DeviceConfig;
    expect([...serialPortNames(config)].sort()).toEqual(["b1", "mh1", "mh2", "s1"]);
    const t = faultTargets(config);
    expect([...t.input]).toEqual(["a"]);
    expect([...t.detector]).toEqual(["lane1"]);
    expect([...t.sensor].sort()).toEqual(["b1", "b2", "mh1", "mh2", "s1"]);
  });
});
