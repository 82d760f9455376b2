import type { AlarmSink } from "../aggregate/alarm.js";
import type { SummarySink } from "../aggregate/summary.js";
import { TrafficAggregator } from "../aggregate/traffic.js";
import { DETECTOR_FAULTS, SAMPLE_NS } from "../aggregate/traffic-diagnostics.js";
import type { TimerHandle } from "../clock/index.js";
import type { LoopDetectorConfig } from "../config/sections/detectors.js";
import { resolveDiagnostics } from "../config/sections/lane-types.js";
import type { ManifestStream } from "../control/index.js";
import type { Level } from "../io/contract.js";
import type { Logger } from "../log/logger.js";
import { LoopDriver } from "../sensors/loop.js";
import type { ClaimedInput, Feature, FeatureFactory } from "./feature.js";

/** Build the aggregator of one configured detector (also used by tools and tests that drive a lane directly). */
export function laneAggregator(
  name: string,
  det: LoopDetectorConfig,
  out: { sink: SummarySink; alarm?: AlarmSink; logger?: Logger; onPassage?: (tEndNs: number, speedMs: number, lengthM: number) => void },
): TrafficAggregator {
  return new TrafficAggregator({
    detector: name,
    inputs: det.loops,
    loops: det.loops.length,
    mode: det.mode,
    spacingM: det.spacingM,
    loopLengthM: det.loopLengthM,
    gFactorM: det.gFactorM,
    speedUnit: det.speedUnit,
    classes: det.lengthClasses,
    diagnostics: resolveDiagnostics(det),
    calibration: det.calibration,
    calibrationAlarmMs: det.calibrationAlarmMs,
    sink: out.sink,
    ...(out.alarm ? { alarm: out.alarm } : {}),
    ...(out.logger ? { logger: out.logger } : {}),
    ...(out.onPassage ? { onPassage: out.onPassage } : {}),
  });
}

/** What a lane publishes, for the manifest. */
export function trafficManifestMeasures(det: LoopDetectorConfig): ManifestStream["measures"] {
  const presence = det.mode === "presence";
  const trap = presence && det.loops.length === 2;
  const u = det.speedUnit;
  const m: ManifestStream["measures"] = [
    {
      n: "volume",
      u: "count",
      description:
        "vehicles whose front reached the detector in the window (the upstream loop, or the downstream one for a vehicle the upstream loop missed)",
    },
    { n: "flow", u: "1/s", description: "volume per second of the time the detector could count (×3600 for veh/h)" },
  ];
  if (presence)
    m.push({
      n: "occupancy",
      u: "/",
      description: "share of the window the loop was occupied (0–1), on-time clipped to the window, faults left out",
    });
  if (trap)
    m.push({
      n: "occupancy.loop",
      description:
        '"downstream" when occupancy, headways and gaps came from the downstream loop because the upstream one was in fault or held for more of the window',
    });
  if (trap) {
    m.push(
      { n: "speed.n", u: "count", description: "vehicles with a valid speed (IRIS rules)" },
      { n: "speed.tms", u, description: "time-mean speed: mean of the vehicles' speeds" },
      { n: "speed.sms", u, description: "space-mean speed: harmonic mean of the vehicles' speeds" },
      { n: "speed.p85", u, description: "85th-percentile speed (linear interpolation, as Excel PERCENTILE.INC)" },
      { n: "length.mean", u: "m", description: "mean vehicle length" },
      ...det.lengthClasses.map((c) => ({
        n: `class.${c.name}`,
        u: "count",
        description: `vehicles shorter than ${c.maxM.toFixed(2)} m in the ${c.name} length class`,
      })),
      { n: "wrongway", u: "count", description: "vehicles that crossed the trap the wrong way (also alarmed)" },
    );
  } else if (presence) {
    m.push({
      n: "speed.est",
      u,
      description: `speed estimated from flow and occupancy with an effective vehicle length of ${det.gFactorM.toFixed(2)} m (g-factor); left out when the density is too low`,
    });
  }
  m.push(
    { n: "headway.mean", u: "s", description: "mean time between successive vehicles' fronts" },
    { n: "headway.min", u: "s", description: "shortest headway" },
  );
  if (presence)
    m.push(
      { n: "gap.mean", u: "s", description: "mean time from one vehicle's rear to the next one's front" },
      { n: "gap.min", u: "s", description: "shortest gap" },
    );
  m.push(
    {
      n: "quality.observed",
      u: "/",
      description: "share of the window during which the detector could count (device running, a loop healthy)",
    },
    { n: "quality.faults", u: "count", description: "inputs of this detector in fault during the window" },
  );
  if (presence)
    m.push({
      n: "quality.excluded",
      u: "s",
      description: "time left out of the occupancy (loop in fault, or a presence held too long to be a vehicle)",
    });
  m.push(
    { n: "quality.glitches", u: "count", description: "pulses shorter than the glitch filter, rejected (contact bounce, noise)" },
    { n: "quality.dropped", u: "count", description: "edges known lost before the driver" },
  );
  if (det.loops.length === 2)
    m.push({
      n: "quality.unpaired",
      u: "count",
      description: "vehicles seen by one loop of the trap only (lane change between the loops, or a missed detection)",
    });
  if (trap) {
    m.push(
      {
        n: "quality.latencyDiff",
        u: "s",
        description:
          "estimated latency of the downstream loop's card minus the upstream one's, beyond the configured inputs.*.latencyMs, from the traffic so far (left out until 30 vehicles in a length band)",
      },
      { n: "quality.latencySe", u: "s", description: "standard error of quality.latencyDiff" },
      {
        n: "quality.latencyApplied",
        u: "s",
        description: `latency correction applied automatically to the downstream loop (calibration: ${det.calibration}; 0 unless auto)`,
      },
    );
  }
  return m;
}

