import type { HealthSection } from "../control/health.js";
import { SensorMonitor } from "../aggregate/sensor-monitor.js";
import { NS_PER_S } from "../clock/clock.js";
import { resolveSerialPath } from "../config/boards.js";
import type { AdcConfig, MaxbotixConfig } from "../config/sections/level-sensors.js";
import type { SerialPortLink, SerialSpec } from "../io/contract.js";
import { i2ctransfer, LinuxI2cIo } from "../io/linux-i2c.js";
import { Ads1115 } from "../sensors/ads1115.js";
import { MAXBOTIX_MODELS, MaxbotixParser, Reading } from "../sensors/maxbotix.js";
import { MedianSampler } from "../sensors/median-sampler.js";
import type { FeatureContext } from "./feature.js";

/** Delivers one sample: a value (mm, or volts for a raw ADC source) and its time; NaN when there is none. */
export type SampleDone = (value: number, tNs: number) => void;

/** A sensor the features sample at a rate of their choosing. */
export interface SampleSource {
  readonly monitor: SensorMonitor;
  start(): Promise<void>;
  stop(): Promise<void>;
  take(done: SampleDone): void;
  /**
   * Sources that sample readings collected over time: a sample of only the readings stamped before
   * `beforeNs` (a window boundary), so a sample never straddles windows. Calls `done` only when
   * there was one.
   */
  cut?(beforeNs: number, done: SampleDone): void;
}

/**
 * A MaxBotix rangefinder on a serial port, free-running (pin 4 open): every frame is parsed as it
 * arrives; a sample is the median of the ranges since the previous one. Readings arrive only while
 * `accept()` says so (a bin's lid open or the bin tipped: the sensor is not looking at the waste).
 *
 * Why free-running and not triggered: the sensors take no commands over serial, and triggering
 * needs a fourth conductor to pin 4 through the manhole's cable gland. Parsing ~6 frames a second
 * costs microseconds; the sampling interval decides what becomes a sample.
 */
export class SerialRangeSource implements SampleSource {
  readonly monitor: SensorMonitor;
  readonly parser: MaxbotixParser;
  private readonly sampler = new MedianSampler(512);
  private link: SerialPortLink | undefined;
  private retry: ReturnType<FeatureContext["clock"]["setTimer"]> | undefined;
  private stopped = false;
  private openFailures = 0;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly name: string,
    private readonly cfg: MaxbotixConfig,
    staleAfterS: number,
    private readonly accept: () => boolean = () => true,
    part?: string,
    /** A sample needs at least this many readings in its interval; fewer are dropped. */
    private readonly minReadings = 1,
  ) {
    const model = MAXBOTIX_MODELS[cfg.model];
    this.parser = new MaxbotixParser(model, (kind, mm, tNs) => {
      if (kind !== Reading.Range) return;
      this.monitor.good(tNs);
      if (this.accept()) this.sampler.add(mm, tNs);
    });
    const p = this.parser;
    this.monitor = new SensorMonitor({
      name,
      ...(part ? { part } : {}),
      clock: ctx.clock,
      logger: ctx.logger,
      alarm: ctx.alarm,
      staleAfterS,
      counters: {
        bytesSinceFrame: () => p.bytesSinceFrame,
        blind: () => p.blindStreak >= 3,
        health: (): HealthSection => ({
          model: cfg.model,
          bytes: p.bytes,
          frames: p.frames,
          ranges: p.ranges,
          noTarget: p.noTarget,
          minRange: p.minRange,
          garbageBytes: p.garbageBytes,
          partialFrames: p.partialFrames,
          openFailures: this.openFailures,
        }),
      },
    });
  }

  private spec(): SerialSpec {
    const { loaded } = this.ctx;
    const port = this.cfg.port;
    return {
      name: this.name,
      path: resolveSerialPath(loaded.board, port.path) ?? port.path,
      baudRate: port.baudRate,
      dataBits: port.dataBits,
      parity: port.parity,
      stopBits: port.stopBits,
    };
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.monitor.start();
    await this.open();
  }

  /** First open; a missing port is retried with backoff, and the monitor raises the fault meanwhile. */
  private async open(): Promise<void> {
    try {
      this.link = await this.ctx.openSerial(this.spec(), {
        data: (chunk, tNs) => this.parser.push(chunk, tNs),
        state: (s) => {
          this.monitor.port(s !== "open");
          this.parser.reset();
        },
      });
      this.monitor.port(false);
    } catch (err) {
      this.openFailures++;
      this.monitor.port(true);
      if (this.openFailures === 1) this.ctx.logger.error(`sensor ${this.name}: ${(err as Error).message}; retrying`, { sensor: this.name });
      if (this.stopped) return;
      const waitS = Math.min(60, 2 ** Math.min(this.openFailures, 6));
      this.retry = this.ctx.clock.setTimer(this.ctx.clock.monoNs() + waitS * NS_PER_S, () => {
        this.retry = undefined;
        void this.open();
      });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) this.ctx.clock.clearTimer(this.retry);
    this.monitor.stop();
    // the device closes every link it opened; nothing else to release
  }

  take(done: SampleDone): void {
    const enough = this.sampler.pending >= this.minReadings;
    const v = this.sampler.take();
    if (!enough || Number.isNaN(v)) return done(Number.NaN, this.ctx.clock.monoNs());
    done(v, this.sampler.sampleNs);
  }

  cut(beforeNs: number, done: SampleDone): void {
    const n = this.sampler.pendingBefore(beforeNs);
    if (n === 0) return;
    const v = this.sampler.take(beforeNs);
    // too few readings for a sample: they are dropped, not carried into the next window's sample
    if (n < this.minReadings || Number.isNaN(v)) return;
    done(v, this.sampler.sampleNs);
  }
}

