import { LevelAggregator } from "../aggregate/level.js";
import type { TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import type { ManholeConfig } from "../config/sections/manholes.js";
import type { ManifestStream } from "../control/index.js";
import type { Level } from "../io/contract.js";
import { currentLoopMm } from "../sensors/ads1115.js";
import { modbusModel } from "../sensors/models/index.js";
import { DebouncedSwitch } from "../sensors/switch.js";
import type { ClaimedInput, Feature, FeatureContext, FeatureFactory } from "./feature.js";
import type { SampleSource } from "./sources.js";
import { AdcSource, RangeSource } from "./sources.js";

/**
 * One manhole: a level source (ultrasonic or radar range → depth, or a 4–20 mA transducer), adaptive
 * sampling, the level aggregator (windows, alarms, 12/24 spill counting) and the cover switch.
 */
class Manhole {
  readonly agg: LevelAggregator;
  readonly source: SampleSource;
  private timer: TimerHandle | undefined;
  private cover: DebouncedSwitch | undefined;
  private coverClaim: ClaimedInput | undefined;
  private coverAlarmed = false;
  private coverEndNs = -Infinity;
  private prevDepth = Number.NaN;
  private prevNs = 0;
  /** When the last sample was cut (timer or window boundary): a sample weighs the time since. */
  private takenNs = -1;
  private fast = false;
  private stopped = false;
  coverSuppressed = 0;

  constructor(
    private readonly ctx: FeatureContext,
    readonly name: string,
    readonly cfg: ManholeConfig,
    readonly windowS: number,
  ) {
    const s = cfg.sensor;
    this.source =
      s.type === "current-loop"
        ? new AdcSource(ctx, name, s.adc, (v) => currentLoopMm(v, s.shuntOhms, s.spanMm, s.offsetMm), cfg.staleAfter)
        : new RangeSource(ctx, name, s, cfg.staleAfter);
    this.agg = new LevelAggregator({
      sensor: name,
      clock: ctx.clock,
      sink: ctx.summaries,
      alarm: ctx.alarm,
      overflowMm: cfg.overflowHeightMm,
      alertShare: cfg.alertShare,
      hysteresisMm: cfg.hysteresisMm,
      confirm: cfg.confirmSamples,
    });
    ctx.windows(windowS).add(this.agg);
    ctx.checkpoint?.("level", this.agg);
    // after the aggregator has rotated: the readings before the boundary make the closing window's
    // last sample, so no sample is ever stamped in a window already published
    ctx.windows(windowS).add({
      rotate: (_closing, opening) =>
        this.source.cut?.(opening.startNs, (mm, tNs) => this.sampled(mm, tNs, this.interval(), opening.startNs)),
      finalize: () => {},
    });
    if (cfg.cover) {
      const c = cfg.cover;
      this.cover = new DebouncedSwitch(ctx.clock, c.debounce * NS_PER_S, (level, tNs) => this.coverChange(level, tNs));
      const sw = this.cover;
      this.coverClaim = ctx.claimInput(c.input, (level: Level, tNs: number) => sw.edge(level, tNs));
    }
    ctx.health.register(`sensor.${name}`, () => ({
      ...this.source.monitor.health(),
      levelState: this.agg.state,
      depthM: Number.isNaN(this.agg.depthMm) ? null : Math.round(this.agg.depthMm) / 1000,
      sampleIntervalS: this.interval(),
      spillsTotal: this.agg.counter.total,
      coverAlarmsSuppressed: this.coverSuppressed,
    }));
  }

  async start(): Promise<void> {
    if (this.cover && this.coverClaim) {
      const l = this.coverClaim.level();
      this.cover.init(l);
      if (l === 1) this.coverChange(1, this.ctx.clock.monoNs());
    }
    await this.source.start();
    this.takenNs = this.ctx.clock.monoNs();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.ctx.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.cover?.stop();
    await this.source.stop();
  }

  /** Dry-weather or fast sampling interval, s. */
  private interval(): number {
    return this.fast ? this.cfg.sampling.fast : this.cfg.sampling.dry;
  }

  private schedule(): void {
    const clock = this.ctx.clock;
    const interval = this.interval();
    this.timer = clock.setTimer(clock.monoNs() + interval * NS_PER_S, () => {
      this.timer = undefined;
      this.source.take((mm, tNs) => this.sampled(mm, tNs, interval, clock.monoNs()));
      // a synchronous sample that changed the rate has already scheduled the next one
      if (!this.timer && !this.stopped) this.schedule();
    });
  }

  private sampled(value: number, tNs: number, intervalS: number, cutNs: number): void {
    const since = this.takenNs;
    this.takenNs = cutNs;
    if (Number.isNaN(value)) return;
    const s = this.cfg.sensor;
    const depth = s.type === "current-loop" ? value : this.cfg.mountHeightMm! - value;
    const weightS = since >= 0 && cutNs > since ? (cutNs - since) / NS_PER_S : intervalS;
    this.agg.sample(depth, tNs, intervalS, weightS);
    // adaptive sampling: fast near or in overflow and while the level climbs quickly
    const sp = this.cfg.sampling;
    const risePerMin =
      Number.isNaN(this.prevDepth) || tNs <= this.prevNs ? 0 : ((depth - this.prevDepth) * 60 * NS_PER_S) / (tNs - this.prevNs);
    this.prevDepth = depth;
    this.prevNs = tNs;
    const near = depth >= sp.fastAboveShare * this.cfg.overflowHeightMm || this.agg.state !== "normal";
    const wasFast = this.fast;
    this.fast = near || risePerMin >= sp.fastRiseMmPerMin;
    if (this.fast !== wasFast) {
      this.ctx.logger.debug(() => `manhole ${this.name}: sampling every ${this.interval()} s (depth ${Math.round(depth)} mm)`);
      // take the next sample at the new rate, not after the old interval
      if (this.timer) this.ctx.clock.clearTimer(this.timer);
      if (!this.stopped) this.schedule();
    }
  }

  /** Cover switch (debounced): alarm on open, end on close; re-opening within the cooldown raises none. */
  private coverChange(level: Level, tNs: number): void {
    const c = this.cfg.cover!;
    if (level === 1) {
      this.agg.coverOpened(tNs);
      if (tNs - this.coverEndNs < c.cooldown * NS_PER_S) {
        this.coverSuppressed++;
        return;
      }
      this.coverAlarmed = true;
      this.ctx.alarm({ source: this.name, kind: "cover-open", state: "start", tNs, message: `manhole ${this.name}: cover opened` });
      return;
    }
    if (!this.coverAlarmed) return;
    this.coverAlarmed = false;
    this.coverEndNs = tNs;
    this.ctx.alarm({ source: this.name, kind: "cover-open", state: "end", tNs });
  }

  manifest(): ManifestStream[] {
    const { topics } = this.ctx;
    const m = this.cfg;
    const s = m.sensor;
    const how =
      s.type === "current-loop"
        ? "a 4–20 mA level transducer"
        : s.type === "maxbotix"
          ? `a ${s.model.toUpperCase()} ultrasonic sensor ${m.mountHeightMm} mm above the invert`
          : `a ${modbusModel(s.model).name} sensor ${m.mountHeightMm} mm above the invert`;
    return [
      {
        topic: topics.stream("level", this.name),
        kind: "level",
        name: this.name,
        windowS: this.windowS,
        description: `Water depth in manhole ${this.name} from ${how}; overflow at ${m.overflowHeightMm} mm, spills counted by the UK 12/24 rule.`,
        limits: { overflowDepthM: m.overflowHeightMm / 1000, alertDepthM: (m.alertShare * m.overflowHeightMm) / 1000 },
        measures: [
          {
            n: "samples",
            u: "count",
            description: "depth samples in the window (each the median of the sensor's readings in its sampling interval)",
          },
          { n: "depthMin", u: "m", description: "lowest depth above the invert" },
          { n: "depthMean", u: "m", description: "time-weighted mean depth" },
          { n: "depthMax", u: "m", description: "highest depth" },
          { n: "state", description: "normal, alert (above the alert share of the overflow height) or spill, at the window end" },
          { n: "spillDuration", u: "s", description: "time spilling within the window" },
          { n: "spills", u: "count", description: "spills counted (12/24 rule) in the window" },
          { n: "spillsDay", u: "count", description: "spills counted so far in the UTC day of the window end" },
          { n: "sequenceSpills", u: "count", description: "spills of the running 12/24 sequence (0 when none)" },
          { n: "coverOpenings", u: "count", description: "cover openings in the window" },
          { n: "sampleInterval", u: "s", description: "sampling interval in force (adaptive: coarse in dry weather, fast near overflow)" },
        ],
      },
      {
        topic: topics.alarm(this.name),
        kind: "alarm",
        name: this.name,
        description:
          "Events of this manhole: high-level, spill (start/end with duration and peak), spill-sequence (end, 12/24 count), cover-open, sensor-fault.",
        measures: [
          { n: "depth", u: "m", description: "depth at the event" },
          { n: "duration", u: "s", description: "how long the condition lasted (end events)" },
          { n: "peak", u: "m", description: "highest depth of a spill" },
          { n: "spills", u: "count", description: "spills of a finished sequence" },
        ],
      },
    ];
  }
}

/** Manhole level sensors: one `Manhole` per configured entry. */
export const manholeFeature: FeatureFactory = (ctx) => {
  const { config } = ctx.loaded;
  const entries = Object.entries(config.manholes);
  if (entries.length === 0) return undefined;
  const units = entries.map(([name, cfg]) => new Manhole(ctx, name, cfg, cfg.window ?? config.windows.default));
  const feature: Feature = {
    name: "manholes",
    manifest: () => units.flatMap((u) => u.manifest()),
    async start() {
      // one sensor that cannot start (no ADC on this board) must not keep the others down
      const failed: string[] = [];
      for (const u of units) {
        try {
          await u.start();
        } catch (err) {
          failed.push(u.name);
          ctx.logger.error((err as Error).message, { sensor: u.name });
        }
      }
      if (failed.length === units.length) throw new Error(`no manhole sensor could start (${failed.join(", ")})`);
    },
    async stop() {
      for (const u of units) await u.stop();
    },
  };
  return feature;
};
