import * as z from "zod";
import { serialPortSchema } from "../types.js";

/**
 * Sensor blocks shared by the manhole and bin sections: a MaxBotix ultrasonic rangefinder on a
 * serial port, a 4–20 mA transducer or a TMP36 temperature sensor through an ADS1115 I²C ADC, and a
 * switch on a digital input.
 */

export const maxbotixSchema = z
  .strictObject({
    type: z.literal("maxbotix").describe("MaxBotix ultrasonic rangefinder, serial output (R + digits + CR, 9600 8N1)."),
    model: z
      .enum(["hrxl", "hrxl-10m", "xl", "lv"])
      .default("hrxl")
      .describe(
        "hrxl: HRXL-MaxSonar-WR 5 m (mm; 5000 = no target), hrxl-10m: 10 m models (9999 = no target), xl: XL-MaxSonar-WR (cm), lv: LV-MaxSonar-EZ (inches). Default hrxl.",
      ),
    port: serialPortSchema(9600),
  })
  .describe("A MaxBotix serial rangefinder.");

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
export type CurrentLoopConfig = z.output<typeof currentLoopSchema>;
export type AdcConfig = z.output<typeof adcSchema>;