/**
 * One input of an ADS1115 through the board's IO plugin: each `take` is one single-shot conversion
 * (so here the sampling rate really is the sensor's rate). `convert` turns volts into the value
 * (NaN for an out-of-range signal, which the monitor reports).
 */
export class AdcSource implements SampleSource {
  readonly monitor: SensorMonitor;
  private readonly adc: Ads1115 | undefined;
  private lastVolts = Number.NaN;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly name: string,
    private readonly cfg: AdcConfig,
    private readonly convert: (volts: number) => number,
    staleAfterS: number,
    part?: string,
    /** What the channel measures, for trace lines (`bin1.temperature`, `mh1.level`). */
    private readonly quantity: string = part ?? "level",
  ) {
    // a johnny-five board (Firmata, the simulator) has the bus in its IO plugin; a Linux board
    // (Raspberry Pi, GPIO through the character device) has the kernel's /dev/i2c-N
    const bus = ctx.loaded.board.i2c[0];
    const port = ctx.ioPlugin ?? (bus ? new LinuxI2cIo(i2ctransfer(bus.bus)) : undefined);
    this.adc = port ? new Ads1115(port, ctx.clock, cfg.address) : undefined;
    const adc = this.adc;
    this.monitor = new SensorMonitor({
      name,
      ...(part ? { part } : {}),
      clock: ctx.clock,
      logger: ctx.logger,
      alarm: ctx.alarm,
      staleAfterS,
      counters: {
        bytesSinceFrame: () => 0,
        blind: () => false,
        health: (): HealthSection => ({
          adc: `0x${cfg.address.toString(16)}/AIN${cfg.channel}`,
          conversions: adc?.conversions ?? 0,
          adcErrors: adc?.errors ?? 0,
          volts: Number.isNaN(this.lastVolts) ? null : Math.round(this.lastVolts * 1e4) / 1e4,
        }),
      },
    });
  }

  async start(): Promise<void> {
    if (!this.adc)
      throw new Error(
        `sensor ${this.name}: board ${this.ctx.loaded.board.id} has neither an I²C bus nor a johnny-five IO plugin, so the ADS1115 at 0x${this.cfg.address.toString(16)} cannot be read; use a Raspberry Pi (I²C on /dev/i2c-1), a Firmata board or the simulator`,
      );
    this.monitor.start();
  }

  async stop(): Promise<void> {
    this.monitor.stop();
  }

  take(done: SampleDone): void {
    const started = this.adc?.read(this.cfg.channel, this.cfg.rangeV, (volts, ok, tNs) => {
      this.monitor.adc(!ok);
      if (!ok) return done(Number.NaN, tNs);
      this.lastVolts = volts;
      this.ctx.onAnalog?.(`${this.name}.${this.quantity}`, volts, tNs);
      const v = this.convert(volts);
      if (Number.isNaN(v)) this.monitor.loopOutOfRange();
      else this.monitor.good(tNs);
      done(v, tNs);
    });
    if (started === false) done(Number.NaN, this.ctx.clock.monoNs());
  }
}
