import { float32HighFirst, float32Registers, HART_LENGTH_MM, HART_PERCENT } from "./registers.js";
import type { ModbusModel, RegisterBlock, SimTarget } from "./types.js";
import { Reading } from "./types.js";

/**
 * VEGA VEGAPULS C 21 / C 22 / C 23, the Modbus RTU (RS-485) versions: 80 GHz radar level sensors
 * with a sealed housing and cable, made for water and wastewater. One family definition; the models
 * differ in range only.
 *
 * Register map from VEGA's operating instructions "VEGAPULS C 21 • Modbus and Levelmaster protocol"
 * (document 58343-EN-200806; the C 23's, 58349-EN-200806, has the same tables), chapter 14 Supplement:
 *   14.3 Communication: address 246, 9600 Bd, parity none, 1 stop bit (factory settings)
 *   14.5 Measured values (read-only, function code 04):
 *     100  status (bit 0 PV invalid, bit 1 SV invalid, bit 2 TV, bit 3 QV)
 *     104  PV unit, 106–107 PV float32;  108 SV unit, 110–111 SV float32 (HART unit codes: 44 ft,
 *          45 m, 47 in, 48 cm, 49 mm); floats of this block in byte order CDAB (low word first)
 * The factory HART mapping makes SV the distance to the surface (PV is the linearised percent).
 * The poll reads 100–111, so the distance comes with its unit and a sensor set to feet still reads
 * right. Status and unit are read from either word of their register pair: the manual gives them as
 * enum8/enum16 at the first address, VEGA's older Modbus manuals (VEGAPULS 6x) as a DWord.
 */
const FIRST = 100;
const COUNT = 12;
const SV_INVALID = 0b10;

/** The value of a status or unit register pair, whichever word holds it (see above). */
const pairValue = (a: number, b: number): number => a || b;

function decode(r: readonly number[]): { kind: 0 | 1 | 2; mm: number } {
  // the sensor flags its distance (lost echo, failure): not a level
  if ((pairValue(r[0]!, r[1]!) & SV_INVALID) !== 0) return { kind: Reading.NoTarget, mm: Number.NaN };
  const unit = pairValue(r[8]!, r[9]!);
  const mmPerUnit = HART_LENGTH_MM[unit];
  if (mmPerUnit === undefined)
    throw new Error(
      `register 108 (SV unit) holds HART unit code ${unit}, not a length; set the sensor's secondary value (SV) to Distance in PACTware or the VEGA Tools app`,
    );
  // CDAB: register 110 holds the low word, 111 the high word
  const v = float32HighFirst(r[11]!, r[10]!);
  if (!Number.isFinite(v)) return { kind: Reading.NoTarget, mm: Number.NaN };
  return { kind: Reading.Range, mm: v * mmPerUnit };
}

/** A float32 as two registers in byte order CDAB (low word first). */
function cdab(v: number): [number, number] {
  const [hi, lo] = float32Registers(v);
  return [lo, hi];
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
          ok ? 0 : 0b11, // 100: PV and SV invalid without an echo
          0,
          0,
          0,
          HART_PERCENT, // 104: PV unit
          0,
          ...cdab(pct), // 106–107
          45, // 108: SV unit, metres
          0,
          ...cdab(d / 1000), // 110–111
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
  // the manual's 14.3: parity 0 = none by default (Modbus over Serial Line §2.5.1 would have even;
  // VEGA ships none)
  serial: { baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1 },
  datasheet: {
    title: "VEGAPULS C 21 (C 22, C 23) operating instructions, Modbus and Levelmaster protocol (VEGA Grieshaber KG)",
    edition: "58343-EN-200806 (C 23: 58349-EN-200806)",
    section: "14.3 Communication; 14.5 Measured values: registers 100–111, floats CDAB",
    verified: true,
  },
  hints: {
    garbled:
      "check baudRate, parity (factory 9600 8N1), the unit id (factory 246), and RS-485 A/B polarity; swap A and B if nothing answers",
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

// measuring ranges from VEGA's product pages: C 21 15 m, C 22 30 m, C 23 120 m
export const VEGAPULS_C_DEFINITIONS: readonly ModbusModel[] = [
  vega("vegapuls-c21", "VEGAPULS C 21 Modbus (radar, 15 m)", 15000),
  vega("vegapuls-c22", "VEGAPULS C 22 Modbus (radar, 30 m)", 30000),
  vega("vegapuls-c23", "VEGAPULS C 23 Modbus (radar, 120 m)", 120000),
];
