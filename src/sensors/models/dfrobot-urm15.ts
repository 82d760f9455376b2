import type { ModbusModel, RegisterBlock, RegisterReading, SimTarget } from "./types.js";
import { Reading } from "./types.js";

/**
 * DFRobot URM15 (SKU SEN0519): a 75 kHz single-transducer ultrasonic ranging sensor, IP65, RS-485
 * Modbus RTU. Register map from DFRobot's own wiki, "URM15 RS485 Ultrasonic Sensor", page
 * "Reference" (https://wiki.dfrobot.com/sen0519/docs/21716, last revision 2025/12/18),
 * "Communication Protocol Description": function 03 reads, 06 writes, holding registers
 *   0x00 PID (default 0x0005), 0x01 VID (0x0010), 0x02 module address (1–247, default 0x000F),
 *   0x03 baud rate (default 0x0005 = 19200), 0x04 "serial data format is fixed at: no parity bit,
 *   1 stop bit, 8 data bits", 0x05 distance ("LSB … represents 0.1cm", default 0xFFFF),
 *   0x06 onboard temperature (0.1 °C, signed), 0x07 external temperature compensation (0.1 °C),
 *   0x08 control register.
 * The stored copy of the wiki page stops inside row 0x07, so the bits of 0x08 come from DFRobot's
 * own driver instead (DFRobot_URMXX.h, sURMXXConfig_t, 2024): bit 0 temperature source (0 onboard),
 * bit 1 compensation (0 on), bit 2 measuring mode (0 automatic, 1 passive), bit 3 "in passive mode,
 * write 1 … and the sensor will complete a distance measurement (about 300ms)". The same header gives
 * the range, 30–500 cm, 75 ± 2 kHz, 5–12 V.
 *
 * The definitions only read, so this model polls the sensor in automatic mode: one read of 0x05–0x08
 * brings the distance with the control register, and a sensor left in passive mode (bit 2 set, its
 * distance register holding the last triggered value, or 0xFFFF if never triggered) is refused with
 * a message naming register 0x08 and the write that fixes it, instead of a stale level. 0xFFFF, the
 * register's power-on value, is "no reading".
 */
const FIRST = 0x05;
const COUNT = 4;
/** Register 0x05: no measurement yet / no echo. */
const NO_READING = 0xffff;
/** Register 0x08 bit 2: 1 = passive (triggered) measuring. */
const PASSIVE = 0b100;
/** 0.1 cm a count. */
const MM_PER_COUNT = 1;
const MIN_MM = 300;
const MAX_MM = 5000;

function decode(r: readonly number[]): RegisterReading {
  const control = r[3]!;
  if ((control & PASSIVE) !== 0)
    throw new Error(
      `register 0x08 (control) reads 0x${control.toString(16).padStart(4, "0")}: bit 2 set, the sensor ranges only when triggered and register 0x05 is stale; write 0x0000 to holding register 0x08 (function 06) for automatic ranging`,
    );
  const counts = r[0]!;
  if (counts === NO_READING) return { kind: Reading.NoTarget, mm: Number.NaN };
  const mm = counts * MM_PER_COUNT;
  if (mm < MIN_MM) return { kind: Reading.MinRange, mm: Number.NaN };
  return { kind: Reading.Range, mm };
}

function simulate(t: SimTarget): readonly RegisterBlock[] {
  const distance = t === "no-target" ? NO_READING : Math.max(0, Math.min(NO_READING - 1, Math.round(t / MM_PER_COUNT)));
  return [
    {
      fc: 3,
      address: 0x00,
      values: [
        0x0005, // 0x00 PID
        0x0010, // 0x01 VID (V0.0.1.0)
        0x000f, // 0x02 address (factory)
        0x0005, // 0x03 19200 baud
        0x0001, // 0x04 8N1, fixed
        distance, // 0x05
        200, // 0x06 onboard temperature, 20.0 °C
        0, // 0x07 external temperature
        0x0000, // 0x08 automatic ranging, onboard compensation on
      ],
    },
  ];
}

export const URM15_DEFINITIONS: readonly ModbusModel[] = [
  {
    id: "urm15",
    name: "DFRobot URM15 RS485 (ultrasonic, 5 m)",
    manufacturer: "DFRobot",
    interface: "modbus-rtu",
    principle: "ultrasonic",
    measures: [{ quantity: "distance", unit: "mm" }],
    minRangeMm: MIN_MM,
    maxRangeMm: MAX_MM,
    // register 0x03 default 0x0005 = 19200; 0x04: format fixed at 8N1
    serial: { baudRate: 19200, dataBits: 8, parity: "none", stopBits: 1 },
    datasheet: {
      title: "URM15 RS485 Ultrasonic Sensor (DFRobot SEN0519) wiki, Reference",
      edition: "last revision 2025/12/18",
      section: "Communication Protocol Description: holding registers 0x05 distance (0.1 cm, 0xFFFF no reading) to 0x08 control",
      url: "https://wiki.dfrobot.com/sen0519/docs/21716",
      verified: true,
    },
    hints: {
      garbled:
        "check baudRate (factory 19200 8N1, register 0x03), the unit id (factory 15, register 0x02) and RS-485 A/B polarity; if the log names register 0x08, write 0x0000 to it for automatic ranging",
      noTarget:
        "register 0x05 reads 0xFFFF (no echo): check the mounting (face level, beam clear of the wall and steps), dirt or condensation on the transducer and foam on the water; nothing closer than 30 cm can be measured",
    },
    modbus: {
      defaultUnitId: 15,
      poll: { fc: 3, address: FIRST, count: COUNT },
      decode,
      simulate,
    },
  },
];
