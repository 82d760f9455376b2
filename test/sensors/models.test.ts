import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/load.js";
import { configReference } from "../../src/config/docs.js";
import type { ModbusModel } from "../../src/sensors/models/index.js";
import { FRAME_MODEL_IDS, isModbusModel, LEVEL_MODELS, levelModel, MODBUS_MODEL_IDS, Reading } from "../../src/sensors/models/index.js";
import { crc16, crcOk, readRequest } from "../../src/sensors/modbus/crc.js";
import { SimModbusSlave } from "../../src/sim/modbus-line.js";
import { Rng } from "../../src/sim/rng.js";

const SEED = 20261207;
const modbus = LEVEL_MODELS.filter(isModbusModel);
/** How far a decoded distance may sit from the simulated one where a register count is coarser than 0.1 mm. */
const RESOLUTION_MM: Readonly<Record<string, number>> = { urm15: 0.5 };

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
    expect(MODBUS_MODEL_IDS).toEqual(expect.arrayContaining(["vegapuls-c21", "toughsonic-14", "urm15"]));
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
        // a float32 in metres or 0.086 mm counts: well under a millimetre; the URM15's 0.1 cm counts: half of one
        expect(Math.abs(r.mm - d), `${m.id} at ${d} mm (seed ${SEED})`).toBeLessThanOrEqual(RESOLUTION_MM[m.id] ?? 0.1);
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

  it("asks the URM15 for registers 0x05–0x08 as DFRobot's wiki maps them, and reads 0.1 cm counts, 0xFFFF and passive mode", () => {
    // wiki.dfrobot.com/sen0519/docs/21716 (2025/12/18): address 0x000F, 19200 8N1, function 03,
    // 0x05 distance (LSB 0.1 cm, default 0xFFFF), 0x06 temperature, 0x07 external temperature, 0x08 control
    const m = levelModel("urm15") as ModbusModel;
    const { fc, address, count } = m.modbus.poll;
    expect(m.modbus.defaultUnitId).toBe(15);
    expect(m.serial).toEqual({ baudRate: 19200, dataBits: 8, parity: "none", stopBits: 1 });
    const req = [...readRequest(m.modbus.defaultUnitId, fc, address, count)];
    expect(req.slice(0, 6)).toEqual([0x0f, 0x03, 0x00, 0x05, 0x00, 0x04]);
    // CRC-16/MODBUS of 0F 03 00 05 00 04 is 0x2655 (worked apart from the project's crc16), sent low byte first
    expect(req.slice(6)).toEqual([0x55, 0x26]);
    expect(crc16(Uint8Array.from(req.slice(0, 6)))).toBe(0x2655);

    const slave = new SimModbusSlave(
      15,
      m,
      () => 1234,
      new Rng(SEED),
      0,
      () => {},
      "mh9",
    );
    const frame = slave.answer(3, 0x05, 4, 0)!;
    expect(crcOk(frame)).toBe(true);
    // 15, function 03, 8 bytes: 1234 mm = 1234 counts of 0.1 cm, 20.0 °C, no external temperature, control 0 (automatic)
    expect([...frame.subarray(0, frame.length - 2)]).toEqual([0x0f, 0x03, 0x08, 0x04, 0xd2, 0x00, 0xc8, 0x00, 0x00, 0x00, 0x00]);
    const regs = [0, 1, 2, 3].map((i) => frame.readUInt16BE(3 + 2 * i));
    expect(m.modbus.decode(regs)).toEqual({ kind: Reading.Range, mm: 1234 });
    // the map's other registers as the wiki gives their defaults: PID 5, VID 0x0010, address 15, baud code 5 (19200)
    expect([0, 1, 2, 3, 4].map((a) => slave.answer(3, a, 1, 0)!.readUInt16BE(3))).toEqual([0x0005, 0x0010, 0x000f, 0x0005, 0x0001]);
    // no register 0x09, and no input registers: exception 02 / 02
    expect([...slave.answer(3, 0x05, 5, 0)!.subarray(0, 3)]).toEqual([0x0f, 0x83, 0x02]);
    expect([...slave.answer(4, 0x05, 1, 0)!.subarray(0, 3)]).toEqual([0x0f, 0x84, 0x02]);

    // 0xFFFF (the register's power-on value: nothing measured, no echo) is no reading, not 6.5 m
    expect(m.modbus.decode([0xffff, 200, 0, 0]).kind).toBe(Reading.NoTarget);
    const silent = new SimModbusSlave(
      15,
      m,
      () => "no-target",
      new Rng(SEED),
      0,
      () => {},
      "mh9",
    ).answer(3, 0x05, 1, 0)!;
    expect(silent.readUInt16BE(3)).toBe(0xffff);
    // inside the 30 cm blind zone: too close to tell
    expect(m.modbus.decode([250, 200, 0, 0]).kind).toBe(Reading.MinRange);
    expect(m.modbus.decode([300, 200, 0, 0])).toEqual({ kind: Reading.Range, mm: 300 });
    // passive mode (control bit 2): register 0x05 is stale, refused with the register and the fix
    expect(() => m.modbus.decode([1234, 200, 0, 0x0004])).toThrow(/register 0x08 \(control\) reads 0x0004: bit 2 set.*write 0x0000/);
    // temperature-compensation bits (0, 1) do not matter to the distance
    expect(m.modbus.decode([1234, 200, 0, 0x0003]).mm).toBe(1234);
  });

  it("takes the URM15 on a manhole and on a bin, with its factory line settings and address", () => {
    const r = validateConfig({
      device: { id: "t-5", board: "sim" },
      manholes: { a: { sensor: { type: "modbus", model: "urm15", port: { path: "sim0" } }, mountHeightMm: 2400, overflowHeightMm: 1500 } },
      bins: {
        b: { distance: { type: "modbus", model: "urm15", unitId: 16, port: { path: "sim0" } }, emptyDistanceMm: 1100, fullDistanceMm: 350 },
      },
    });
    expect(r.issues).toEqual([]);
    if (!r.ok) return;
    expect(r.loaded.config.manholes["a"]!.sensor).toMatchObject({
      model: "urm15",
      unitId: 15,
      port: { baudRate: 19200, dataBits: 8, parity: "none", stopBits: 1 },
    });
    expect(r.loaded.config.bins["b"]!.distance).toMatchObject({ model: "urm15", unitId: 16, port: { baudRate: 19200 } });
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
