import type { Alarm } from "../aggregate/alarm.js";
import type { Summary } from "../aggregate/summary.js";
import type { TrafficAggregator } from "../aggregate/traffic.js";
import { SAMPLE_NS } from "../aggregate/traffic-diagnostics.js";
import { NS_PER_S } from "../clock/clock.js";
import { VirtualClock } from "../clock/virtual.js";
import { WindowScheduler } from "../clock/windows.js";
import type { LoadedConfig } from "../config/load.js";
import { laneAggregator } from "../features/traffic.js";
import type { Level } from "../io/contract.js";
import { LoopDriver } from "../sensors/loop.js";
import type { TruthRecord } from "./scenario.js";
import { SimSite } from "./site.js";
import type { VehicleTruth } from "./traffic.js";
import { trafficScenario } from "./traffic.js";

/** One measured trap vehicle as the aggregator saw it. */
export interface RigPassage {
  detector: string;
  tEndNs: number;
  speedMs: number;
  lengthM: number;
}

/** An injected fault as the simulator recorded it. */
export interface FaultTruth {
  fault: string;
  detector: string;
  target: string;
  inputs: string[];
  startNs: number;
  endNs: number | null;
}

export interface TrafficRun {
  loaded: LoadedConfig;
  clock: VirtualClock;
  summaries: Summary[];
  alarms: Alarm[];
  passages: RigPassage[];
  vehicles: VehicleTruth[];
  faults: FaultTruth[];
  /** Raw edges delivered to the drivers. */
  edges: number;
  lanes: Map<string, TrafficAggregator>;
}

export interface TrafficRunOptions {
  seconds: number;
  /** Wall time at the start. Default 2026-01-05T00:00:00Z (a Monday, midnight). */
  startWallMs?: number;
  seed?: number;
}

/**
 * A traffic site in virtual time without the device around it: the simulated board driven by the
 * traffic scenario, read pin by pin into the real drivers and aggregators (the same classes the
 * device's traffic feature builds), with windows and 30 s diagnostics on the virtual clock. Runs a
 * simulated day in seconds; used by the accuracy tests and the benchmark. The full path through the
 * device, outbox and MQTT is covered by the integration tests.
 */
export function runTrafficSite(loaded: LoadedConfig, opts: TrafficRunOptions): TrafficRun {
  const clock = new VirtualClock({ startWallMs: opts.startWallMs ?? Date.UTC(2026, 0, 5, 0, 0, 0) });
  const vehicles: VehicleTruth[] = [];
  const faults: FaultTruth[] = [];
  const site = new SimSite(loaded, {
    clock,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    scenarios: [trafficScenario],
    onTruth: (r: TruthRecord) => {
      if (r.kind === "vehicle") vehicles.push(r as unknown as VehicleTruth);
      else if (r.kind === "fault") faults.push(r as unknown as FaultTruth);
    },
  });
  const run: TrafficRun = { loaded, clock, summaries: [], alarms: [], passages: [], vehicles, faults, edges: 0, lanes: new Map() };
  const { config } = loaded;
  const schedulers = new Map<number, WindowScheduler>();
  site.start();
  const now = clock.monoNs();
  const lanes: { agg: TrafficAggregator; driver: LoopDriver }[] = [];
  for (const [name, det] of Object.entries(config.detectors)) {
    const agg = laneAggregator(name, det, {
      sink: (s) => run.summaries.push(...s),
      alarm: (a) => run.alarms.push(a),
      onPassage: (tEndNs, speedMs, lengthM) => run.passages.push({ detector: name, tEndNs, speedMs, lengthM }),
    });
    const lengthS = det.window ?? config.windows.default;
    let sched = schedulers.get(lengthS);
    if (!sched) {
      sched = new WindowScheduler({ clock, lengthS });
      schedulers.set(lengthS, sched);
    }
    sched.add(agg);
    const levels: Level[] = [];
    const lines = det.loops.map((input) => {
      const line = loaded.lines.get(input)!.line;
      const invert = config.inputs[input]!.activeLow ? 1 : 0;
      levels.push(((site.board.pins[line]!.value ? 1 : 0) ^ invert) as Level);
      return { line, invert };
    });
    const driver = new LoopDriver(
      det.loops.map((input) => config.inputs[input]!.glitchMs),
      levels,
      agg,
      det.loops.map((input) => config.inputs[input]!.latencyMs),
    );
    agg.attach(driver);
    agg.start(now, levels);
    lines.forEach(({ line, invert }, k) => {
      let last = levels[k]!;
      site.board.digitalRead(line, (v: number) => {
        const level = ((v ? 1 : 0) ^ invert) as Level;
        if (level === last) return;
        last = level;
        run.edges++;
        driver.edge(k, level, clock.monoNs());
      });
    });
    lanes.push({ agg, driver });
    run.lanes.set(name, agg);
  }
  for (const s of schedulers.values()) s.start();
  const tick = (): void => {
    const t = clock.monoNs();
    for (const l of lanes) l.agg.tick(t);
    clock.setTimer(t + SAMPLE_NS, tick);
  };
  clock.setTimer(now + SAMPLE_NS, tick);
  clock.advanceTo(now + opts.seconds * NS_PER_S);
  site.stop();
  for (const s of schedulers.values()) s.stop();
  return run;
}

