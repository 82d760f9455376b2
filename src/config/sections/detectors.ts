import * as z from "zod";
import { duration, windowLength } from "../types.js";
import { LANE_TYPES, type LaneType } from "./lane-types.js";

/** Feet → metres (exact by definition). IRIS and PeMS state their constants in feet. */
export const M_PER_FT = 0.3048;

const LANE_TYPE_NAMES = Object.keys(LANE_TYPES) as [LaneType, ...LaneType[]];

/** IRIS/MnDOT length classes (IRIS binned samples vmc, vs, vm, vl): < 7 ft, 7–20 ft, 20–43 ft, 43–255 ft. */
export const IRIS_LENGTH_CLASSES: readonly { name: string; maxM: number }[] = [
  { name: "motorcycle", maxM: 7 * M_PER_FT },
  { name: "short", maxM: 20 * M_PER_FT },
  { name: "medium", maxM: 43 * M_PER_FT },
  { name: "long", maxM: 255 * M_PER_FT },
];

const lengthClassSchema = z
  .strictObject({
    name: z.string().describe("Class name; published as class.{name}. Letters, digits, _ and - only."),
    maxM: z
      .number()
      .positive()
      .max(100)
      .describe("Upper bound of the class in metres (exclusive); the lower bound is the previous class's maxM (0 for the first)."),
  })
  .describe("One vehicle length class.");

const seconds = (what: string) => duration(what);

export const diagnosticsSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe("Run the detector diagnostics. Default true: a failed loop must raise an alarm, not publish bad data."),
    chatterVehicles: z
      .number()
      .int()
      .min(2)
      .max(1000)
      .default(38)
      .describe(
        "Chatter (NTCIP 217 erratic output): at least this many vehicles on one input in a 30 s sample. Default 38 (IRIS): above saturation flow, ~1900 veh/h/lane, so never real traffic.",
      ),
    chatterClearS: seconds("chatter clear time")
      .default(86400)
      .describe(
        "A chatter fault clears after this long without a chattering sample. Default 24h (IRIS): chatter comes back, so the lane stays suspect for a day.",
      ),
    lockedOnS: seconds("locked-on time")
      .optional()
      .describe(
        "Locked on (NTCIP 210 max presence): continuous presence this long is a fault, not traffic. Default by laneType (IRIS): 2 min on mainline-like lanes, 30 min where vehicles queue.",
      ),
    heldPresenceS: seconds("held presence time")
      .optional()
      .describe(
        "A presence still held at a window's end after this long is not counted as traffic in that window (the window's occupancy is computed without it and quality.observed drops), so a loop that locks on is never published as 100 % occupancy while the locked-on timer runs. Default by laneType: 20 s where lockedOnS is 2 min (a vehicle stopped on a mainline loop that long is rare), otherwise equal to lockedOnS.",
      ),
    noHitsS: seconds("no-hits time")
      .optional()
      .describe(
        "No hits (NTCIP 211 no activity): no vehicle for this long. Default by laneType (IRIS): 4 h mainline, 8–72 h on other lane types.",
      ),
    noChangeS: seconds("no-change time")
      .default(86400)
      .describe("No change (NTCIP 211): 30 s occupancy above zero and identical (to the 1/60 s scan) for this long. Default 24h (IRIS)."),
    spikeJump: z
      .number()
      .min(0.01)
      .max(1)
      .default(0.25)
      .describe(
        "Occupancy spike (NTCIP 214 excessive change): a 30 s sample whose occupancy exceeds both neighbouring samples by at least this share. Default 0.25 (IRIS/MnDOT 25 % jump).",
      ),
    spikeCount: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe(
        "Spikes within spikeWindowS that make a fault. Default 3: one spike is a stopped vehicle, repeated spikes are an intermittent detector.",
      ),
    spikeWindowS: seconds("spike window")
      .default(600)
      .describe("Window for counting spikes; the fault clears after this long without one. Default 10m."),
    mismatchVehicles: z
      .number()
      .int()
      .min(2)
      .max(10000)
      .default(20)
      .describe(
        "Speed traps: this many vehicles in a row seen on one loop and not the other make the silent loop fail (NTCIP 211) long before no-hits would. Default 20: lane changes between the loops are a few per cent, never 20 in a row.",
      ),
    unpairedShare: z
      .number()
      .min(0.01)
      .max(1)
      .default(0.25)
      .describe(
        "Speed traps: if more than this share of the last unpairedWindow vehicles was missed by one loop, that loop is erratic (NTCIP 217: dropped edges, a weak loop). Default 0.25: lane changes stay far below.",
      ),
    unpairedWindow: z.number().int().min(10).max(10000).default(40).describe("Vehicles over which unpairedShare is judged. Default 40."),
  })
  .describe(
    "Detector diagnostics (IRIS real-time auto-fail rules, evaluated on 30 s samples per input). Faults raise alarms on {prefix}/{device}/alarm/{detector}.",
  );

