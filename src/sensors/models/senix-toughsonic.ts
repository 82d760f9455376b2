import type { ModbusModel, RegisterBlock, SimTarget } from "./types.js";
import { Reading } from "./types.js";

/**
 * Senix ToughSonic ultrasonic distance sensors with RS-485 Modbus RTU output (stainless housing,
 * potted, IP68): the ToughSonic 14 (range in feet). One family definition for the line.
 *
 * Senix's own Modbus register table was not reachable (searched 2026-12-07: Modbus / SenixVIEW /
 * ToughSonic manuals), so this map follows a working field driver, NOT the manufacturer's document
 * (`datasheet.verified: false`): the ToughSonic rangefinder backend of an ArduPilot fork, repository
 * MattKear/ardupilot, libraries/AP_RangeFinder/AP_RangeFinder_ToughSonic.cpp (+ .h), commit
 * b5c3fe7fe6b4517762bc51e3816ffbb3eceb724a ("AP_RangeFinder: add support for ToughSonic ultrasonic",
 * 2024-05-06, branch rs485_rangefinder). It polls unit id 1 (`sensor_ID = 1`) with function code 03,
 * start address 0x0208 (PDU address 520), quantity 1, and takes the uint16 as `count * 0.085954 mm`
 * (0.003384 in a count); it sets no baud rate or parity of its own (the port's configured baud,
 * ArduPilot's 8N1 framing) and only RTS as the RS-485 driver enable. (A field Arduino sketch found
 * in the same search reads FC 03 from 0x0200 in the same 0.003384 in unit: the same register block.)
 * What Senix's pages do say ("Distance Measurement Sensor Output", "Wired Connections"): Modbus over
 * RS-232 or RS-485, up to 32 addressed sensors a bus, 9600 baud by default (SenixVIEW sets up to
 * 115200); parity and the factory address are not stated there.
 * A count of 0 is taken as no echo: the driver passes it on as 0 m, but 0 mm is inside the 4 in
 * blanking zone, so it cannot be a distance.
 */
const DISTANCE_REGISTER = 0x0208;
/** 0.085954 mm (0.003384 in) a count, as the ArduPilot driver scales it. */
const MM_PER_COUNT = 0.085954;

function decoder(minMm: number) {
  return (r: readonly number[]) => {
    const counts = r[0]!;
    if (counts === 0) return { kind: Reading.NoTarget, mm: Number.NaN };
    const mm = counts * MM_PER_COUNT;
    if (mm < minMm) return { kind: Reading.MinRange, mm: Number.NaN };
    return { kind: Reading.Range, mm };
  };
}

function simulate(t: SimTarget): readonly RegisterBlock[] {
  const counts = t === "no-target" ? 0 : Math.max(1, Math.min(0xffff, Math.round(t / MM_PER_COUNT)));
  return [{ fc: 3, address: DISTANCE_REGISTER, values: [counts] }];
}

function toughsonic(id: string, name: string, minRangeMm: number, maxRangeMm: number): ModbusModel {
  return {
    id,
    name,
    manufacturer: "Senix",
    interface: "modbus-rtu",
    principle: "ultrasonic",
    measures: [{ quantity: "distance", unit: "mm" }],
    minRangeMm,
    maxRangeMm,
    // 9600: Senix's stated default; 8N1: the framing the working driver's line uses
    serial: { baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1 },
    datasheet: {
      title: "Senix ToughSonic Modbus RTU register table (Senix Corporation; not reachable here, title unknown)",
      edition: "none checked",
      section: "distance: holding register 0x0208 (PDU address 520), FC 03, uint16 × 0.085954 mm",
      url: "https://github.com/MattKear/ardupilot/blob/b5c3fe7fe6b4517762bc51e3816ffbb3eceb724a/libraries/AP_RangeFinder/AP_RangeFinder_ToughSonic.cpp",
      source:
        "a working field driver, not Senix's document: ArduPilot fork MattKear/ardupilot, libraries/AP_RangeFinder/AP_RangeFinder_ToughSonic.cpp, commit b5c3fe7fe6b4",
      verified: false,
    },
    hints: {
      garbled: "check baudRate and parity (default 9600 8N1), the unit id (1 unless set otherwise) and RS-485 A/B polarity",
      noTarget:
        "the sensor hears no echo (register 0x0208 reads 0): check the mounting (face level, beam clear of the wall), condensation on the face and foam on the water",
    },
    modbus: {
      defaultUnitId: 1,
      poll: { fc: 3, address: DISTANCE_REGISTER, count: 1 },
      decode: decoder(minRangeMm),
      simulate,
    },
  };
}

// range from Senix's product page (unverified here): 14 ft, blanking 4 in. The 30 and 50 ft models
// are left out on purpose: 30 ft is 106,383 counts of 0.085954 mm, beyond a 16-bit register (65,535
// counts = 5.6 m), so their distance must use another unit or scaling than the driver's; add them
// once Senix's register map is checked.
export const TOUGHSONIC_DEFINITIONS: readonly ModbusModel[] = [
  toughsonic("toughsonic-14", "Senix ToughSonic 14 Modbus (ultrasonic, 4.3 m)", 102, 4267),
];
