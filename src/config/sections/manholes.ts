import * as z from "zod";
import { duration, windowLength } from "../types.js";
import { currentLoopSchema, maxbotixSchema, modbusSchema, switchSchema } from "./level-sensors.js";

export const manholeSchema = z
  .strictObject({
    sensor: z.discriminatedUnion("type", [maxbotixSchema, modbusSchema, currentLoopSchema], {
      error:
        'sensor.type must be "maxbotix" (ultrasonic, serial), "modbus" (radar or ultrasonic, Modbus RTU on RS-485) or "current-loop" (4–20 mA through an ADS1115)',
    }),
    mountHeightMm: z
      .number()
      .positive()
      .optional()
      .describe(
        "Distance sensors (maxbotix, modbus): height of the sensor face above the channel invert, mm. Depth = mountHeightMm − range.",
      ),
    overflowHeightMm: z
      .number()
      .positive()
      .describe("Height of the overflow (weir crest) above the invert, mm: a spill starts when the depth reaches it."),
    alertShare: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.8)
      .describe("Raise the high-level alert at this share of the overflow height. Default 0.8 (DOMAIN.md §2)."),
    hysteresisMm: z
      .number()
      .min(0)
      .default(20)
      .describe("A state ends only below its threshold minus this, mm. Default 20: above the ripple of a flowing surface."),
    confirmSamples: z.number().int().min(1).max(20).default(3).describe("Consecutive samples needed to confirm a state change. Default 3."),
    sampling: z
      .strictObject({
        dry: duration("sampling interval").default(60).describe("Sampling interval in dry weather. Default 60 s."),
        fast: duration("sampling interval")
          .default(5)
          .describe("Sampling interval near or in overflow. Default 5 s: spill start and end are timed to it."),
        fastAboveShare: z
          .number()
          .gt(0)
          .max(1)
          .default(0.5)
          .describe("Sample fast when the depth is above this share of the overflow height. Default 0.5."),
        fastRiseMmPerMin: z
          .number()
          .positive()
          .default(10)
          .describe("…or when the level rises faster than this, mm/min. Default 10: a storm's first flush."),
      })
      .prefault({})
      .describe("Adaptive sampling: each sample is the median of the sensor's readings in its interval."),
    staleAfter: duration("stale-data time")
      .default(300)
      .describe("Raise a sensor-fault alarm after this long without a usable reading. Default 5m."),
    cover: switchSchema
      .extend({
        cooldown: duration("cooldown")
          .default(600)
          .describe("After a cover-open alarm ends, a new opening within this time raises none (a loose cover rocking). Default 10m."),
      })
      .optional()
      .describe("Cover-open switch (e.g. a magnetic reed switch on the frame)."),
    window: windowLength().optional().describe("Summary window; default windows.default."),
  })
  .describe("A manhole level sensor (combined sewer overflow monitoring).");

export const manholesSection = z
  .record(z.string(), manholeSchema)
  .default({})
  .describe("Manhole level sensors by name; the name appears in topics: {prefix}/{device}/level/{name}.");

export type ManholeConfig = z.output<typeof manholeSchema>;
