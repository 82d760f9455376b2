import type { Alarm } from "./alarm.js";
import type { Clock, TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import type { Logger } from "../log/logger.js";

/** Why a sensor gives no data: each names what a technician checks first. */
export type SensorFault = "unplugged" | "garbled" | "silent" | "no-target" | "out-of-range" | "no-device";

/** A health section (the shape of `HealthRegistry`'s, kept here so this stage does not reach up to control/). */
export type HealthSection = Record<string, number | string | boolean | null>;

/** Generic advice; a sensor's definition may say it in its own terms (`SensorMonitorOptions.advice`). */
const ADVICE: Record<SensorFault, string> = {
  unplugged: "the serial port went away; check the cable, the connector and the USB adapter",
  garbled: "bytes arrive but no frame parses; check baudRate and the signal polarity (RS-232 vs TTL, RS-485 A/B)",
  silent: "no bytes at all; check the sensor's power and its TX wire",
  "no-target":
    "the sensor reports no target or a target inside its minimum range; check the mounting, the beam path and for an obstruction or a flooded sensor",
  "out-of-range":
    "the analog signal is outside the sensor's valid range (a 4–20 mA loop below 3.6 or above 21 mA per NAMUR NE 43, a TMP36 near 0 V): wire break, short or sensor fault; check the wiring and the supply",
  "no-device": "the ADC does not answer on I²C; check its address, wiring and power",
};

/** What the monitor needs to know about the sensor's data path. */
export interface SensorCounters {
  /** Bytes arrive but make no readings (wrong baud rate, noise, CRC errors); false for non-serial sensors. */
  garbled(): boolean;
  /** True when the last frames were no-target / min-range (the sensor answers but sees no level). */
  blind(): boolean;
  /** The sensor's own counters for health. */
  health(): HealthSection;
}

export interface SensorMonitorOptions {
  /** Sensor name (the alarm source). */
  name: string;
  /** Which of the sensor's parts this watches, when it has several (e.g. `distance`, `temperature`). */
  part?: string;
  clock: Clock;
  logger: Logger;
  alarm: (a: Alarm) => void;
  /** Raise a fault after this long without a usable reading, s. */
  staleAfterS: number;
  counters: SensorCounters;
  /** What to check per fault, in the sensor model's terms; the generic advice where absent. */
  advice?: Partial<Record<SensorFault, string>>;
}

/**
 * Watches one sensor for stale data: when no usable reading has arrived for `staleAfterS`, it raises
 * a `sensor-fault` alarm naming the likely cause (unplugged, garbled bytes from a wrong baud rate,
 * silence, blind sensor), and ends it when readings flow again. Its health section tells the
 * current state and the counters at any time.
 */
export class SensorMonitor {
  private lastGoodNs: number;
  private portDown = false;
  private adcError = false;
  private loopFault = false;
  private fault: SensorFault | undefined;
  private faultSinceNs = 0;
  private timer: TimerHandle | undefined;
  faults = 0;

  constructor(private readonly opts: SensorMonitorOptions) {
    this.lastGoodNs = opts.clock.monoNs();
  }

  start(): void {
    this.lastGoodNs = this.opts.clock.monoNs();
    this.arm();
  }

  stop(): void {
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** A usable reading arrived. */
  good(tNs: number): void {
    if (tNs > this.lastGoodNs) this.lastGoodNs = tNs;
    this.adcError = false;
    this.loopFault = false;
    if (this.fault) this.clear(tNs);
  }

  /** The serial port closed unexpectedly (true) or is open again (false). */
  port(down: boolean): void {
    this.portDown = down;
  }

  /** The ADC did not answer (true) or answered (false). */
  adc(failed: boolean): void {
    this.adcError = failed;
  }

  /** The loop current is outside the valid range. */
  loopOutOfRange(): void {
    this.loopFault = true;
  }

  /** Current state for health: `ok` or the fault. */
  get state(): SensorFault | "ok" {
    return this.fault ?? "ok";
  }

  health(): HealthSection {
    const now = this.opts.clock.monoNs();
    return {
      state: this.state,
      lastReadingAgeS: Math.round((now - this.lastGoodNs) / NS_PER_S),
      faults: this.faults,
      ...this.opts.counters.health(),
    };
  }

  /** Check for staleness now (also runs on its own timer). */
  check(nowNs: number): void {
    const staleNs = this.opts.staleAfterS * NS_PER_S;
    if (nowNs - this.lastGoodNs < staleNs) return;
    const cause = this.cause();
    if (this.fault === cause) return;
    if (this.fault) this.clear(nowNs);
    this.fault = cause;
    this.faultSinceNs = nowNs;
    this.faults++;
    const o = this.opts;
    const msg = `sensor ${o.name}${o.part ? ` (${o.part})` : ""}: no usable reading for ${Math.round((nowNs - this.lastGoodNs) / NS_PER_S)} s: ${o.advice?.[cause] ?? ADVICE[cause]}`;
    o.logger.warn(msg, { sensor: o.name, fault: cause });
    o.alarm({
      source: o.name,
      kind: "sensor-fault",
      state: "start",
      tNs: nowNs,
      message: msg,
      measures: [{ n: "cause", vs: cause }, ...this.partMeasure()],
    });
  }

  private clear(tNs: number): void {
    const o = this.opts;
    const cause = this.fault!;
    this.fault = undefined;
    o.logger.info(`sensor ${o.name}: readings are back after ${Math.round((tNs - this.faultSinceNs) / NS_PER_S)} s (${cause})`, {
      sensor: o.name,
    });
    o.alarm({
      source: o.name,
      kind: "sensor-fault",
      state: "end",
      tNs,
      measures: [
        { n: "cause", vs: cause },
        { n: "duration", u: "s", v: Math.round((tNs - this.faultSinceNs) / 1e6) / 1000 },
        ...this.partMeasure(),
      ],
    });
  }

  private partMeasure(): { n: string; vs: string }[] {
    return this.opts.part ? [{ n: "part", vs: this.opts.part }] : [];
  }

  private cause(): SensorFault {
    if (this.portDown) return "unplugged";
    if (this.adcError) return "no-device";
    if (this.loopFault) return "out-of-range";
    const c = this.opts.counters;
    if (c.blind()) return "no-target";
    if (c.garbled()) return "garbled";
    return "silent";
  }

  private arm(): void {
    const clock = this.opts.clock;
    // check a few times per stale period so the fault is raised at most ~25 % late
    const everyNs = Math.max(1, this.opts.staleAfterS / 4) * NS_PER_S;
    this.timer = clock.setTimer(clock.monoNs() + everyNs, () => {
      this.check(clock.monoNs());
      this.arm();
    });
  }
}
