import * as z from "zod";
import { duration } from "../types.js";
import { simBinsSchema } from "./sim-bins.js";
import { simSewerSchema } from "./sim-sewer.js";
import { simIdentifiersSchema } from "./sim-identifiers.js";
import { simTrafficSchema } from "./sim-traffic.js";

/**
 * A fault injected into the simulated hardware at a given time. The simulator injects the generic
 * kinds itself; each scenario handles the kinds that concern its targets. Every kind is listed in
 * FAULT_KINDS (src/config/sim-faults.ts), which validation checks kinds, targets and params against.
 */
export const simFaultSchema = z
  .strictObject({
    at: duration("fault start").describe("When the fault starts, from the start of the run (e.g. 2h, 90m)."),
    for: duration("fault duration")
      .optional()
      .describe("How long it lasts; omitted: until the end of the run (or instantaneous for one-off faults)."),
    kind: z
      .string()
      .describe(
        "Fault kind: clock-jump, unplug, garbage, partial-frames, wrong-baud, and the kinds scenarios add (traffic: stuck-on, stuck-off, chatter, bounce…). See docs/simulator.md.",
      ),
    target: z.string().optional().describe("Input, port, detector or sensor name the fault applies to (not needed for clock-jump)."),
    params: z.record(z.string(), z.number()).optional().describe("Kind-specific numbers, e.g. { deltaS: 3600 } for clock-jump."),
  })
  .describe("An injected fault.");

export const simSection = z
  .strictObject({
    seed: z.number().int().default(1).describe("Random seed; the same seed gives the same signals."),
    traffic: simTrafficSchema,
    sewer: simSewerSchema,
    bins: simBinsSchema,
    identifiers: simIdentifiersSchema,
    faults: z.array(simFaultSchema).default([]).describe("Faults to inject, in any order."),
  })
  .optional()
  .describe("Simulated signals, used when device.board is sim.");

export type SimFault = z.output<typeof simFaultSchema>;
