import * as z from "zod";
// the sensor model registry is plain data (no I/O, no imports from above): the one list of models
import { FRAME_MODEL_IDS, LEVEL_MODELS, MODBUS_MODEL_IDS, modbusModel, modelList } from "../../sensors/models/index.js";
import { duration, serialPortSchema } from "../types.js";

/**
 * Sensor blocks shared by the manhole and bin sections: a distance sensor on a serial port (a
 * MaxBotix ultrasonic rangefinder sending frames, or a Modbus RTU radar or ultrasonic sensor on
 * RS-485), a 4–20 mA transducer or a TMP36 temperature sensor through an ADS1115 I²C ADC, and a
 * switch on a digital input. Models come from src/sensors/models/ (see the table in
 * docs/config-reference.md).
 */

export const maxbotixSchema = z
  .strictObject({
    type: z.literal("maxbotix").describe("MaxBotix ultrasonic rangefinder, serial output (R + digits + CR, 9600 8N1)."),
    model: z
      .enum(FRAME_MODEL_IDS)
      .default("hrxl")
      .describe(`${modelList(LEVEL_MODELS.filter((m) => m.interface === "serial-frames"))}. Default hrxl.`),
    port: serialPortSchema(9600),
  })
  .describe("A MaxBotix serial rangefinder.");

/** A serial port whose unset settings come from the sensor model's factory settings. */
const modbusPortSchema = z
  .strictObject({
    path: z.string().describe("Device path (/dev/ttyUSB0, /dev/serial/by-id/…) or a board serial port name (uart0, serial0, sim0)."),
    baudRate: z.number().int().positive().optional().describe("Baud rate. Default: the model's factory setting (see the models table)."),
    dataBits: z
      .union([z.literal(7), z.literal(8)])
      .optional()
      .describe("Data bits. Default: the model's factory setting."),
    parity: z.enum(["none", "even", "odd"]).optional().describe("Parity. Default: the model's factory setting."),
    stopBits: z
      .union([z.literal(1), z.literal(2)])
      .optional()
      .describe("Stop bits. Default: the model's factory setting."),
  })
  .describe("The RS-485 line (through a USB or HAT RS-485 adapter). Sensors on one line share it, each with its own unitId.");

export const modbusSchema = z
  .strictObject({
    type: z.literal("modbus").describe("A Modbus RTU level sensor on RS-485, polled (Modbus over Serial Line v1.02)."),
    model: z.enum(MODBUS_MODEL_IDS).describe(`${modelList(LEVEL_MODELS.filter((m) => m.interface === "modbus-rtu"))}.`),
    port: modbusPortSchema,
    unitId: z
      .number()
      .int()
      .min(1)
      .max(247)
      .optional()
      .describe("Modbus slave address, 1–247. Default: the model's factory address. Sensors on one line need different ones."),
    pollEvery: duration("poll interval")
      .default(1)
      .describe("Seconds between polls. Default 1 s: enough readings for a median per sampling interval, light on the line."),
    timeoutMs: z
      .number()
      .int()
      .min(20)
      .max(5000)
      .default(500)
      .describe("How long to wait for an answer, ms. Default 500: sensors answer in tens of ms; a longer cable or a slow rate needs more."),
  })
  .transform((s) => {
    const m = modbusModel(s.model);
    const d = m.serial;
    return {
      ...s,
      unitId: s.unitId ?? m.modbus.defaultUnitId,
      port: {
        path: s.port.path,
        baudRate: s.port.baudRate ?? d.baudRate,
        dataBits: s.port.dataBits ?? d.dataBits,
        parity: s.port.parity ?? d.parity,
        stopBits: s.port.stopBits ?? d.stopBits,
      },
    };
  })
  .describe("A Modbus RTU distance sensor (radar or ultrasonic).");

/** A distance sensor on a serial port: a manhole's ultrasonic or radar sensor, a bin's. */
export const rangeSensorSchema = z.discriminatedUnion("type", [maxbotixSchema, modbusSchema], {
  error: 'type must be "maxbotix" (serial frames) or "modbus" (Modbus RTU on RS-485)',
});

/** ADS1115 full-scale ranges (PGA settings), V. */
export const rangeVSchema = z.union(
  [z.literal(6.144), z.literal(4.096), z.literal(2.048), z.literal(1.024), z.literal(0.512), z.literal(0.256)],
  {
    error: "rangeV must be one of the ADS1115 full-scale ranges 6.144, 4.096, 2.048, 1.024, 0.512, 0.256",
  },
);

export const adcSchema = z
  .strictObject({
    address: z
      .union([z.literal(0x48), z.literal(0x49), z.literal(0x4a), z.literal(0x4b)], {
        error: "address must be one of the ADS1115's I²C addresses 0x48, 0x49, 0x4a, 0x4b (72–75), set by its ADDR pin",
      })
      .default(0x48)
      .describe("ADS1115 I²C address: 0x48 (ADDR to GND, default), 0x49 (VDD), 0x4a (SDA), 0x4b (SCL)."),
    channel: z.number().int().min(0).max(3).describe("Input AIN0–AIN3 (single-ended, against GND)."),
    rangeV: rangeVSchema.default(4.096).describe("Full-scale range (PGA), V. Default 4.096: a 150 Ω shunt gives 0.6–3.0 V for 4–20 mA."),
  })
  .describe("An ADS1115 input on the board's I²C bus (through the johnny-five IO plugin).");

export const currentLoopSchema = z
  .strictObject({
    type: z
      .literal("current-loop")
      .describe("4–20 mA level transducer (pressure or radar) read as the voltage across a shunt resistor by an ADS1115."),
    adc: adcSchema,
    shuntOhms: z.number().positive().max(500).default(150).describe("Shunt resistor, Ω. Default 150 (0.6–3.0 V)."),
    spanMm: z.number().positive().describe("Measured span: 20 mA means this many mm of water above the transducer (4 mA = 0)."),
    offsetMm: z.number().min(0).default(0).describe("Height of the transducer above the channel invert, mm. Default 0."),
  })
  .describe("A 4–20 mA level transducer.");

export const switchSchema = z
  .strictObject({
    input: z.string().describe("Name of a digital input (under inputs:) wired to the switch."),
    debounce: z
      .number()
      .min(0)
      .max(60)
      .default(2)
      .describe("Seconds a new switch level must hold to count. Default 2 s: covers rock under passing wheels, tilt balls rattle."),
  })
  .describe("A switch on a digital input.");

export type MaxbotixConfig = z.output<typeof maxbotixSchema>;
export type ModbusSensorConfig = z.output<typeof modbusSchema>;
export type RangeSensorConfig = z.output<typeof rangeSensorSchema>;
export type CurrentLoopConfig = z.output<typeof currentLoopSchema>;
export type AdcConfig = z.output<typeof adcSchema>;
