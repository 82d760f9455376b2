import { describe, expect, it } from "vitest";
import { NS_PER_S } from "../clock/clock.js";
import { VirtualClock } from "../clock/virtual.js";
import { simScannerSchema } from "../config/sections/sim-identifiers.js";
import type { ProbeSink, Radio, RawIdentifier, TagSink } from "../privacy/raw.js";
import { GATE } from "../privacy/raw.js";
import { ProbeScannerParser } from "../sensors/probe-scanner.js";
import { Rdm6300Parser } from "../sensors/rdm6300.js";
import { diurnal, ProbeScannerSim } from "./identifiers.js";
import { isRandomAddressId, rdm6300Frame, scannerLine, simProbeAddress, simTag } from "./identifier-bytes.js";
import { Rng } from "./rng.js";
import type { SightingTruth } from "./identifiers.js";
import { SimSerialBus } from "./serial.js";

const SEED = 99;

describe("simulated identifiers", () => {
  it("derives addresses from the seed: deterministic, distinct, random ones locally administered", () => {
    const a = Array.from({ length: 2000 }, (_, i) => simProbeAddress(SEED, "ped1", i));
    expect(simProbeAddress(SEED, "ped1", 5).equals(a[5]!)).toBe(true);
    expect(simProbeAddress(SEED + 1, "ped1", 5).equals(a[5]!)).toBe(false);
    expect(new Set(a.map((b) => b.toString("hex"))).size).toBe(2000);
    a.forEach((b, i) => {
      expect((b[0]! & 0x02) !== 0, `id ${i}`).toBe(isRandomAddressId(i));
      expect(b[0]! & 0x01).toBe(0);
    });
    expect(simTag(SEED, 3)).toHaveLength(5);
  });

  it("emits scanner lines and RDM6300 frames the device parsers read back exactly", () => {
    const got: string[] = [];
    const probe: ProbeSink = {
      [GATE]: true,
      sighting: (r: Radio, a: RawIdentifier, rssi: number) => got.push(`${r} ${a.toString("hex")} ${rssi}`),
    };
    const tags: TagSink = { [GATE]: true, read: (t: RawIdentifier) => got.push(`tag ${t.toString("hex")}`) };
    const mac = simProbeAddress(SEED, "ped1", 6);
    const line = scannerLine("ble", mac, -7);
    expect(line.toString("latin1")).toMatch(/^ble,([0-9A-F]{2}:){5}[0-9A-F]{2},-7\r\n$/);
    new ProbeScannerParser({ sink: probe }).feed(Buffer.concat([line, scannerLine("wifi", mac, -100, false)]), 0);
    const tag = simTag(SEED, 1);
    const p = new Rdm6300Parser({ sink: tags });
    p.feed(Buffer.concat([rdm6300Frame(tag), rdm6300Frame(tag, true)]), 0);
    expect(got).toEqual([`ble ${mac.toString("hex")} -7`, `wifi ${mac.toString("hex")} -100`, `tag ${tag.toString("hex")}`]);
    expect(p.errors.checksum).toBe(1);
  });

  it("diurnal profile: quiet at 3 am, peaks at 8 and 17:30", () => {
    expect(diurnal(3)).toBeLessThan(0.06);
    expect(diurnal(8)).toBeCloseTo(1, 2);
    expect(diurnal(17.5)).toBeCloseTo(1, 2);
    expect(diurnal(13)).toBeGreaterThan(0.5);
  });

  it(`passers-by: repeat sightings, regulars on many days' hours, BLE private addresses rotating (seed ${SEED})`, async () => {
    const clock = new VirtualClock();
    const bus = new SimSerialBus();
    const device = bus.createDevice("/dev/ttySIM0", 115200);
    const truth: SightingTruth[] = [];
    const spec = simScannerSchema.parse({
      devicesPerHour: 120,
      dwell: "20m",
      bleShare: 1,
      bleRandomShare: 1,
      bleRotation: "5m",
      regulars: 5,
      regularShare: 0.5,
      randomShare: 0,
    });
    const sim = new ProbeScannerSim(clock, device, new Rng(SEED), SEED, "ped1", spec, (r) => truth.push(r));
    sim.start();
    clock.advanceTo(4 * 3600 * NS_PER_S);
    sim.stop();
    // no host had the port open: every line was lost on the wire, and truth says so
    expect(truth.every((t) => t.lost)).toBe(true);
    expect(device.lostBytes).toBeGreaterThan(0);
    const wifi = truth.filter((t) => t.radio === "wifi");
    const ble = truth.filter((t) => t.radio === "ble");
    const wifiAddrs = new Set(wifi.map((t) => t.address));
    // sightings repeat: many lines per address
    expect(wifi.length / wifiAddrs.size).toBeGreaterThan(10);
    // regulars' global addresses (4p, p < 5) are seen in several different hours
    const hours = (id: number) => new Set(wifi.filter((t) => t.address === id).map((t) => Math.floor(t.tNs / 3600e9))).size;
    expect(Math.max(...[0, 4, 8, 12, 16].map(hours))).toBeGreaterThanOrEqual(3);
    // BLE: all private, and with 20-minute visits and 5-minute rotation, more addresses than visits
    expect(ble.every((t) => t.random)).toBe(true);
    const visits = new Set(wifi.map((t) => t.address)).size; // at most one Wi-Fi address per visit
    expect(new Set(ble.map((t) => t.address)).size).toBeGreaterThan(visits * 1.5);
  });
});
