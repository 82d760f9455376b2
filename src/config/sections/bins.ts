import * as z from "zod";
import { duration, windowLength } from "../types.js";
import { adcSchema, rangeSensorSchema, rangeVSchema, switchSchema } from "./level-sensors.js";

export const binSchema = z
  .strictObject({
    distance: rangeSensorSchema.describe("The rangefinder under the lid, looking down at the waste (MaxBotix or Modbus)."),
    emptyDistanceMm: z.number().positive().describe("H_empty: distance from the sensor to the bottom of the empty bin, mm."),
    fullDistanceMm: z.number().positive().describe("d_full: distance at which the bin counts as 100 % full, mm."),
    highThreshold: z
      .number()
      .gt(0)
      .max(100)
      .default(80)
      .describe("Container full above this fill, % (LwM2M 3435 High threshold). Default 80."),
    lowThreshold: z
      .number()
      .min(0)
      .lt(100)
      .default(10)
      .describe("Container empty below this fill, % (LwM2M 3435 Low threshold). Default 10."),
    pickupDrop: z
      .number()
      .gt(0)
      .max(100)
      .default(30)
      .describe("A fall of this many points to below lowThreshold, confirmed by a second reading, is a pickup. Default 30."),
    measureEvery: duration("measurement interval")
      .default(600)
      .describe("One fill reading (median of the sensor's frames) every this long. Default 10m."),
    temperature: z
      .strictObject({
        adc: adcSchema.extend({
          rangeV: rangeVSchema.default(2.048).describe("Full-scale range, V. Default 2.048: a TMP36 gives 0.1–1.75 V."),
        }),
        every: duration("temperature interval")
          .default(10)
          .describe("Temperature sampling interval. Default 10 s: a fire is confirmed within ~30 s."),
        fireAboveC: z.number().default(57).describe("Fire at or above this temperature, °C. Default 57 (fixed-temperature heat detector)."),
        riseCPerMin: z
          .number()
          .positive()
          .default(8.3)
          .describe("…or when it rises faster than this over a minute, °C/min. Default 8.3 (rate-of-rise heat detector)."),
      })
      .optional()
      .describe("TMP36 temperature sensor on an ADS1115 input (0.5 V + 10 mV/°C)."),
    tilt: switchSchema
      .extend({
        confirm: duration("tilt time")
          .default(120)
          .describe("Raise the tilt alarm when the bin stays tilted this long. Default 2m: a pickup tips it for less."),
      })
      .optional()
      .describe("Tilt (ball) switch: active when the bin is not upright."),
    lid: switchSchema
      .extend({
        alarmAfter: duration("lid time")
          .default(600)
          .describe("Raise the cover-open alarm when the lid stays open this long. Default 10m."),
      })
      .optional()
      .describe("Lid switch: active while the lid is open. Readings taken with the lid open are discarded."),
    report: z
      .strictObject({
        changeMm: z
          .number()
          .positive()
          .default(100)
          .describe("Report at once (fill-change event) when the distance moves more than this between readings, mm. Default 100."),
        onlyOnChange: z
          .boolean()
          .default(false)
          .describe("Skip window summaries without a change > changeMm or an event, except the heartbeat. Default false (every window)."),
        heartbeat: duration("heartbeat").default(10800).describe("With onlyOnChange: publish at least this often. Default 3h."),
      })
      .prefault({})
      .describe("Reporting like commercial bin sensors: periodic, at once on a large change, and a heartbeat."),
    staleAfter: duration("stale-data time")
      .optional()
      .describe("Sensor-fault alarm after this long without a reading. Default 3 × measureEvery."),
    window: windowLength().optional().describe("Summary window; default windows.default."),
  })
  .describe("A waste bin fill-level sensor.");

export const binsSection = z
  .record(z.string(), binSchema)
  .default({})
  .describe("Bin sensors by name; the name appears in topics: {prefix}/{device}/bin/{name}.");

export type BinConfig = z.output<typeof binSchema>;
