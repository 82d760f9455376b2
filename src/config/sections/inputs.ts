import * as z from "zod";
import { show } from "../types.js";

export const inputSchema = z
  .strictObject({
    line: z
      .union([z.number().int().min(0), z.string()], {
        error: (i) => `line must be a GPIO number (17) or name ("GPIO17"); got ${show(i.input)}`,
      })
      .optional()
      .describe('GPIO line: BCM number (17) or name ("GPIO17"). Give either line or pin.'),
    pin: z.number().int().min(1).max(40).optional().describe("Physical header pin (1–40). Give either line or pin."),
    activeLow: z
      .boolean()
      .default(true)
      .describe("Default true: detector cards' opto-isolated or relay outputs pull the line low while a vehicle is present."),
    bias: z
      .enum(["pull-up", "pull-down", "disable", "as-is"])
      .default("pull-up")
      .describe("Default pull-up: open-collector detector outputs need one, and a broken wire then reads inactive, not as traffic."),
    debounceUs: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(0)
      .describe(
        "Kernel debounce in µs where the backend supports it. Default 0: the software glitch filter (glitchMs) does the job with exact timestamps.",
      ),
    glitchMs: z
      .number()
      .min(0)
      .max(250)
      .default(10)
      .describe(
        "Minimum pulse width and gap in ms; shorter changes are contact bounce or noise and are dropped. Default 10 ms: far above sub-ms bounce, far below the shortest real on-time (a 2 m motorcycle at 160 km/h over a 1.8 m loop is on ~85 ms).",
      ),
    latencyMs: z
      .number()
      .min(0)
      .max(100)
      .default(0)
      .describe(
        "Response latency of the detector card on this input, ms (its datasheet, or `roadside calibrate`); subtracted from every edge time. Default 0: equal latencies cancel in a speed trap, but two loops on cards (or channels) with different latencies bias every speed by about −Δlatency / transit time (20 ms at 90 km/h over 6 m: −7.7 %).",
      ),
  })
  .describe("A digital input line.");

export const inputsSection = z
  .record(z.string(), inputSchema)
  .default({})
  .describe("Digital inputs by name (e.g. lane1.up). Names may use letters, digits, _, - and .");
