import type { HealthSection } from "../aggregate/sensor-monitor.js";
import { SensorMonitor } from "../aggregate/sensor-monitor.js";
import { resolveSerialPath } from "../config/board-data.js";
import type { AdcConfig, RangeSensorConfig } from "../config/sections/level-sensors.js";
import type { SerialSpec } from "../io/contract.js";
import { i2ctransfer, LinuxI2cIo } from "../io/linux-i2c.js";
import { Ads1115 } from "../sensors/ads1115.js";
import { FrameDriver } from "../sensors/maxbotix-driver.js";
import { MedianSampler } from "../sensors/median-sampler.js";
import { ModbusBus } from "../sensors/modbus/bus.js";
import { ModbusDriver } from "../sensors/modbus/driver.js";
import { frameModel, modbusModel, Reading } from "../sensors/models/index.js";
import type { RangeDriver, RangeDriverContext } from "../sensors/range-driver.js";
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

/** Modbus buses by device context and port path: sensors on one RS-485 line share its link. */
const buses = new WeakMap<FeatureContext, Map<string, ModbusBus>>();

function busFor(ctx: FeatureContext, spec: SerialSpec): ModbusBus {
  let m = buses.get(ctx);
  if (!m) {
    m = new Map();
    buses.set(ctx, m);
  }
  let b = m.get(spec.path);
  if (!b) {
    // the bus is named after its port path: several sensors share it
    b = new ModbusBus({
      spec: { ...spec, name: spec.path },
      clock: ctx.clock,
      logger: ctx.logger,
      openSerial: (sp, h, o) => ctx.openSerial(sp, h, o),
    });
    m.set(spec.path, b);
  }
  return b;
}

/** The driver of a configured distance sensor, chosen by its model's interface (never by model). */
function driverFor(ctx: FeatureContext, cfg: RangeSensorConfig, dc: RangeDriverContext): RangeDriver {
  if (cfg.type === "maxbotix") return new FrameDriver(frameModel(cfg.model), dc);
  return new ModbusDriver(modbusModel(cfg.model), dc, {
    bus: busFor(ctx, dc.spec),
    unitId: cfg.unitId,
    pollEveryS: cfg.pollEvery,
    timeoutMs: cfg.timeoutMs,
  });
}

/**
 * A distance sensor (a rangefinder in a manhole or under a bin lid) on a serial port, whatever its
 * interface: its driver turns what arrives into readings, and a sample is the median of the
 * readings since the previous one. Readings count only while `accept()` says so (a bin's lid open
 * or the bin tipped: the sensor is not looking at the waste).
 */
export class RangeSource implements SampleSource {
  readonly monitor: SensorMonitor;
  readonly driver: RangeDriver;
  private readonly sampler = new MedianSampler(512);
  /** Times the port was reported missing before it ever opened (for health). */
  private openFailures = 0;
  private everOpen = false;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly name: string,
    private readonly cfg: RangeSensorConfig,
    staleAfterS: number,
    private readonly accept: () => boolean = () => true,
    part?: string,
    /** A sample needs at least this many readings in its interval; fewer are dropped. */
    private readonly minReadings = 1,
  ) {
    this.driver = driverFor(ctx, cfg, {
      name,
      clock: ctx.clock,
      logger: ctx.logger,
      spec: this.spec(),
      openSerial: (spec, handlers, opts) => ctx.openSerial(spec, handlers, opts),
      reading: (kind, mm, tNs) => {
        if (kind !== Reading.Range) return;
        this.monitor.good(tNs);
        if (this.accept()) this.sampler.add(mm, tNs);
      },
      port: (down, err) => this.port(down, err?.message),
    });
    const d = this.driver;
    const hints = d.model.hints;
    const modbus = d.model.interface === "modbus-rtu";
    this.monitor = new SensorMonitor({
      name,
      ...(part ? { part } : {}),
      clock: ctx.clock,
      logger: ctx.logger,
      alarm: ctx.alarm,
      staleAfterS,
      advice: {
        garbled: `${modbus ? "answers arrive but none is a reading (CRC errors, exceptions, wrong registers)" : "bytes arrive but no frame parses"}; ${hints.garbled}`,
        "no-target": `the sensor reports no target or a target inside its minimum range; ${hints.noTarget}`,
        ...(modbus ? { silent: `no answer to Modbus requests; check the sensor's power, then ${hints.garbled}` } : {}),
      },
      counters: {
        garbled: () => d.garbled(),
        blind: () => d.blind(),
        health: (): HealthSection => ({ ...d.health(), openFailures: this.openFailures }),
      },
    });
  }

  private spec(): SerialSpec {
    const port = this.cfg.port;
    return {
      name: this.name,
      path: resolveSerialPath(this.ctx.loaded.board, port.path) ?? port.path,
      baudRate: port.baudRate,
      dataBits: port.dataBits,
      parity: port.parity,
      stopBits: port.stopBits,
    };
  }

  /**
   * Opens the port. A port missing at start is retried by the link with the shared jittered backoff
   * (the port's one retry layer, as after an unplug); the monitor raises the fault meanwhile.
   */
  async start(): Promise<void> {
    this.monitor.start();
    await this.driver.open();
    // opened at once unless the link reported the port missing meanwhile
    if (this.openFailures === 0) this.everOpen = true;
  }

  private port(down: boolean, error: string | undefined): void {
    this.monitor.port(down);
    if (!down) {
      this.everOpen = true;
      return;
    }
    if (this.everOpen) return;
    this.openFailures++;
    if (this.openFailures === 1)
      this.ctx.logger.error(`sensor ${this.name}: ${error ?? "cannot open its port"}; retrying`, { sensor: this.name });
  }

  async stop(): Promise<void> {
    this.monitor.stop();
    await this.driver.close();
  }

  take(done: SampleDone): void {
    const enough = this.sampler.pending >= this.minReadings;
    const v = this.sampler.take();
    if (!enough || Number.isNaN(v)) done(Number.NaN, this.ctx.clock.monoNs());
    else done(v, this.sampler.sampleNs);
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
        garbled: () => false,
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
