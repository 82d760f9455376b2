import type { Clock } from "../clock/clock.js";
import { NS_PER_MS } from "../clock/clock.js";
import type { I2cPort } from "../io/linux-i2c.js";

/**
 * TI ADS1115 16-bit I²C ADC (datasheet SBAS444, §8.6 "Register Map"), read through an `I2cPort`:
 * the board's johnny-five IO plugin (`i2cConfig` / `i2cWrite` / `i2cReadOnce`, the io-plugins
 * contract), or the kernel's /dev/i2c-N on a Raspberry Pi (`LinuxI2cIo`).
 *
 * We talk to the registers ourselves rather than through johnny-five's `Expander("ADS1115")`: that
 * controller needs a johnny-five `Board` of its own on the plugin (the inputs backend already owns
 * one) and runs continuous conversions with fixed gain, while a level transducer wants single-shot
 * conversions at the rate the feature chooses, with the gain that fits its shunt voltage.
 */

/** Pointer register values (SBAS444 Table 7). */
export const ADS1115_REG = Object.freeze({ conversion: 0x00, config: 0x01 });

/** Full-scale range (V) by PGA code, config bits 11:9 (SBAS444 Table 8). */
export const ADS1115_FSR = Object.freeze([6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256] as const);

/** Samples per second by data-rate code, config bits 7:5. */
export const ADS1115_SPS = Object.freeze([8, 16, 32, 64, 128, 250, 475, 860] as const);

/** I²C addresses selectable with the ADDR pin (GND, VDD, SDA, SCL). */
export const ADS1115_ADDRESSES = Object.freeze([0x48, 0x49, 0x4a, 0x4b] as const);

/** 128 SPS (the power-on default): 7.8 ms per conversion, and its filter rejects mains hum well enough. */
const DR_CODE = 4;

/** PGA code of a full-scale range in volts; throws for a value the chip does not have. */
export function pgaCode(fsrV: number): number {
  const i = ADS1115_FSR.indexOf(fsrV as (typeof ADS1115_FSR)[number]);
  if (i < 0) throw new Error(`ADS1115 has no ±${fsrV} V range; use one of ${ADS1115_FSR.slice(0, 6).join(", ")}`);
  return i;
}

/**
 * Config word for one single-shot conversion of `channel` (AINx against GND): OS=1 (start), MUX=1xx,
 * PGA, MODE=1 (single-shot, power-down after), DR=128 SPS, comparator disabled (COMP_QUE=11).
 */
export function singleShotConfig(channel: number, pga: number): number {
  return (1 << 15) | ((0b100 | (channel & 3)) << 12) | ((pga & 7) << 9) | (1 << 8) | (DR_CODE << 5) | 0b11;
}

/** Volts from a conversion register value (two's complement, LSB = FSR / 32768). */
export function conversionVolts(msb: number, lsb: number, pga: number): number {
  let raw = ((msb & 0xff) << 8) | (lsb & 0xff);
  if (raw & 0x8000) raw -= 0x10000;
  return (raw * ADS1115_FSR[pga & 7]!) / 32768;
}

/** Result of one conversion: volts, or NaN with `ok` false when the chip did not answer. */
export type AdcDone = (volts: number, ok: boolean, tNs: number) => void;

/**
 * One ADS1115 on the bus. `read` starts a single-shot conversion, waits the conversion time on the
 * device clock, checks the OS bit (conversion done) and reads the result. One conversion at a time;
 * a read requested while one runs is refused (`false`), so a caller sampling too fast finds out.
 * A read stuck longer than 1 s (a Firmata board that stopped answering) is abandoned.
 */
export class Ads1115 {
  private busySinceNs = -1;
  /** Conversions that failed (I²C error, no answer, still busy after retries). */
  errors = 0;
  conversions = 0;
  private configured = false;

  constructor(
    private readonly io: I2cPort,
    private readonly clock: Clock,
    readonly address: number,
  ) {}

  /** Measure `channel` (0–3, single-ended) with full-scale range `fsrV`. Stamped at the conversion start. */
  read(channel: number, fsrV: number, done: AdcDone): boolean {
    const now = this.clock.monoNs();
    if (this.busySinceNs >= 0 && now - this.busySinceNs < 1000 * NS_PER_MS) return false;
    const pga = pgaCode(fsrV);
    const io = this.io;
    const fail = (): void => {
      this.errors++;
      this.busySinceNs = -1;
      done(Number.NaN, false, now);
    };
    if (!io.i2cWrite || !io.i2cReadOnce) {
      fail();
      return true;
    }
    this.busySinceNs = now;
    try {
      if (!this.configured) {
        io.i2cConfig?.({});
        this.configured = true;
      }
      const cfg = singleShotConfig(channel, pga);
      io.i2cWrite(this.address, [ADS1115_REG.config, cfg >> 8, cfg & 0xff]);
    } catch {
      fail();
      return true;
    }
    // SBAS444 §8.3.6: a conversion takes 1/DR; allow 10 % oscillator tolerance plus 1 ms
    const waitNs = 1.1e9 / ADS1115_SPS[DR_CODE] + NS_PER_MS;
    let tries = 0;
    const poll = (): void => {
      try {
        io.i2cReadOnce!(this.address, ADS1115_REG.config, 2, (cfgBytes) => {
          if (this.busySinceNs !== now) return; // abandoned
          if (((cfgBytes[0] ?? 0) & 0x80) === 0) {
            if (++tries > 3) return fail();
            this.clock.setTimer(this.clock.monoNs() + NS_PER_MS, poll);
            return;
          }
          io.i2cReadOnce!(this.address, ADS1115_REG.conversion, 2, (conv) => {
            if (this.busySinceNs !== now) return;
            this.busySinceNs = -1;
            this.conversions++;
            done(conversionVolts(conv[0] ?? 0, conv[1] ?? 0, pga), true, now);
          });
        });
      } catch {
        fail();
      }
    };
    this.clock.setTimer(now + waitNs, poll);
    return true;
  }
}

/** NAMUR NE 43: below 3.6 mA or above 21 mA the loop signals a failure, not a measurement. */
export const LOOP_FAIL_LOW_MA = 3.6;
export const LOOP_FAIL_HIGH_MA = 21;

/**
 * A 4–20 mA transducer read as the voltage across a shunt: mA from volts, then the measured span
 * (4 mA = 0, 20 mA = `spanMm`), plus the transducer's height above the reference. NaN when the
 * current is outside NAMUR NE 43's valid band.
 */
export function currentLoopMm(volts: number, shuntOhms: number, spanMm: number, offsetMm: number): number {
  const mA = (volts / shuntOhms) * 1000;
  if (!(mA >= LOOP_FAIL_LOW_MA && mA <= LOOP_FAIL_HIGH_MA)) return Number.NaN;
  const share = Math.min(1, Math.max(0, (mA - 4) / 16));
  return offsetMm + share * spanMm;
}

/**
 * Analog Devices TMP36 datasheet: 750 mV at 25 °C, 10 mV/°C, so °C = (V − 0.5) × 100, specified
 * −40…125 °C. Below 50 mV (−45 °C) the wire is open or shorted: NaN. Above its range the output
 * saturates; the value is then a lower bound, which is what fire detection needs.
 */
export function tmp36Celsius(volts: number): number {
  return volts < 0.05 ? Number.NaN : (volts - 0.5) * 100;
}
