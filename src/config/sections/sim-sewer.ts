import * as z from "zod";
import { duration } from "../types.js";

export const simStormSchema = z
  .strictObject({
    at: duration("storm start").describe("When the rain starts, from the start of the run (e.g. 6h)."),
    for: duration("storm duration").describe("How long it rains."),
    intensityMmH: z.number().positive().max(200).describe("Rain intensity, mm/h (UK: 4 moderate, 10 heavy, 50 violent)."),
  })
  .describe("A rain storm.");

export const simManholeSchema = z
  .strictObject({
    dryDepthMm: z.number().min(0).default(150).describe("Mean dry-weather flow depth, mm. Default 150."),
    diurnalMm: z
      .number()
      .min(0)
      .default(40)
      .describe("Half the daily swing of the dry-weather flow (low at night, peak in the morning), mm. Default 40."),
    runoffMmPerMmH: z.number().min(0).default(60).describe("Depth added at equilibrium per mm/h of rain, mm. Default 60."),
    lag: duration("runoff lag")
      .default(1800)
      .describe("Time constant of the catchment's response to rain (rise and recession). Default 30m."),
    noiseMm: z.number().min(0).default(2).describe("Reading noise (1 σ), mm. Default 2."),
    frameInterval: duration("frame interval")
      .default(1)
      .describe("Seconds between the sensor's serial frames. Default 1 (a real HRXL sends ~6 per second; the parser does not care)."),
    storms: z.array(simStormSchema).default([]).describe("Rain storms; none means dry weather throughout."),
    coverOpenings: z
      .array(z.strictObject({ at: duration("cover opening"), for: duration("time open") }))
      .default([])
      .describe("Times the manhole cover is lifted (needs a cover switch in the manhole's config)."),
  })
  .describe("A simulated manhole: dry-weather flow with a daily cycle, plus rain-driven rises to overflow and recession.");

export const simSewerSchema = z.record(z.string(), simManholeSchema).default({}).describe("Simulated manholes by manhole name.");
