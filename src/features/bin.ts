import { BinAggregator } from "../aggregate/bin.js";
import type { TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import type { BinConfig } from "../config/sections/bins.js";
import type { ManifestStream } from "../control/index.js";
import type { Level } from "../io/contract.js";
import { tmp36Celsius } from "../sensors/ads1115.js";
import { DebouncedSwitch } from "../sensors/switch.js";
import type { ClaimedInput, Feature, FeatureContext, FeatureFactory } from "./feature.js";
import { AdcSource, RangeSource } from "./sources.js";

/** After the lid closes, readings wait this long: the lid and the waste settle, the sensor re-ranges. */
const SETTLE_NS = 5 * NS_PER_S;
/** A reading needs this many frames: one or two frames around a lid or tilt change are not the waste. */
const MIN_FRAMES = 3;
/** A pickup candidate is re-measured this soon instead of after a full interval. */
const RECHECK_NS = 60 * NS_PER_S;

/** One switch input of a bin with its debouncer and a "held long enough" timer. */
interface HeldSwitch {
  sw: DebouncedSwitch;
  claim: ClaimedInput;
  timer: TimerHandle | undefined;
  alarmed: boolean;
}

/**
 * One bin: a rangefinder under the lid (MaxBotix free-running, or Modbus polled), a TMP36 on an ADS1115
 * input for fire, a tilt switch and a lid switch on GPIO. Distance readings are used only while the
 * lid is closed and the bin upright: otherwise the sensor is not looking at the waste.
 */
class Bin {
  readonly agg: BinAggregator;
  readonly distance: RangeSource;
  readonly temp: AdcSource | undefined;
  private tilt: HeldSwitch | undefined;
  private lid: HeldSwitch | undefined;
  private lidClosedNs = -Infinity;
  private timers = new Set<TimerHandle>();
  private stopped = false;

  constructor(
    private readonly ctx: FeatureContext,
    readonly name: string,
    readonly cfg: BinConfig,
    readonly windowS: number,
  ) {
    const stale = cfg.staleAfter ?? cfg.measureEvery * 3;
    this.distance = new RangeSource(ctx, name, cfg.distance, stale, () => this.looking(), "distance", MIN_FRAMES);
    if (cfg.temperature)
      this.temp = new AdcSource(ctx, name, cfg.temperature.adc, tmp36Celsius, Math.max(60, cfg.temperature.every * 6), "temperature");
    this.agg = new BinAggregator({
      bin: name,
      clock: ctx.clock,
      sink: ctx.summaries,
      alarm: ctx.alarm,
      emptyMm: cfg.emptyDistanceMm,
      fullMm: cfg.fullDistanceMm,
      highPct: cfg.highThreshold,
      lowPct: cfg.lowThreshold,
      pickupDropPct: cfg.pickupDrop,
      changeMm: cfg.report.changeMm,
      onlyOnChange: cfg.report.onlyOnChange,
      heartbeatS: cfg.report.heartbeat,
      fire: {
        limitC: cfg.temperature?.fireAboveC ?? 57,
        riseCPerMin: cfg.temperature?.riseCPerMin ?? 8.3,
        confirm: 2,
        clearNs: 10 * 60 * NS_PER_S,
      },
    });
    ctx.windows(windowS).add(this.agg);
    ctx.checkpoint?.("bin", this.agg);
    // after the aggregator has rotated: readings before the boundary make the closing window's last sample
    ctx.windows(windowS).add({
      rotate: (_closing, opening) => this.distance.cut?.(opening.startNs, (mm, tNs) => !Number.isNaN(mm) && this.agg.distance(mm, tNs)),
      finalize: () => {},
    });
    if (cfg.tilt) this.tilt = this.held(cfg.tilt.input, cfg.tilt.debounce, (level, tNs) => this.tiltChange(level, tNs));
    if (cfg.lid) this.lid = this.held(cfg.lid.input, cfg.lid.debounce, (level, tNs) => this.lidChange(level, tNs));
    ctx.health.register(`sensor.${name}`, () => ({
      ...this.distance.monitor.health(),
      fillPct: Number.isNaN(this.agg.fillPct) ? null : Math.round(this.agg.fillPct * 10) / 10,
      pickupsTotal: this.agg.pickups.count,
    }));
    if (this.temp) ctx.health.register(`sensor.${name}.temperature`, () => this.temp!.monitor.health());
  }

  private held(input: string, debounceS: number, onChange: (l: Level, t: number) => void): HeldSwitch {
    const sw = new DebouncedSwitch(this.ctx.clock, debounceS * NS_PER_S, onChange);
    const claim = this.ctx.claimInput(input, (level: Level, tNs: number) => sw.edge(level, tNs));
    return { sw, claim, timer: undefined, alarmed: false };
  }

  /** The sensor sees the waste: lid closed (and settled) and the bin upright. */
  private looking(): boolean {
    // a switch that is still bouncing counts as moved: the first frames of a tip are not the waste
    if (this.lid && (this.lid.sw.level === 1 || this.lid.sw.unsettled)) return false;
    if (this.tilt && (this.tilt.sw.level === 1 || this.tilt.sw.unsettled)) return false;
    return this.ctx.clock.monoNs() - this.lidClosedNs >= SETTLE_NS;
  }

  async start(): Promise<void> {
    const now = this.ctx.clock.monoNs();
    for (const [h, change] of [
      [this.tilt, (l: Level, t: number) => this.tiltChange(l, t)],
      [this.lid, (l: Level, t: number) => this.lidChange(l, t)],
    ] as const) {
      if (!h) continue;
      const l = h.claim.level();
      h.sw.init(l);
      if (l === 1) change(1, now);
    }
    await this.distance.start();
    this.every(this.cfg.measureEvery * NS_PER_S, () => this.measure());
    if (this.temp && this.cfg.temperature) {
      try {
        await this.temp.start();
        this.every(this.cfg.temperature.every * NS_PER_S, () =>
          this.temp!.take((c, tNs) => !Number.isNaN(c) && this.agg.temperature(c, tNs)),
        );
      } catch (err) {
        this.ctx.logger.error(`${(err as Error).message}; fire detection is off for bin ${this.name}`, { sensor: this.name });
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) this.ctx.clock.clearTimer(t);
    this.timers.clear();
    // a held tilt or an open lid must not raise its alarm after the device stopped (the outbox is closed then)
    for (const h of [this.tilt, this.lid]) {
      if (h?.timer) this.ctx.clock.clearTimer(h.timer);
      if (h) h.timer = undefined;
    }
    this.tilt?.sw.stop();
    this.lid?.sw.stop();
    await this.distance.stop();
    await this.temp?.stop();
  }

  private every(periodNs: number, fn: () => void): void {
    const clock = this.ctx.clock;
    const t = clock.setTimer(clock.monoNs() + periodNs, () => {
      this.timers.delete(t);
      if (this.stopped) return;
      fn();
      this.every(periodNs, fn);
    });
    this.timers.add(t);
  }

  private measure(): void {
    this.distance.take((mm, tNs) => {
      if (Number.isNaN(mm)) return;
      this.agg.distance(mm, tNs);
      if (this.agg.pickups.pending) this.after(RECHECK_NS, () => this.measure());
    });
  }

  private after(delayNs: number, fn: () => void): void {
    const clock = this.ctx.clock;
    const t = clock.setTimer(clock.monoNs() + delayNs, () => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    });
    this.timers.add(t);
  }

  /** Tilt: alarm when the bin stays tipped for `confirm` (a pickup tips it for less). */
  private tiltChange(level: Level, tNs: number): void {
    const h = this.tilt!;
    const clock = this.ctx.clock;
    if (this.stopped) return;
    if (level === 1) {
      h.timer = clock.setTimer(tNs + this.cfg.tilt!.confirm * NS_PER_S, () => {
        h.timer = undefined;
        h.alarmed = true;
        this.agg.setOutOfPosition(true, tNs);
        this.ctx.alarm({
          source: this.name,
          kind: "tilt",
          state: "start",
          tNs,
          message: `bin ${this.name} is not upright (knocked over?)`,
        });
      });
      return;
    }
    if (h.timer) clock.clearTimer(h.timer);
    h.timer = undefined;
    if (!h.alarmed) return;
    h.alarmed = false;
    this.agg.setOutOfPosition(false, tNs);
    this.ctx.alarm({ source: this.name, kind: "tilt", state: "end", tNs });
  }

  /** Lid: count openings (deposits); alarm when left open for `alarmAfter`. */
  private lidChange(level: Level, tNs: number): void {
    const h = this.lid!;
    const clock = this.ctx.clock;
    if (this.stopped) return;
    if (level === 1) {
      this.agg.lidOpened(tNs);
      h.timer = clock.setTimer(tNs + this.cfg.lid!.alarmAfter * NS_PER_S, () => {
        h.timer = undefined;
        h.alarmed = true;
        this.agg.setCoverOpen(true, tNs);
        this.ctx.alarm({ source: this.name, kind: "cover-open", state: "start", tNs, message: `bin ${this.name}: lid left open` });
      });
      return;
    }
    this.lidClosedNs = tNs;
    if (h.timer) clock.clearTimer(h.timer);
    h.timer = undefined;
    if (!h.alarmed) return;
    h.alarmed = false;
    this.agg.setCoverOpen(false, tNs);
    this.ctx.alarm({ source: this.name, kind: "cover-open", state: "end", tNs });
  }

  manifest(): ManifestStream[] {
    const { topics } = this.ctx;
    const c = this.cfg;
    return [
      {
        topic: topics.stream("bin", this.name),
        kind: "bin",
        name: this.name,
        windowS: this.windowS,
        description: `Fill level of bin ${this.name} (${c.emptyDistanceMm} mm deep to the full line at ${c.fullDistanceMm} mm), pickups${c.temperature ? ", temperature" : ""}; names after LwM2M object 3435.${c.report.onlyOnChange ? ` Windows without a change are skipped, with a heartbeat every ${c.report.heartbeat} s.` : ""}`,
        measures: [
          { n: "actualFillingPercentage", u: "%", description: "fill at the last reading" },
          { n: "actualFillingLevel", u: "m", description: "height of the content" },
          { n: "containerFull", description: `fill ≥ ${c.highThreshold} %` },
          { n: "containerEmpty", description: `fill < ${c.lowThreshold} %` },
          { n: "averageFillingSpeed", description: "percentage points per day since the last pickup" },
          { n: "forecastFullDate", description: "when the fill reaches the high threshold, s since the Unix epoch" },
          { n: "pickups", u: "count", description: "pickups (emptyings) in the window" },
          { n: "fillingOperations", u: "count", description: "lid openings in the window" },
          { n: "temperature", u: "Cel", description: "temperature at the last reading" },
          { n: "temperatureAlarm", description: "fire detected" },
          { n: "containerOutOfPosition", description: "tilted or knocked over" },
          { n: "coverOpen", description: "lid left open" },
        ],
      },
      {
        topic: topics.alarm(this.name),
        kind: "alarm",
        name: this.name,
        description: "Events of this bin: fire, pickup, fill-change, container-full, tilt, cover-open, sensor-fault.",
        measures: [
          { n: "temperature", u: "Cel", description: "temperature at a fire event" },
          { n: "temperatureRise", u: "K", description: "temperature rise over the last minute" },
          { n: "actualFillingPercentage", u: "%", description: "fill at the event" },
        ],
      },
    ];
  }
}

/** Bin sensors: one `Bin` per configured entry. */
export const binFeature: FeatureFactory = (ctx) => {
  const { config } = ctx.loaded;
  const entries = Object.entries(config.bins);
  if (entries.length === 0) return undefined;
  const units = entries.map(([name, cfg]) => new Bin(ctx, name, cfg, cfg.window ?? config.windows.default));
  const feature: Feature = {
    name: "bins",
    manifest: () => units.flatMap((u) => u.manifest()),
    async start() {
      for (const u of units) await u.start();
    },
    async stop() {
      for (const u of units) await u.stop();
    },
  };
  return feature;
};
