import {
  float32HighFirst,
  float32Registers,
  HART_DEG_C,
  HART_LENGTH_MM,
  HART_PERCENT,
  uint32HighFirst,
  uint32Registers,
} from "./registers.js";
import type { ModbusModel, RegisterBlock, SimTarget } from "./types.js";
import { Reading } from "./types.js";

/**
 * VEGA VEGAPULS C 11 / C 21 / C 22 / C 23, the Modbus RTU (RS-485) versions: 80 GHz radar level
 * sensors with a sealed PVDF/PVDF-PP housing and cable, made for water and wastewater. One family
 * definition; the models differ in range only.
 *
 * Register map (input registers, read with function code 04), as recalled from VEGA's operating
 * instructions "VEGAPULS C 21 / C 22 / C 23, RS-485/Modbus" (chapter "Modbus register", table
 * "Input register"); NOT checked against the document here, see `datasheet.verified`:
 *   100–101  status, uint32; 0 = measured value valid
 *   102–103  PV, float32 (factory: linearised percent), 104–105 its HART unit code
 *   106–107  SV, float32 (factory: distance),            108–109 its HART unit code (45 = m)
 *   110–113  TV (measurement reliability, dB) and unit; 114–117 QV (electronics temperature) and unit
 * Floats are IEEE 754, high word first (the factory byte order). The poll reads 100–109, so the
 * distance is read with its unit and a sensor set to feet still reads right.
 */
const FIRST = 100;
const COUNT = 10;

function decode(r: readonly number[]): { kind: 0 | 1 | 2; mm: number } {
  const status = uint32HighFirst(r[0]!, r[1]!);
  // any status bit set: the sensor flags its value (lost echo, failure); not a level
  if (status !== 0) return { kind: Reading.NoTarget, mm: Number.NaN };
  const unit = uint32HighFirst(r[8]!, r[9]!);
  const mmPerUnit = HART_LENGTH_MM[unit];
  if (mmPerUnit === undefined)
    throw new Error(
      `register 108 (SV unit) holds HART unit code ${unit}, not a length; set the sensor's secondary value (SV) to Distance in PACTware or the VEGA Tools app`,
    );
  const v = float32HighFirst(r[6]!, r[7]!);
  if (!Number.isFinite(v)) return { kind: Reading.NoTarget, mm: Number.NaN };
  return { kind: Reading.Range, mm: v * mmPerUnit };
}

function simulate(maxMm: number): (t: SimTarget) => readonly RegisterBlock[] {
  return (t) => {
    const ok = t !== "no-target";
    const d = ok ? t : maxMm;
    const pct = Math.max(0, Math.min(100, (100 * (maxMm - d)) / maxMm));
    return [
      {
        fc: 4,
        address: FIRST,
        values: [
          ...uint32Registers(ok ? 0 : 1),
          ...float32Registers(pct),
          ...uint32Registers(HART_PERCENT),
          ...float32Registers(d / 1000),
          ...uint32Registers(45),
          ...float32Registers(ok ? 32 : 0),
          ...uint32Registers(0),
          ...float32Registers(18),
          ...uint32Registers(HART_DEG_C),
        ],
      },
    ];
  };
}

const common = {
  manufacturer: "VEGA",
  interface: "modbus-rtu",
  principle: "radar",
  measures: [{ quantity: "distance", unit: "mm" }],
  // a radar has no practical minimum distance in a manhole; this keeps the last ~50 mm in front of
  // the antenna (condensation, spider webs) out of a valid reading
  minRangeMm: 50,
  // Modbus over Serial Line v1.02 §2.5.1: even parity is the required default; VEGA follows it (unverified)
  serial: { baudRate: 9600, dataBits: 8, parity: "even", stopBits: 1 },
  datasheet: {
    title: "VEGAPULS C 21 / C 22 / C 23 operating instructions, RS-485/Modbus version (and VEGAPULS C 11 Modbus)",
    edition: "VEGA Grieshaber KG; edition not checked",
    section: "Modbus register: input registers 100–117",
    verified: false,
  },
  hints: {
    garbled:
      "check baudRate, parity (factory 9600 8E1), the unit id (factory 246), and RS-485 A/B polarity; swap A and B if nothing answers",
    noTarget:
      "the sensor flags its value (status register 100 not 0): check for buildup on the antenna, the mounting (beam clear of the manhole wall and steps) and the echo curve in the VEGA Tools app",
  },
} as const;

function vega(id: string, name: string, maxRangeMm: number): ModbusModel {
  return {
    ...common,
    id,
    name,
    maxRangeMm,
    modbus: { defaultUnitId: 246, poll: { fc: 4, address: FIRST, count: COUNT }, decode, simulate: simulate(maxRangeMm) },
  };
}

// ranges from VEGA's product pages (unverified here): C 11 8 m, C 21 15 m, C 22 30 m, C 23 120 m
export const VEGAPULS_C_DEFINITIONS: readonly ModbusModel[] = [
  vega("vegapuls-c11", "VEGAPULS C 11 Modbus (radar, 8 m)", 8000),
  vega("vegapuls-c21", "VEGAPULS C 21 Modbus (radar, 15 m)", 15000),
  vega("vegapuls-c22", "VEGAPULS C 22 Modbus (radar, 30 m)", 30000),
  vega("vegapuls-c23", "VEGAPULS C 23 Modbus (radar, 120 m)", 120000),
];
