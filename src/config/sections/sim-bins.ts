import * as z from "zod";
import { duration } from "../types.js";

export const simBinSchema = z
  .strictObject({
    depositsPerHour: z
      .number()
      .min(0)
      .max(120)
      .default(3)
      .describe("Mean deposits per hour in the daytime (06–22 h); a tenth of it at night. Default 3."),
    depositPct: z.number().gt(0).max(50).default(1.5).describe("Mean fill added by one deposit, % of the bin. Default 1.5."),
    pickups: z.array(duration("pickup time")).default([]).describe("When the bin is emptied, from the start of the run (e.g. [1d, 3d])."),
    fires: z
      .array(
        z.strictObject({
          at: duration("fire start"),
          for: duration("fire duration").default(1800),
          riseCPerMin: z.number().positive().default(15),
        }),
      )
      .default([])
      .describe("Fires: the temperature rises at riseCPerMin up to ~200 °C, then cools after `for`."),
    knockovers: z
      .array(z.strictObject({ at: duration("knock-over time"), for: duration("time on its side") }))
      .default([])
      .describe("Times the bin is knocked over."),
    ambientC: z.number().default(15).describe("Ambient temperature, °C. Default 15."),
    noiseMm: z.number().min(0).default(5).describe("Reading noise (1 σ), mm. Default 5 (an uneven waste surface)."),
    frameInterval: duration("frame interval").default(2).describe("Seconds between the sensor's serial frames. Default 2."),
  })
  .describe("A simulated bin: deposits (lid opens), pickups (tilted and emptied), fires, knock-overs.");

export const simBinsSchema = z.record(z.string(), simBinSchema).default({}).describe("Simulated bins by bin name.");
