import * as z from "zod";
import { show } from "../types.js";

/** A time of day, "HH:MM" (24 h), parsed to hours. */
function timeOfDay(what: string) {
  return z.string().transform((s, ctx) => {
    const m = /^\s*([01]?\d|2[0-4]):([0-5]\d)\s*$/.exec(s);
    if (!m || (m[1] === "24" && m[2] !== "00")) {
      ctx.addIssue({ code: "custom", message: `${what} must be a time of day like "07:30"; got ${show(s)}`, input: s });
      return z.NEVER;
    }
    return Number(m[1]) + Number(m[2]) / 60;
  });
}

const stopAndGoSchema = z
  .strictObject({
    from: timeOfDay("from").describe('Start, local time of day, e.g. "07:30".'),
    to: timeOfDay("to").describe('End, local time of day, e.g. "08:15" (may be earlier than from: the period then spans midnight).'),
    speedKmh: z.number().min(2).max(40).default(15).describe("Crawl speed while the queue moves, km/h. Default 15."),
    stopS: z.number().min(0.5).max(60).default(6).describe("Mean length of a stop, s (exponential). Default 6."),
    goS: z.number().min(1).max(300).default(10).describe("Mean length of a movement, s (exponential). Default 10."),
    gapM: z
      .number()
      .min(1)
      .max(20)
      .default(2.5)
      .describe("Bumper-to-bumper gap when stopped, m. Default 2.5 (more than a loop is long, so each vehicle is its own detection)."),
  })
  .describe("A congested period: the queue over the loops moves and stops as one (stop-and-go waves).");

const cardSchema = z
  .strictObject({
    latencyMs: z
      .tuple([z.number().min(0).max(100), z.number().min(0).max(100)])
      .default([5, 30])
      .describe(
        "Range of the card's detection latency, ms; each card draws one value. Default [5, 30] (cards add 0.5–60 ms; DOMAIN.md §1). Both loops of a trap are on one card, so the latency cancels in speeds.",
      ),
    jitterMs: z
      .number()
      .min(0)
      .max(20)
      .default(0.5)
      .describe("Standard deviation of the per-edge timing jitter, ms (card scan cycle). Default 0.5."),
    skewMs: z
      .number()
      .min(-50)
      .max(50)
      .default(0)
      .describe("Extra latency of the downstream channel, ms (a card that scans its channels in turn). Default 0."),
    pulseMs: z
      .number()
      .min(50)
      .max(500)
      .default(150)
      .describe("Pulse-mode cards: length of the pulse per vehicle, ms. Default 150 (cards give 125–250 ms)."),
  })
  .describe("The detector card between the loop and the board.");

const classMixSchema = z
  .strictObject({
    motorcycle: z.number().min(0).default(0.01),
    short: z.number().min(0).default(0.87),
    medium: z.number().min(0).default(0.08),
    long: z.number().min(0).default(0.04),
  })
  .describe(
    "Shares of the IRIS length classes (normalised): motorcycle < 2.1 m, short 2.1–6.1 m (cars, vans), medium 6.1–13.1 m (buses, rigid trucks), long 13.1–25 m (articulated). Default 1 %, 87 %, 8 %, 4 %.",
  );

export const simLaneSchema = z
  .strictObject({
    vehiclesPerHour: z
      .number()
      .min(0)
      .max(2400)
      .default(600)
      .describe("Demand on this lane, veh/h: constant with profile flat, the peak-hour demand with profile commuter. Default 600."),
    profile: z
      .enum(["flat", "commuter"])
      .default("flat")
      .describe(
        "Demand over the day. flat (default): constant. commuter: morning peak around 08:00, evening peak around 17:15, a midday plateau and a quiet night (3 % of the peak).",
      ),
    utcOffsetH: z
      .number()
      .min(-12)
      .max(14)
      .default(0)
      .describe("Local time = UTC + this, hours, for the profile and the stop-and-go periods. Default 0."),
    speedKmh: z.number().min(5).max(200).default(50).describe("Mean free-flow speed, km/h. Default 50."),
    speedSdKmh: z.number().min(0).max(50).optional().describe("Standard deviation of free-flow speeds, km/h. Default 10 % of speedKmh."),
    classMix: classMixSchema.optional(),
    platoonShare: z
      .number()
      .min(0)
      .max(0.95)
      .default(0)
      .describe("Share of vehicles that follow the one before closely (1.2–2.5 s headway), as released by a signal upstream. Default 0."),
    laneChangeShare: z
      .number()
      .min(0)
      .max(0.5)
      .default(0)
      .describe(
        "Speed traps: share of vehicles that change lanes between the loops, so only one loop sees them (half leave, half arrive). Default 0.",
      ),
    wrongWayPerHour: z
      .number()
      .min(0)
      .max(60)
      .default(0)
      .describe("Speed traps: mean rate of vehicles driving the wrong way (downstream loop first), per hour. Default 0."),
    stopAndGo: z.array(stopAndGoSchema).default([]).describe("Congested periods with stop-and-go traffic. Default none."),
    loopLengthM: z
      .number()
      .min(0.5)
      .max(30)
      .optional()
      .describe(
        "Length of the simulated loops, m. Default: the detector's loopLengthM (set it differently to simulate a misconfigured device).",
      ),
    spacingM: z.number().min(1).max(100).optional().describe("Spacing of the simulated trap, m. Default: the detector's spacingM."),
    card: cardSchema.default({ latencyMs: [5, 30], jitterMs: 0.5, skewMs: 0, pulseMs: 150 }),
  })
  .describe("Simulated traffic on one detector.");

export const simTrafficSchema = z.record(z.string(), simLaneSchema).default({}).describe("Simulated traffic by detector name.");

export type SimLaneConfig = z.output<typeof simLaneSchema>;
