import type { Clock, TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import type { ManholeConfig } from "../config/sections/manholes.js";
import type { DeviceConfig } from "../config/schema.js";
import { levelModel } from "../sensors/models/index.js";
import { VirtualClock } from "../clock/virtual.js";
import { SimAds1115 } from "./ads1115.js";
import type { Rng } from "./rng.js";
import type { ScenarioFactory, SimContext, TruthRecord } from "./scenario.js";
import type { SimDistanceSensor } from "./sonar.js";
import { simDistanceSensor } from "./sonar.js";

type SimManhole = NonNullable<DeviceConfig["sim"]>["sewer"][string];

/** Level truth is recorded this often (overflow periods are exact to the model step). */
const TRUTH_EVERY_NS = 300 * NS_PER_S;

/**
 * The water in one simulated manhole. Dry-weather flow follows the day (low at night, peak in the
 * morning); rain adds runoff through a linear reservoir (first-order lag: the rise during a storm
 * and the recession after it); above the overflow crest the weir passes the excess, so the level
 * climbs only slowly (weir flow ∝ head^1.5, so head ∝ flow^(2/3)). Stepped at a fixed interval on
 * the virtual clock; overflow periods are recorded as ground truth to the step.
 */
export class ManholeModel {
  private stormMm = 0;
  private lastNs: number;
  depthMm: number;
  private overSince = -1;
  private peak = 0;
  private nextTruthNs: number;

  constructor(
    private readonly clock: Clock,
    private readonly name: string,
    private readonly spec: SimManhole,
    private readonly crestMm: number,
    private readonly stepNs: number,
    private readonly startNs: number,
    private readonly truth: (r: TruthRecord) => void,
  ) {
    this.lastNs = clock.monoNs();
    this.depthMm = this.dry(this.lastNs);
    this.nextTruthNs = this.lastNs;
  }

  /** Rain intensity now, mm/h. */
  rain(tNs: number): number {
    let r = 0;
    for (const s of this.spec.storms) {
      const from = this.startNs + s.at * NS_PER_S;
      if (tNs >= from && tNs < from + s.for * NS_PER_S) r += s.intensityMmH;
    }
    return r;
  }

  private dry(tNs: number): number {
    const hour = (((this.clock.toWallMs(tNs) / 3_600_000) % 24) + 24) % 24;
    return this.spec.dryDepthMm + this.spec.diurnalMm * Math.cos((2 * Math.PI * (hour - 9)) / 24);
  }

  /** Step the model to `nowNs`. */
  advance(nowNs: number): void {
    const lagNs = this.spec.lag * NS_PER_S;
    while (this.lastNs + this.stepNs <= nowNs) {
      const t = this.lastNs + this.stepNs;
      const target = this.spec.runoffMmPerMmH * this.rain(t);
      this.stormMm += (target - this.stormMm) * (1 - Math.exp(-this.stepNs / lagNs));
      const raw = this.dry(t) + this.stormMm;
      this.depthMm = raw > this.crestMm ? this.crestMm + 1.5 * (raw - this.crestMm) ** (2 / 3) : raw;
      this.lastNs = t;
      this.observe(t);
    }
  }

  private observe(t: number): void {
    const over = this.depthMm >= this.crestMm;
    if (over && this.overSince < 0) {
      this.overSince = t;
      this.peak = this.depthMm;
    } else if (over && this.depthMm > this.peak) {
      this.peak = this.depthMm;
    } else if (!over && this.overSince >= 0) {
      this.truth({ kind: "overflow", sensor: this.name, startNs: this.overSince, endNs: t, peakMm: Math.round(this.peak) });
      this.overSince = -1;
    }
    if (t >= this.nextTruthNs) {
      this.truth({ kind: "level", sensor: this.name, tNs: t, depthMm: Math.round(this.depthMm * 10) / 10, rainMmH: this.rain(t) });
      this.nextTruthNs = t + TRUTH_EVERY_NS;
    }
  }

  /** An overflow still running at the end of the run is recorded with endNs null. */
  finish(): void {
    if (this.overSince >= 0)
      this.truth({ kind: "overflow", sensor: this.name, startNs: this.overSince, endNs: null, peakMm: Math.round(this.peak) });
    this.overSince = -1;
  }
}

/** One simulated manhole: the model, its sensor (serial sonar, Modbus slave or ADC-read transducer), its cover. */
function manholeSim(ctx: SimContext, name: string, cfg: ManholeConfig, spec: SimManhole, rng: Rng) {
  const clock = ctx.clock;
  const s = cfg.sensor;
  const stepS = s.type === "current-loop" ? 1 : spec.frameInterval;
  const model = new ManholeModel(clock, name, spec, cfg.overflowHeightMm, stepS * NS_PER_S, ctx.startNs, (r) => ctx.truth(r));
  const timers: TimerHandle[] = [];
  let sonar: SimDistanceSensor | undefined;
  let stepper: TimerHandle | undefined;
  if (s.type !== "current-loop") {
    const mount = cfg.mountHeightMm!;
    const minMm = levelModel(s.model)?.minRangeMm ?? 0;
    sonar = simDistanceSensor(ctx, name, s, rng, {
      intervalS: spec.frameInterval,
      noiseMm: spec.noiseMm,
      target: (now) => {
        model.advance(now);
        const range = mount - model.depthMm;
        return range <= minMm ? "min-range" : range;
      },
      truth: (r) => ctx.truth(r),
    });
  } else {
    const adc = new SimAds1115(clock, clock instanceof VirtualClock ? () => clock.yieldSoon() : () => {});
    ctx.board.attachI2c(s.adc.address, adc);
    adc.setInput(s.adc.channel, (now) => {
      model.advance(now);
      const share = Math.min(1, Math.max(0, (model.depthMm + rng.normal(0, spec.noiseMm) - s.offsetMm) / s.spanMm));
      return ((4 + 16 * share) / 1000) * s.shuntOhms;
    });
  }
  const cover = cfg.cover
    ? { line: ctx.loaded.lines.get(cfg.cover.input)?.line, activeLow: ctx.loaded.config.inputs[cfg.cover.input]?.activeLow ?? false }
    : undefined;
  const setCover = (open: boolean): void => {
    if (cover?.line === undefined) return;
    ctx.board.setPin(cover.line, (open !== cover.activeLow ? 1 : 0) as 0 | 1);
  };
  // the cover is on when the device opens its inputs (the scenario starts after the device)
  setCover(false);
  const tick = (): void => {
    stepper = clock.setTimer(clock.monoNs() + NS_PER_S * 60, () => {
      model.advance(clock.monoNs());
      tick();
    });
  };
  return {
    start(): void {
      for (const o of spec.coverOpenings) {
        const from = ctx.startNs + o.at * NS_PER_S;
        const to = from + o.for * NS_PER_S;
        timers.push(
          clock.setTimer(from, () => setCover(true)),
          clock.setTimer(to, () => setCover(false)),
        );
        ctx.truth({ kind: "cover-open", sensor: name, startNs: from, endNs: to });
      }
      sonar?.start();
      // keep the model (and its overflow truth) stepping even when nothing reads the sensor
      tick();
    },
    stop(): void {
      sonar?.stop();
      if (stepper) clock.clearTimer(stepper);
      for (const t of timers) clock.clearTimer(t);
      model.advance(clock.monoNs());
      model.finish();
    },
  };
}

/** Manholes named in `sim.sewer`. */
export const sewerScenario: ScenarioFactory = (ctx) => {
  const { config } = ctx.loaded;
  const sims = Object.entries(config.sim?.sewer ?? {}).filter(([name]) => config.manholes[name]);
  if (sims.length === 0) return undefined;
  const root = ctx.rng("sewer");
  const units = sims.map(([name, spec]) => manholeSim(ctx, name, config.manholes[name]!, spec, root.fork(name)));
  return {
    name: "sewer",
    start: () => {
      for (const u of units) u.start();
    },
    stop: () => {
      for (const u of units) u.stop();
    },
  };
};