/**
 * The accuracy site: a simulated weekday on five lanes with everything the measures must survive.
 * - lane1: speed trap, 1500 veh/h peak at 100 km/h, platoons, lane changes between the loops,
 *   wrong-way drivers, stop-and-go 07:40–08:20 — and no fault (no alarm may be raised on it);
 * - lane2: speed trap, 1200 veh/h at 90 km/h, with every card fault one after the other;
 * - lane3: single presence loop (g-factor speeds), stuck off from 01:00 for 5 h (no hits after 4 h);
 * - lane4: single loop in pulse mode (counts only), chatter at 09:00 for 10 min;
 * - lane5: single presence loop, healthy, 15 min windows.
 * Cards add 5–30 ms latency and 0.5 ms jitter. Windows 1 min, 30 s, 5 min, 20 s and 15 min.
 */
export function trafficDayConfig(seed = 7): Record<string, unknown> {
  const card = { latencyMs: [5, 30], jitterMs: 0.5 };
  return {
    device: { id: "accuracy-site", board: "sim", site: "simulated weekday, five lanes" },
    inputs: {
      "l1.up": { line: 5 },
      "l1.down": { line: 6 },
      "l2.up": { line: 12 },
      "l2.down": { line: 13 },
      "l3.loop": { line: 16 },
      "l4.pulse": { line: 19 },
      "l5.loop": { line: 20 },
    },
    detectors: {
      lane1: { loops: ["l1.up", "l1.down"], window: "1m" },
      lane2: { loops: ["l2.up", "l2.down"], window: "30s", diagnostics: { chatterClearS: "30m" } },
      lane3: { loops: ["l3.loop"], window: "5m" },
      lane4: { loops: ["l4.pulse"], mode: "pulse", window: "20s", diagnostics: { chatterClearS: "30m" } },
      lane5: { loops: ["l5.loop"], window: "15m" },
    },
    sim: {
      seed,
      traffic: {
        lane1: {
          vehiclesPerHour: 1500,
          profile: "commuter",
          speedKmh: 100,
          platoonShare: 0.2,
          laneChangeShare: 0.02,
          wrongWayPerHour: 0.25,
          stopAndGo: [{ from: "07:40", to: "08:20" }],
          card,
        },
        lane2: { vehiclesPerHour: 1200, profile: "commuter", speedKmh: 90, card },
        lane3: { vehiclesPerHour: 900, profile: "commuter", speedKmh: 70, card },
        lane4: { vehiclesPerHour: 400, profile: "flat", speedKmh: 50, card },
        lane5: { vehiclesPerHour: 600, profile: "commuter", speedKmh: 60, card },
      },
      faults: [
        { at: "10h", for: "10m", kind: "stuck-on", target: "l2.up" },
        { at: "13h", for: "15m", kind: "chatter", target: "l2.down" },
        { at: "15h", for: "30m", kind: "drop-edges", target: "l2.up", params: { share: 0.4 } },
        { at: "16h", for: "30m", kind: "drop-edges", target: "l2.down", params: { share: 0.1 } },
        { at: "18h", for: "1h", kind: "bounce", target: "lane2" },
        { at: "20h", for: "20m", kind: "intermittent", target: "l2.up" },
        { at: "22h", for: "30m", kind: "stuck-off", target: "l2.down" },
        { at: "1h", for: "5h", kind: "stuck-off", target: "l3.loop" },
        { at: "9h", for: "10m", kind: "chatter", target: "l4.pulse" },
      ],
    },
  };
}
