import type { Clock, TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import type { SimLaneConfig } from "../config/sections/sim-traffic.js";
import type { Rng } from "./rng.js";
import type { ScenarioFactory } from "./scenario.js";
import type { PinDriver, SimLoopWiring } from "./traffic-card.js";
import { CardChannel } from "./traffic-card.js";
import type { ClassMix, VehicleClass } from "./traffic-model.js";
import { DEFAULT_CLASS_MIX, demandFactor, drawVehicle, inPeriod, localHour, StopAndGoWave } from "./traffic-model.js";
import { TRAFFIC_FAULT_KINDS, trafficFaults } from "./traffic-faults.js";
import type { LaneFault } from "./traffic-faults.js";

export type { PinDriver, SimLoopWiring } from "./traffic-card.js";
export { TRAFFIC_FAULT_KINDS } from "./traffic-faults.js";
export type { LaneFault } from "./traffic-faults.js";

export interface TrafficLaneSpec {
  detector: string;
  /** [loop] or [upstream, downstream]. */
  loops: SimLoopWiring[];
  /** Card output mode, as the detector is configured. Default presence. */
  mode?: "presence" | "pulse";
  /** Loop length along the lane, m. Default 1.8288 (6 ft). */
  loopLengthM?: number;
  /** Leading-edge to leading-edge spacing of a speed trap, m. Default 6.0. */
  spacingM?: number;
  vehiclesPerHour: number;
  speedKmh: number;
  /** Traffic details (profile, classes, congestion, card); defaults as in the config schema. */
  traffic?: Partial<Omit<SimLaneConfig, "vehiclesPerHour" | "speedKmh" | "loopLengthM" | "spacingM">>;
  /** Faults on this lane's card channels. */
  faults?: LaneFault[];
}

/** A loop crossing: on/off instants, monotonic ns. */
export interface Crossing {
  onNs: number;
  offNs: number;
}

/** What really happened: one simulated vehicle. */
export interface VehicleTruth {
  detector: string;
  class: VehicleClass;
  /** Speed over the trap, m/s: exact for a steady vehicle, the mean over the trap for one in a stop-and-go queue. */
  speedMs: number;
  lengthM: number;
  /** True when it crossed the detector at one constant speed (its speed is well defined). */
  steady: boolean;
  wrongWay: boolean;
  /** Lane change between the loops: "out" (upstream loop only) or "in" (downstream loop only). */
  laneChange?: "out" | "in";
  /** Physical presence over each loop, upstream first; null where the vehicle did not cross the loop. */
  loops: (Crossing | null)[];
  /** The card output the board saw for it (latency, jitter, pulse); null where not crossed or its edges were dropped. */
  card: (Crossing | null)[];
  /** Per loop: true when an injected drop-edges fault swallowed this vehicle's edges. */
  dropped: boolean[];
  /** Monotonic instant a correct device counts it: its first card leading edge (NaN if no loop saw it). */
  countNs: number;
}

/** Minimum time between one vehicle leaving a loop and the next arriving, s. */
const MIN_GAP_S = 0.2;
/** Lane changes between the loops are at least this far apart, s (in free flow, and in a queue). */
const CHANGE_APART_S = 3;
const CHANGE_APART_QUEUE_S = 70;
/** Empty lane before and after a wrong-way driver, s. */
const WRONG_WAY_CLEAR_S = 3;

/** How one vehicle crosses the loops: arrival and departure per loop, ns, and its speed. */
interface Pass {
  on: number[];
  off: number[];
  speedMs: number;
  /** False when a stop-and-go wave changed speed while it was over the loops. */
  steady: boolean;
  queue: LaneState["prevQueue"];
}

interface LaneState {
  spec: TrafficLaneSpec;
  t: Required<Omit<NonNullable<TrafficLaneSpec["traffic"]>, "classMix" | "speedSdKmh">> & { classMix: ClassMix; speedSdKmh: number };
  rng: Rng;
  channels: CardChannel[];
  latencyNs: number;
  loopLen: number;
  spacing: number;
  prevArrival: number;
  prevOff: number[];
  lastChangeNs: number;
  prevQueue: { wave: StopAndGoWave; s: number; lengthM: number } | undefined;
  waves: Map<number, StopAndGoWave>;
}

const round = (ns: number) => Math.round(ns / 1000) * 1000;

/**
 * Traffic on simulated loop detectors: time-of-day demand, platoons, vehicle classes with their
 * lengths and speeds, stop-and-go queues, lane changes between the loops, wrong-way drivers, a
 * detector card with latency and jitter, and injected card faults. Vehicles are generated one at a
 * time on clock timers (each when the one before arrives), so memory stays flat however long the run.
 */
export class TrafficSim {
  private timers = new Set<TimerHandle>();
  private running = false;
  private readonly states: LaneState[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly board: PinDriver,
    private readonly rng: Rng,
    private readonly lanes: readonly TrafficLaneSpec[],
    private readonly onVehicle: (v: VehicleTruth) => void = () => {},
    private readonly onFault: (f: Record<string, unknown>) => void = () => {},
  ) {}

  start(): void {
    this.running = true;
    const now = this.clock.monoNs();
    for (const spec of this.lanes) {
      const rng = this.rng.fork(spec.detector);
      const tr = spec.traffic ?? {};
      const card = { latencyMs: [5, 30] as [number, number], jitterMs: 0.5, skewMs: 0, pulseMs: 150, ...(tr.card ?? {}) };
      const st: LaneState = {
        spec,
        t: {
          profile: tr.profile ?? "flat",
          utcOffsetH: tr.utcOffsetH ?? 0,
          speedSdKmh: tr.speedSdKmh ?? spec.speedKmh / 10,
          classMix: tr.classMix ?? DEFAULT_CLASS_MIX,
          platoonShare: tr.platoonShare ?? 0,
          laneChangeShare: spec.loops.length === 2 ? (tr.laneChangeShare ?? 0) : 0,
          wrongWayPerHour: spec.loops.length === 2 ? (tr.wrongWayPerHour ?? 0) : 0,
          stopAndGo: tr.stopAndGo ?? [],
          card,
        },
        rng,
        channels: spec.loops.map((w, k) => new CardChannel(this.clock, this.board, w, rng.fork(`card${k}`))),
        latencyNs: rng.uniform(card.latencyMs[0], Math.max(card.latencyMs[0], card.latencyMs[1])) * 1e6,
        loopLen: spec.loopLengthM ?? 1.8288,
        spacing: spec.spacingM ?? 6.0,
        prevArrival: now,
        prevOff: spec.loops.map(() => -Infinity),
        lastChangeNs: -Infinity,
        prevQueue: undefined,
        waves: new Map(),
      };
      this.states.push(st);
      for (const ch of st.channels) ch.reset();
      for (const f of spec.faults ?? []) this.scheduleFault(st, f);
      this.next(st);
    }
  }

  stop(): void {
    this.running = false;
    for (const t of this.timers) this.clock.clearTimer(t);
    this.timers.clear();
  }

  private at(tNs: number, fn: () => void): void {
    const h = this.clock.setTimer(tNs, () => {
      this.timers.delete(h);
      if (this.running) fn();
    });
    this.timers.add(h);
  }

  private scheduleFault(st: LaneState, f: LaneFault): void {
    const chans = f.loops.map((k) => st.channels[k]!);
    this.onFault({
      kind: "fault",
      fault: f.kind,
      detector: st.spec.detector,
      target: f.target,
      inputs: f.inputs,
      startNs: f.startNs,
      endNs: Number.isFinite(f.endNs) ? f.endNs : null,
    });
    const p = f.params;
    const during = (on: () => void, off: () => void) => {
      this.at(f.startNs, on);
      if (Number.isFinite(f.endNs)) this.at(f.endNs, off);
    };
    switch (f.kind) {
      case "stuck-on":
      case "stuck-off": {
        const mode = f.kind === "stuck-on" ? 1 : -1;
        during(
          () =>
            chans.forEach((c) => {
              c.setStuck(mode);
            }),
          () =>
            chans.forEach((c) => {
              c.setStuck(0);
            }),
        );
        break;
      }
      case "chatter":
        during(
          () =>
            chans.forEach((c) => {
              c.setChatter(true, p["rateHz"] ?? 2);
            }),
          () =>
            chans.forEach((c) => {
              c.setChatter(false);
            }),
        );
        break;
      case "bounce":
        during(
          () =>
            chans.forEach((c) => {
              c.setBounce({ count: p["count"] ?? 3, widthMs: p["widthMs"] ?? 1 });
            }),
          () =>
            chans.forEach((c) => {
              c.setBounce(undefined);
            }),
        );
        break;
      case "intermittent": {
        const every = (p["everyS"] ?? 60) * NS_PER_S;
        const len = (p["forS"] ?? 10) * NS_PER_S;
        for (let t = f.startNs; t < f.endNs && t < f.startNs + 366 * 86400 * NS_PER_S; t += every) {
          const end = Math.min(t + len, f.endNs);
          this.at(t, () =>
            chans.forEach((c) => {
              c.setStuck(1);
            }),
          );
          this.at(end, () =>
            chans.forEach((c) => {
              c.setStuck(0);
            }),
          );
        }
        break;
      }
      default:
        break; // drop-edges acts when vehicles are scheduled
    }
  }

  /** Share of this channel's vehicles lost at `tNs` by a drop-edges fault (0 when none). */
  private dropShare(st: LaneState, loop: number, tNs: number): number {
    for (const f of st.spec.faults ?? []) {
      if (f.kind === "drop-edges" && f.loops.includes(loop) && tNs >= f.startNs && tNs < f.endNs) return f.params["share"] ?? 0.2;
    }
    return 0;
  }

  /** Generate the lane's next vehicle and schedule its card edges. */
  private next(st: LaneState): void {
    if (!this.running) return;
    const { spec, rng, t: tr } = st;
    const hour = localHour(this.clock.toWallMs(st.prevArrival), tr.utcOffsetH);
    const rate = spec.vehiclesPerHour * demandFactor(tr.profile, hour);
    if (rate <= 0) {
      st.prevArrival += 60 * NS_PER_S;
      this.at(st.prevArrival, () => this.next(st));
      return;
    }
    const headS = rng.chance(tr.platoonShare) ? rng.uniform(1.2, 2.5) : rng.exponential(3600 / rate);
    let t = st.prevArrival + headS * NS_PER_S;
    const dual = spec.loops.length === 2;
    const veh = drawVehicle(rng, tr.classMix);
    const L = veh.lengthM;
    const D = st.spacing;
    const tHour = localHour(this.clock.toWallMs(t), tr.utcOffsetH);
    const period = tr.stopAndGo.findIndex((p) => inPeriod(tHour, p.from, p.to));
    const wrongWay = dual && period < 0 && rng.chance(Math.min(0.5, tr.wrongWayPerHour / rate));
    // A lane change right after another (one vehicle seen only upstream, the next only downstream,
    // or the reverse, within a few seconds) times exactly like one vehicle or a wrong-way driver: no
    // loop logic can tell (docs/traffic.md "Limits"), so the simulator keeps lane changes apart.
    // In a queue the window is a minute: a stop can stretch any timing, so the device waits that long for a partner.
    const apartS = period >= 0 ? CHANGE_APART_QUEUE_S : CHANGE_APART_S;
    const change =
      dual && !wrongWay && t - st.lastChangeNs > apartS * NS_PER_S && rng.chance(tr.laneChangeShare)
        ? rng.chance(0.5)
          ? "out"
          : "in"
        : undefined;
    if (change) st.lastChangeNs = t;
    if (wrongWay) {
      // oncoming traffic gives a wrong-way driver an empty lane for a few seconds
      t = Math.max(t, Math.max(...st.prevOff) + WRONG_WAY_CLEAR_S * NS_PER_S);
    }
    // positions of each loop's leading edge along the lane, m
    const starts = dual ? [0, D] : [0];
    const pass = period >= 0 ? this.queuedPass(st, period, t, tHour, starts, L) : this.freePass(st, veh, t, starts, L, wrongWay);
    const { on, off, speedMs, steady, queue } = pass;
    st.prevQueue = queue;
    const clear = wrongWay ? WRONG_WAY_CLEAR_S * NS_PER_S : 0;
    for (let k = 0; k < starts.length; k++) st.prevOff[k] = Math.max(st.prevOff[k]!, off[k]! + clear);
    const hits = starts.map((_, k) => !(change === "out" && k === 1) && !(change === "in" && k === 0));
    const loops: (Crossing | null)[] = starts.map((_, k) => (hits[k] ? { onNs: on[k]!, offNs: off[k]! } : null));
    const { card, dropped } = this.cardEdges(st, on, off, hits);
    const firstCard = card.filter((x): x is Crossing => x !== null).reduce((m, x) => Math.min(m, x.onNs), Infinity);
    const truth: VehicleTruth = {
      detector: spec.detector,
      class: veh.cls,
      speedMs,
      lengthM: L,
      steady,
      wrongWay,
      loops,
      card,
      dropped,
      countNs: Number.isFinite(firstCard) ? firstCard : NaN,
    };
    if (change) truth.laneChange = change;
    const anchor = Math.min(...on);
    st.prevArrival = anchor;
    this.onVehicle(truth);
    this.at(anchor, () => this.next(st));
  }

  /** A vehicle in a stop-and-go queue: it crosses the loops as the queue's wave carries it, keeping its gap. */
  private queuedPass(st: LaneState, period: number, t: number, tHour: number, starts: readonly number[], L: number): Pass {
    const tr = st.t;
    const D = st.spacing;
    const Ll = st.loopLen;
    const dual = starts.length === 2;
    const on: number[] = [];
    const off: number[] = [];
    const p = tr.stopAndGo[period]!;
    const wave = this.wave(st, period, t, tHour);
    let s = wave.position(t);
    if (st.prevQueue && st.prevQueue.wave === wave) s = Math.max(s, st.prevQueue.s + st.prevQueue.lengthM + p.gapM);
    for (let iter = 0; iter < 200; iter++) {
      for (let k = 0; k < starts.length; k++) {
        on[k] = wave.timeAt(s + starts[k]!);
        off[k] = wave.timeAt(s + starts[k]! + Ll + L);
      }
      const late = this.violation(st, on);
      if (late <= 0) break;
      s += Math.max(0.2, (p.speedKmh / 3.6) * (late / NS_PER_S));
    }
    const last = off[off.length - 1]!;
    const steady = wave.segmentAt(on[0]!) === wave.segmentAt(last - 1);
    const queue = { wave, s, lengthM: L };
    wave.prune(on[0]! - 600 * NS_PER_S);
    const lead = dual ? on[1]! - on[0]! : NaN;
    const trail = dual ? off[1]! - off[0]! : NaN;
    const speedMs = dual ? D / ((lead + trail) / 2 / NS_PER_S) : (Ll + L) / ((off[0]! - on[0]!) / NS_PER_S);
    return { on, off, speedMs, steady, queue };
  }

  /** A vehicle in free flow: a drawn speed, held over both loops, delayed if it would close up on the one before. */
  private freePass(
    st: LaneState,
    veh: ReturnType<typeof drawVehicle>,
    t: number,
    starts: readonly number[],
    L: number,
    wrongWay: boolean,
  ): Pass {
    const { spec, rng, t: tr } = st;
    const D = st.spacing;
    const Ll = st.loopLen;
    const on: number[] = [];
    const off: number[] = [];
    const speedMs = Math.max(3, rng.normal((spec.speedKmh / 3.6) * veh.speedFactor, tr.speedSdKmh / 3.6));
    for (let iter = 0; iter < 3; iter++) {
      for (let k = 0; k < starts.length; k++) {
        // wrong way: enters at the downstream loop's far edge and drives back
        const entry = wrongWay ? D + Ll - (starts[k]! + Ll) : starts[k]!;
        on[k] = t + (entry / speedMs) * NS_PER_S;
        off[k] = t + ((entry + Ll + L) / speedMs) * NS_PER_S;
      }
      const late = this.violation(st, on);
      if (late <= 0) break;
      t += late;
    }
    return { on, off, speedMs, steady: true, queue: undefined };
  }

  /** The detector card's output for each loop the vehicle hit (latency, skew, jitter, pulse mode, dropped edges), scheduled. */
  private cardEdges(
    st: LaneState,
    on: readonly number[],
    off: readonly number[],
    hits: readonly boolean[],
  ): { card: (Crossing | null)[]; dropped: boolean[] } {
    const { spec, rng, t: tr } = st;
    const card: (Crossing | null)[] = [];
    const dropped: boolean[] = [];
    const c = tr.card;
    for (let k = 0; k < hits.length; k++) {
      const lat = st.latencyNs + (k === 1 ? c.skewMs * 1e6 : 0);
      const jitter = () => Math.max(-lat, rng.normal(0, c.jitterMs * 1e6));
      const cOn = round(on[k]! + lat + jitter());
      const cOff = spec.mode === "pulse" ? round(cOn + c.pulseMs * 1e6) : Math.max(cOn + 1e6, round(off[k]! + lat + jitter()));
      const share = hits[k] ? this.dropShare(st, k, cOn) : 0;
      const drop = share > 0 && rng.chance(share);
      dropped.push(drop);
      card.push(hits[k] && !drop ? { onNs: cOn, offNs: cOff } : null);
      if (hits[k] && !drop) {
        const ch = st.channels[k]!;
        this.at(cOn, () => ch.setVehicle(1));
        this.at(cOff, () => ch.setVehicle(0));
      }
    }
    return { card, dropped };
  }

  /** How late (ns) a vehicle with these loop arrivals must be to keep clear of the one before. */
  private violation(st: LaneState, on: readonly number[]): number {
    let late = 0;
    for (let k = 0; k < on.length; k++) {
      const need = st.prevOff[k]! + MIN_GAP_S * NS_PER_S - on[k]!;
      if (need > late) late = need;
    }
    return late;
  }

  /** The queue of one occurrence of a stop-and-go period. */
  private wave(st: LaneState, period: number, tNs: number, hour: number): StopAndGoWave {
    const p = st.t.stopAndGo[period]!;
    const into = (((hour - p.from) % 24) + 24) % 24;
    const startNs = tNs - into * 3600 * NS_PER_S;
    const key = Math.round(startNs / (60 * NS_PER_S)) * 1000 + period;
    let w = st.waves.get(key);
    if (!w) {
      w = new StopAndGoWave(st.rng.fork(`wave${key}`), startNs, p.speedKmh / 3.6, p.stopS, p.goS);
      st.waves.set(key, w);
      if (st.waves.size > 8) st.waves.delete(st.waves.keys().next().value!);
    }
    return w;
  }
}

/** Traffic on every detector named in `sim.traffic`. */
export const trafficScenario: ScenarioFactory = (ctx) => {
  const { config, lines } = ctx.loaded;
  const lanes: TrafficLaneSpec[] = [];
  const faults = trafficFaults(config, ctx.faults, ctx.startNs);
  for (const [name, spec] of Object.entries(config.sim?.traffic ?? {})) {
    const det = config.detectors[name];
    if (!det) continue;
    const { vehiclesPerHour, speedKmh, loopLengthM, spacingM, ...traffic } = spec;
    lanes.push({
      detector: name,
      loops: det.loops.map((input) => ({ line: lines.get(input)!.line, activeLow: config.inputs[input]!.activeLow })),
      mode: det.mode,
      loopLengthM: loopLengthM ?? det.loopLengthM,
      spacingM: spacingM ?? det.spacingM,
      vehiclesPerHour,
      speedKmh,
      traffic,
      faults: faults.get(name) ?? [],
    });
  }
  if (lanes.length === 0) return undefined;
  const sim = new TrafficSim(
    ctx.clock,
    ctx.board,
    ctx.rng("traffic"),
    lanes,
    (v) => ctx.truth({ kind: "vehicle", ...v }),
    (f) => ctx.truth({ ...f, kind: "fault" }),
  );
  return { name: "traffic", start: () => sim.start(), stop: () => sim.stop() };
};

/** Fault kinds the traffic scenario injects (for the simulator's fault registry). */
export const trafficFaultKinds = TRAFFIC_FAULT_KINDS;
