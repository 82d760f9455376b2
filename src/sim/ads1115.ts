import type { Clock } from "../clock/clock.js";
import { ADS1115_FSR, ADS1115_REG, ADS1115_SPS } from "../sensors/ads1115.js";
import type { SimI2cDevice } from "./io-plugin.js";

/** Power-on value of the config register (SBAS444 Table 9): single-shot, ±2.048 V, 128 SPS, AIN0–AIN1. */
const CONFIG_RESET = 0x8583;

/**
 * Register-level model of a TI ADS1115 on the simulated I²C bus (datasheet SBAS444 §8.6): a pointer
 * register, a config register whose OS bit starts a single-shot conversion and reads 0 until it is
 * done (1/DR later, on the device clock), and a conversion register with the two's-complement result
 * of the selected input at the selected gain, clipped at full scale. Inputs are functions of time
 * set by the scenario (a shunt voltage, a TMP36).
 */
export class SimAds1115 implements SimI2cDevice {
  private pointer = 0;
  private config = CONFIG_RESET;
  private conversion = 0;
  private readyAtNs = 0;
  private readonly inputs: ((nowNs: number) => number)[] = [() => 0, () => 0, () => 0, () => 0];
  /** Conversions started (for tests). */
  conversions = 0;

  constructor(
    private readonly clock: Clock,
    /** Called on every read: lets virtual time pause so the IO plugin's callback runs at this instant. */
    private readonly onAccess: () => void = () => {},
  ) {}

  /** Drive input AINx (volts as a function of monotonic time). */
  setInput(channel: number, volts: (nowNs: number) => number): void {
    this.inputs[channel & 3] = volts;
  }

  write(bytes: readonly number[]): void {
    if (bytes.length === 0) return;
    this.pointer = bytes[0]! & 3;
    if (bytes.length >= 3 && this.pointer === ADS1115_REG.config) {
      const value = ((bytes[1]! & 0xff) << 8) | (bytes[2]! & 0xff);
      this.config = value & 0x7fff;
      const singleShot = (value & 0x0100) !== 0;
      if ((value & 0x8000) !== 0 || !singleShot) this.convert();
    }
  }

  read(register: number, count: number): number[] {
    this.onAccess();
    if (register >= 0) this.pointer = register & 3;
    let word: number;
    if (this.pointer === ADS1115_REG.conversion) word = this.conversion & 0xffff;
    else if (this.pointer === ADS1115_REG.config) word = this.config | (this.clock.monoNs() >= this.readyAtNs ? 0x8000 : 0);
    else word = this.pointer === 2 ? 0x8000 : 0x7fff; // Lo_thresh / Hi_thresh reset values
    const out = [(word >> 8) & 0xff, word & 0xff];
    while (out.length < count) out.push(0);
    return out.slice(0, count);
  }

  private convert(): void {
    const mux = (this.config >> 12) & 7;
    const pga = (this.config >> 9) & 7;
    const dr = (this.config >> 5) & 7;
    const now = this.clock.monoNs();
    // MUX 100–111: AINx against GND; 000–011: the differential pairs of SBAS444 Table 8
    const v = (ch: number): number => this.inputs[ch]!(now);
    const diff = [v(0) - v(1), v(0) - v(3), v(1) - v(3), v(2) - v(3)];
    const volts = mux >= 4 ? v(mux - 4) : diff[mux]!;
    const fsr = ADS1115_FSR[pga]!;
    const code = Math.round((volts / fsr) * 32768);
    this.conversion = Math.max(-32768, Math.min(32767, code));
    this.readyAtNs = now + 1e9 / ADS1115_SPS[dr]!;
    this.conversions++;
  }
}