const DIAGNOSTICS_DEFAULTS: z.output<typeof diagnosticsSchema> = diagnosticsSchema.parse({});

export const loopDetectorSchema = z
  .strictObject({
    type: z.literal("loop").default("loop").describe("Inductive loop detector read through its card's output."),
    mode: z
      .enum(["presence", "pulse"])
      .default("presence")
      .describe(
        "Card output mode. Default presence: output held while a vehicle is over the loop, which gives occupancy, headways and gaps, and with two loops speed and length. pulse: one short pulse (125–250 ms) per vehicle, so counts and headways only.",
      ),
    loops: z
      .array(z.string())
      .min(1, { error: "loops needs 1 input (single loop) or 2 inputs [upstream, downstream] (speed trap)" })
      .max(2, { error: "loops takes at most 2 inputs: [upstream, downstream]" })
      .describe("Input names: [loop] for a single loop, [upstream, downstream] for a speed trap."),
    window: windowLength().optional().describe("Summary window: 20s, 30s (PeMS/IRIS raw), 1m, 5m or 15m (HCM). Default windows.default."),
    laneType: z
      .enum(LANE_TYPE_NAMES)
      .default("mainline")
      .describe("IRIS lane type; sets the default diagnostic thresholds (no hits, locked on). Default mainline."),
    loopLengthM: z
      .number()
      .min(0.5)
      .max(30)
      .default(6 * M_PER_FT)
      .describe(
        "Loop length along the lane, m. Default 1.8288 (6 ft, the common square loop). Vehicle length = speed × on-time − loop length.",
      ),
    spacingM: z
      .number()
      .min(6 * M_PER_FT, {
        error:
          "spacingM must be at least 1.83 m (6 ft): closer loops cannot time a vehicle well enough (IRIS); measure the distance between the loops' leading edges",
      })
      .max(100)
      .default(6)
      .describe(
        "Speed traps: distance between the leading edges of the two loops, m. Measure it on site: every speed is proportional to it. Default 6.0 (about 20 ft).",
      ),
    gFactorM: z
      .number()
      .min(1)
      .max(30)
      .default(22 * M_PER_FT)
      .describe(
        "Single loops: effective vehicle length (g-factor) for the estimated speed = flow × g / occupancy, m. Default 6.7056 (22 ft, the IRIS and PeMS default field length).",
      ),
    speedUnit: z
      .enum(["km/h", "m/s"])
      .default("km/h")
      .describe(
        "SenML unit of published speeds (RFC 8798 km/h, or the SI m/s). Default km/h: the unit of speed limits and of the engineers reading the data.",
      ),
    lengthClasses: z
      .array(lengthClassSchema)
      .min(1)
      .max(16)
      .default(IRIS_LENGTH_CLASSES.map((c) => ({ ...c })))
      .describe(
        "Speed traps: vehicle length classes, shortest first. Default the IRIS/MnDOT classes motorcycle < 7 ft, short 7–20 ft, medium 20–43 ft, long 43–255 ft.",
      ),
    diagnostics: diagnosticsSchema.default(DIAGNOSTICS_DEFAULTS),
    calibration: z
      .enum(["report", "auto"])
      .default("report")
      .describe(
        "Speed traps: the device estimates the latency difference between the two loops' cards from the traffic (docs/traffic.md \"Calibration\"). report (default): publish the estimate in health and in each summary's quality, and alarm when it exceeds calibrationAlarmMs; speeds use only the configured inputs.*.latencyMs. auto: also apply it: in full once its standard error is at most 1.5 ms (after at least 300 vehicles), earlier shrunk towards zero once it is at least two standard errors from zero, never beyond ±60 ms.",
      ),
    calibrationAlarmMs: z
      .number()
      .min(1)
      .max(100)
      .default(10)
      .describe(
        "Speed traps: alarm (trap-latency) when the loops' latencies, after the configured and applied corrections, disagree by more than this, ms, and by more than three standard errors of the estimate, judged from 300 cars on. Default 10 ms: about 4 % of speed at 90 km/h over 6 m; a replaced card or cross-wired loops.",
      ),
  })
  .describe("A lane's loop detector.");

export const detectorsSection = z
  .record(z.string(), loopDetectorSchema)
  .default({})
  .describe("Traffic detectors (lanes) by name; the name appears in topics: {prefix}/{device}/traffic/{name}.");

export type LoopDetectorConfig = z.output<typeof loopDetectorSchema>;

// zod-free, for the runtime (issue 15); kept here for other importers
export { LANE_TYPES, type LaneType, type ResolvedDiagnostics, resolveDiagnostics } from "./lane-types.js";
