import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/load.js";
import { configReference } from "../../src/config/docs.js";
import type { ModbusModel } from "../../src/sensors/models/index.js";
import { FRAME_MODEL_IDS, isModbusModel, LEVEL_MODELS, levelModel, MODBUS_MODEL_IDS, Reading } from "../../src/sensors/models/index.js";
import { readRequest } from "../../src/sensors/modbus/crc.js";
import { SimModbusSlave } from "../../src/sim/modbus-line.js";
import { Rng } from "../../src/sim/rng.js";

const SEED = 20261207;
const modbus = LEVEL_MODELS.filter(isModbusModel);

/** The registers a poll reads, from the simulator's register blocks. */
function pollRegisters(m: ModbusModel, target: number | "no-target"): number[] {
  const { fc, address, count } = m.modbus.poll;
  const out: number[] = [];
  for (let a = address; a < address + count; a++) {
    const b = m.modbus.simulate(target).find((x) => x.fc === fc && a >= x.address && a < x.address + x.values.length);
    if (!b) throw new Error(`${m.id}: register ${a} (FC ${fc}) is not simulated`);
    out.push(b.values[a - b.address]!);
  }
  return out;
}

describe("the level sensor model registry", () => {
  it("holds each model once, with a datasheet, a range and factory serial settings", () => {
    expect(new Set(LEVEL_MODELS.map((m) => m.id)).size).toBe(LEVEL_MODELS.length);
    expect(FRAME_MODEL_IDS).toEqual(["hrxl", "hrxl-10m", "xl", "lv"]);
    expect(MODBUS_MODEL_IDS).toEqual(expect.arrayContaining(["vegapuls-c21", "toughsonic-14"]));
    for (const m of LEVEL_MODELS) {
      expect(m.datasheet.title.length, m.id).toBeGreaterThan(10);
      expect(m.minRangeMm, m.id).toBeLessThan(m.maxRangeMm);
      expect(levelModel(m.id)).toBe(m);
    }
    expect(new Set(modbus.map((m) => m.principle))).toEqual(new Set(["radar", "ultrasonic"]));
  });

  it(`decodes what its simulator model encodes, across the range, within the register resolution (seed ${SEED})`, () => {
    const rng = new Rng(SEED);
    for (const m of modbus) {
      for (let i = 0; i < 200; i++) {
        const d = rng.uniform(m.minRangeMm + 1, m.maxRangeMm);
        const r = m.modbus.decode(pollRegisters(m, d));
        expect(r.kind, `${m.id} at ${d} mm (seed ${SEED})`).toBe(Reading.Range);
        // a float32 in metres or 0.086 mm counts: well under a millimetre
        expect(Math.abs(r.mm - d), `${m.id} at ${d} mm (seed ${SEED})`).toBeLessThan(0.1);
      }
      expect(m.modbus.decode(pollRegisters(m, "no-target")).kind, m.id).toBe(Reading.NoTarget);
    }
  });

  it("reads the VEGA distance with its unit register, and refuses a value that is not a length", () => {
    const m = levelModel("vegapuls-c21") as ModbusModel;
    const regs = pollRegisters(m, 1234);
    // the unit register set to feet (HART 44): the same float now means feet
    const feet = [...regs.slice(0, 8), 44, ...regs.slice(9)];
    expect(m.modbus.decode(feet).mm).toBeCloseTo(1.234 * 304.8, 1);
    // the unit as a DWord, high word first (VEGA's older Modbus manuals): the same reading
    expect(m.modbus.decode([...regs.slice(0, 8), 0, 44, ...regs.slice(10)]).mm).toBeCloseTo(1.234 * 304.8, 1);
    expect(() => m.modbus.decode([...regs.slice(0, 8), 57, ...regs.slice(9)])).toThrow(/register 108 .*HART unit code 57.*Distance/);
    // registers 110–111 in the manual's byte order CDAB: 110 holds the float's low word
    const dv = new DataView(new ArrayBuffer(4));
    dv.setFloat32(0, 1.234);
    expect(regs.slice(10, 12)).toEqual([dv.getUint16(2), dv.getUint16(0)]);
  });

  it("asks the ToughSonic what the ArduPilot ToughSonic driver asks, and reads its answer as that driver does", () => {
    // MattKear/ardupilot b5c3fe7, libraries/AP_RangeFinder/AP_RangeFinder_ToughSonic.cpp: unit 1, FC 03,
    // start 0x0208, quantity 1, CRC low byte first; reading_m = count * 0.085954 * 0.001
    const m = levelModel("toughsonic-14") as ModbusModel;
    const { fc, address, count } = m.modbus.poll;
    expect([...readRequest(m.modbus.defaultUnitId, fc, address, count)]).toEqual([0x01, 0x03, 0x02, 0x08, 0x00, 0x01, 0x04, 0x70]);
    const slave = new SimModbusSlave(
      1,
      m,
      () => 800,
      new Rng(SEED),
      0,
      () => {},
      "b1",
    );
    const frame = slave.answer(3, 0x0208, 1, 0)!;
    expect([...frame.subarray(0, 3)]).toEqual([0x01, 0x03, 0x02]);
    const driverMm = frame.readUInt16BE(3) * 0.085954;
    expect(Math.abs(driverMm - 800)).toBeLessThan(0.05);
    expect(m.modbus.decode([frame.readUInt16BE(3)]).mm).toBe(driverMm);
    // decimal 208 is not in the map: the simulated sensor answers exception 02 (illegal data address)
    expect([...slave.answer(3, 208, 1, 0)!.subarray(0, 3)]).toEqual([0x01, 0x83, 0x02]);
  });

  it("fills a Modbus sensor's unset line settings and address from its model's factory settings", () => {
    const r = validateConfig({
      device: { id: "t-1", board: "sim" },
      manholes: {
        a: { sensor: { type: "modbus", model: "vegapuls-c21", port: { path: "sim0" } }, mountHeightMm: 2400, overflowHeightMm: 1500 },
      },
      bins: {
        b: {
          distance: { type: "modbus", model: "toughsonic-14", port: { path: "sim1", baudRate: 19200 } },
          emptyDistanceMm: 1100,
          fullDistanceMm: 350,
        },
      },
    });
    expect(r.issues).toEqual([]);
    if (!r.ok) return;
    const a = r.loaded.config.manholes["a"]!.sensor;
    expect(a).toMatchObject({
      unitId: 246,
      pollEvery: 1,
      timeoutMs: 500,
      port: { baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1 },
    });
    expect(r.loaded.config.bins["b"]!.distance).toMatchObject({ unitId: 1, port: { baudRate: 19200, parity: "none" } });
  });

  it("lets sensors share an RS-485 line with their own unit ids and the same settings, and says what is wrong otherwise", () => {
    const cfg = (u2: number, parity2: string) => ({
      device: { id: "t-2", board: "sim" },
      manholes: {
        a: {
          sensor: { type: "modbus", model: "vegapuls-c21", port: { path: "sim0", parity: "even" } },
          mountHeightMm: 2400,
          overflowHeightMm: 1500,
        },
        b: {
          sensor: { type: "modbus", model: "toughsonic-14", unitId: u2, port: { path: "/dev/ttySIM0", parity: parity2 } },
          mountHeightMm: 2400,
          overflowHeightMm: 1500,
        },
      },
    });
    expect(validateConfig(cfg(1, "even")).issues).toEqual([]);
    const same = validateConfig(cfg(246, "even")).issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(same).toEqual([expect.stringMatching(/^manholes\.b\.sensor\.unitId: unit id 246 is already manholes\.a/)]);
    const other = validateConfig(cfg(1, "none")).issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(other).toEqual([
      expect.stringMatching(/^manholes\.b\.sensor\.port: \/dev\/ttySIM0 is the RS-485 line of manholes\.a at 9600 8E1/),
    ]);
    // a MaxBotix still needs its own port
    const mixed = validateConfig({
      ...cfg(1, "even"),
      bins: { c: { distance: { type: "maxbotix", port: { path: "sim0" } }, emptyDistanceMm: 1100, fullDistanceMm: 350 } },
    });
    expect(mixed.issues.map((i) => i.message)).toEqual([expect.stringMatching(/already used by manholes\.a/)]);
  });

  it("keeps an identifier scanner off a Modbus sensor's line (its bytes must reach no other parser)", () => {
    const r = validateConfig({
      device: { id: "t-4", board: "sim" },
      identifiers: { scanners: { ped1: { port: { path: "sim0" } } } },
      manholes: {
        a: { sensor: { type: "modbus", model: "vegapuls-c21", port: { path: "sim0" } }, mountHeightMm: 2400, overflowHeightMm: 1500 },
      },
    });
    expect(r.issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual([
      expect.stringMatching(/^identifiers\.scanners\.ped1\.port\.path: serial port sim0 is already used by manholes\.a/),
    ]);
  });

  it("names the unknown model and the known ones", () => {
    const r = validateConfig({
      device: { id: "t-3", board: "sim" },
      manholes: {
        a: { sensor: { type: "modbus", model: "vegapuls-69", port: { path: "sim0" } }, mountHeightMm: 2400, overflowHeightMm: 1500 },
      },
    });
    expect(r.ok).toBe(false);
    const msg = r.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n");
    expect(msg).toMatch(/manholes\.a\.sensor\.model: .*vegapuls-c21/);
  });

  it("is listed in the generated config reference, each model with its datasheet", () => {
    const ref = configReference();
    for (const m of LEVEL_MODELS) {
      const row = ref.split("\n").find((l) => l.startsWith(`| \`${m.id}\` |`));
      expect(row, m.id).toBeDefined();
      expect(row).toContain(m.datasheet.title.replace(/\|/g, "\\|"));
    }
  });
});
