import { EventEmitter } from "node:events";
import type { IoPlugin, IoPluginPin } from "../io/io-plugin.js";

/** Register-level model of an I²C device on the simulated bus (e.g. an ADS1115 ADC). */
export interface SimI2cDevice {
  /** Bytes written to the device: register pointer first, then data. */
  write(bytes: readonly number[]): void;
  /** Read `count` bytes starting at `register` (or the current pointer when register is -1). */
  read(register: number, count: number): number[];
}

const MODES = Object.freeze({ INPUT: 0, OUTPUT: 1, ANALOG: 2, PWM: 3, SERVO: 4, I2C: 6, PULLUP: 11 });

/**
 * The simulated board, as a johnny-five IO plugin: johnny-five, the roadside IO backends and the
 * drivers talk to it exactly as to Firmata. Scenarios drive its pins (`setPin`) from virtual-time
 * timers; callbacks run synchronously, at the virtual instant of the change, so edge stamps are exact.
 *
 * Controls a test needs and hardware lacks: `setPin`, `pinWrites`, `attachI2c`, `disconnect`.
 */
export class SimBoard extends EventEmitter implements IoPlugin {
  readonly name = "RoadsideSim";
  isReady = false;
  readonly MODES = MODES;
  readonly pins: IoPluginPin[];
  readonly analogPins: number[] = [];
  /** Every digitalWrite, in order: [pin, value]. */
  readonly pinWrites: [number, number][] = [];
  private readers: ((v: number) => void)[][];
  private i2c = new Map<number, SimI2cDevice>();
  private i2cEnabled = false;

  constructor(pinCount = 28) {
    super();
    this.pins = Array.from({ length: pinCount }, () => ({
      supportedModes: [MODES.INPUT, MODES.OUTPUT, MODES.PULLUP, MODES.I2C],
      mode: MODES.INPUT,
      value: 0,
      report: 1,
      analogChannel: 127,
    }));
    this.readers = Array.from({ length: pinCount }, () => []);
    // An IO plugin announces itself asynchronously, like a board finishing its handshake.
    setImmediate(() => {
      this.isReady = true;
      this.emit("connect");
      this.emit("ready");
    });
  }

  pinMode(pin: number, mode: number): this {
    const p = this.pin(pin);
    p.mode = mode;
    // a pull-up makes an undriven input read high, as on a real board
    if (mode === MODES.PULLUP && p.value === 0 && !this.driven.has(pin)) p.value = 1;
    return this;
  }

  /**
   * Report a pin: at once with its current level (as Firmata reports a port when reporting is
   * enabled), then on every change.
   */
  digitalRead(pin: number, handler: (value: number) => void): void {
    const p = this.pin(pin);
    this.readers[pin]!.push(handler);
    setImmediate(() => handler(p.value));
  }

  digitalWrite(pin: number, value: number): this {
    this.pin(pin).value = value ? 1 : 0;
    this.pinWrites.push([pin, value ? 1 : 0]);
    return this;
  }

  i2cConfig(): this {
    this.i2cEnabled = true;
    return this;
  }

  i2cWrite(address: number, registerOrData: number | number[], data?: number[] | number): this {
    const dev = this.device(address);
    const bytes = Array.isArray(registerOrData)
      ? registerOrData
      : [registerOrData, ...(data === undefined ? [] : Array.isArray(data) ? data : [data])];
    dev.write(bytes);
    return this;
  }

  i2cWriteReg(address: number, register: number, value: number): this {
    this.device(address).write([register, value]);
    return this;
  }

  i2cReadOnce(address: number, register: number, bytesToRead: number, handler: (data: number[]) => void): this {
    const dev = this.device(address);
    const bytes = dev.read(register, bytesToRead);
    setImmediate(() => handler(bytes));
    return this;
  }

  i2cRead(address: number, register: number, bytesToRead: number, handler: (data: number[]) => void): this {
    return this.i2cReadOnce(address, register, bytesToRead, handler);
  }

  // --- simulator controls ---

  private driven = new Set<number>();

  /** Drive a pin's electrical level from outside (a detector card output); notifies a reader at once. */
  setPin(pin: number, value: 0 | 1): void {
    const p = this.pin(pin);
    this.driven.add(pin);
    if (p.value === value) return;
    p.value = value;
    const rs = this.readers[pin]!;
    for (let i = 0; i < rs.length; i++) rs[i]!(value);
  }

  /** Pull the board's USB cable: the plugin reports its connection gone (johnny-five re-emits it). */
  disconnect(): void {
    this.isReady = false;
    this.emit("disconnect");
    this.emit("close");
  }

  /** Put a register-level device model on the simulated I²C bus. */
  attachI2c(address: number, device: SimI2cDevice): void {
    this.i2c.set(address, device);
  }

  private device(address: number): SimI2cDevice {
    if (!this.i2cEnabled) throw new Error("i2cConfig() must be called before I2C reads and writes");
    const d = this.i2c.get(address);
    if (!d) throw new Error(`no I2C device at 0x${address.toString(16)} on the simulated bus`);
    return d;
  }

  private pin(pin: number): IoPluginPin {
    const p = this.pins[pin];
    if (!p) throw new Error(`pin ${pin} does not exist on ${this.name} (0–${this.pins.length - 1})`);
    return p;
  }
}
