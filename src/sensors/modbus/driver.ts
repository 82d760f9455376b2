import type { TimerHandle } from "../../clock/clock.js";
import { NS_PER_S } from "../../clock/clock.js";
import type { ModbusModel } from "../models/index.js";
import { Reading } from "../models/index.js";
import type { RangeDriver, RangeDriverContext, SensorHealth } from "../range-driver.js";
import type { ModbusBus, ModbusCounters, ModbusResult } from "./bus.js";
import { EXCEPTION_NAMES } from "./bus.js";

export interface ModbusDriverOptions {
  /** The bus the sensor hangs on (shared by every sensor on that port). */
  bus: ModbusBus;
  unitId: number;
  /** Seconds between polls. */
  pollEveryS: number;
  /** How long to wait for an answer, ms. */
  timeoutMs: number;
}

/**
 * A Modbus RTU level sensor: polls its definition's registers at a fixed interval and decodes them
 * with the definition's `decode`. Timeouts, CRC errors and exceptions are counted by the bus per
 * unit id; the monitor hears of them through `garbled()` (answers that are not readings) and the
 * absence of good readings (no answer).
 */
export class ModbusDriver implements RangeDriver {
  private timer: TimerHandle | undefined;
  private running = false;
  private blindStreak = 0;
  /** Polls in a row answered with a CRC error, an exception or nonsense. */
  private badStreak = 0;
  private decodeErrors = 0;
  private lastError: string | null = null;
  private lastMm: number | null = null;
  private readonly counters: ModbusCounters;

  constructor(
    readonly model: ModbusModel,
    private readonly ctx: RangeDriverContext,
    private readonly opts: ModbusDriverOptions,
  ) {
    opts.bus.retain((down, err) => ctx.port(down, err));
    this.counters = opts.bus.countersOf(opts.unitId);
  }

  async open(): Promise<void> {
    await this.opts.bus.open();
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  async close(): Promise<void> {
    this.running = false;
    if (this.timer) this.ctx.clock.clearTimer(this.timer);
    this.timer = undefined;
    await this.opts.bus.release();
  }

  private schedule(): void {
    const clock = this.ctx.clock;
    this.timer = clock.setTimer(clock.monoNs() + this.opts.pollEveryS * NS_PER_S, () => {
      this.timer = undefined;
      if (!this.running) return;
      this.poll();
      this.schedule();
    });
  }

  /** One poll now (also what doctor and tests call). */
  poll(): void {
    const { fc, address, count } = this.model.modbus.poll;
    this.opts.bus.read(this.opts.unitId, fc, address, count, this.opts.timeoutMs, (r, tNs) => this.answered(r, tNs));
  }

  private answered(r: ModbusResult, tNs: number): void {
    if (!r.ok) {
      if (r.failure === "crc" || r.failure === "exception" || r.failure === "invalid") this.badStreak++;
      const what = r.failure === "exception" && r.code !== undefined ? `${r.message} (${EXCEPTION_NAMES[r.code] ?? "unknown"})` : r.message;
      if (what !== this.lastError) this.ctx.logger.debug(() => `sensor ${this.ctx.name}: ${what}`);
      this.lastError = what;
      return;
    }
    this.badStreak = 0;
    let reading: { kind: Reading; mm: number };
    try {
      reading = this.model.modbus.decode(r.registers);
    } catch (err) {
      this.decodeErrors++;
      this.badStreak++;
      const msg = `sensor ${this.ctx.name}: ${(err as Error).message}`;
      if (msg !== this.lastError) this.ctx.logger.warn(msg, { sensor: this.ctx.name });
      this.lastError = msg;
      return;
    }
    this.lastError = null;
    if (reading.kind === Reading.Range && reading.mm < this.model.minRangeMm) reading = { kind: Reading.MinRange, mm: Number.NaN };
    if (reading.kind === Reading.Range) {
      this.blindStreak = 0;
      this.lastMm = Math.round(reading.mm);
    } else this.blindStreak++;
    this.ctx.reading(reading.kind, reading.mm, tNs);
  }

  garbled(): boolean {
    return this.badStreak >= 3;
  }

  blind(): boolean {
    return this.blindStreak >= 3;
  }

  health(): SensorHealth {
    const c = this.counters;
    return {
      model: this.model.id,
      unitId: this.opts.unitId,
      requests: c.requests,
      responses: c.responses,
      timeouts: c.timeouts,
      crcErrors: c.crcErrors,
      exceptions: c.exceptions,
      lastException: c.lastException,
      invalidAnswers: c.invalid + this.decodeErrors,
      /** Polls not sent: the port was missing or gone. */
      notSent: c.portDown,
      lastDistanceMm: this.lastMm,
      lastError: this.lastError,
    };
  }
}