/** Loop detectors: one driver and one aggregator per configured detector (lane). */
export const trafficFeature: FeatureFactory = (ctx) => {
  const { config } = ctx.loaded;
  const entries = Object.entries(config.detectors);
  if (entries.length === 0) return undefined;
  const lanes = entries.map(([name, det]) => {
    const agg = laneAggregator(name, det, { sink: ctx.summaries, alarm: ctx.alarm, logger: ctx.logger.child({ detector: name }) });
    ctx.windows(det.window ?? config.windows.default).add(agg);
    ctx.checkpoint?.("traffic", agg);
    ctx.health.register(`traffic.${name}`, () => agg.health());
    const lane: { driver?: LoopDriver; claims: ClaimedInput[]; agg: TrafficAggregator; glitchMs: number[]; latencyMs: number[] } = {
      agg,
      claims: [],
      glitchMs: det.loops.map((input) => config.inputs[input]!.glitchMs),
      latencyMs: det.loops.map((input) => config.inputs[input]!.latencyMs),
    };
    det.loops.forEach((input, loop) => {
      lane.claims.push(
        ctx.claimInput(
          input,
          (level: Level, tNs: number) => lane.driver?.edge(loop, level, tNs),
          (count) => lane.driver?.dropped(loop, count),
        ),
      );
    });
    return lane;
  });
  let timer: TimerHandle | undefined;
  const tick = (): void => {
    const now = ctx.clock.monoNs();
    for (const lane of lanes) lane.agg.tick(now);
    timer = ctx.clock.setTimer(now + SAMPLE_NS, tick);
  };
  const feature: Feature = {
    name: "traffic",
    manifest: () =>
      entries.map(([name, det]) => ({
        topic: ctx.topics.stream("traffic", name),
        kind: "traffic",
        name,
        windowS: det.window ?? config.windows.default,
        description: `Vehicle counts${det.mode === "presence" ? ", occupancy" : ""}${det.mode === "presence" && det.loops.length === 2 ? ", speeds and lengths" : ""} of lane ${name} (${det.laneType}) from ${det.loops.length === 2 ? "a pair of inductive loops (speed trap)" : `an inductive loop${det.mode === "pulse" ? " in pulse mode (counts only)" : ""}`}; detector faults (${Object.keys(DETECTOR_FAULTS).join(", ")})${det.loops.length === 2 && det.mode === "presence" ? " and a latency difference between the trap's loops (trap-latency)" : ""} raise alarms on ${ctx.topics.alarm(name)}. No vehicle is identified.`,
        measures: trafficManifestMeasures(det),
      })),
    start() {
      const now = ctx.clock.monoNs();
      for (const lane of lanes) {
        // drivers start from the levels the backend read at open
        const levels = lane.claims.map((c) => c.level());
        lane.driver = new LoopDriver(lane.glitchMs, levels, lane.agg, lane.latencyMs);
        lane.agg.attach(lane.driver);
        lane.agg.start(now, levels);
      }
      timer = ctx.clock.setTimer(now + SAMPLE_NS, tick);
    },
    stop() {
      if (timer) ctx.clock.clearTimer(timer);
      timer = undefined;
      // features stop before the windows close: the last edges leave the glitch filters and the
      // last vehicles are paired into the windows that are about to be published
      for (const lane of lanes) lane.agg.end(ctx.clock.monoNs());
    },
  };
  return feature;
};
