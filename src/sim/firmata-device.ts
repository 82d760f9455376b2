import type { SimSerialDevice } from "./serial.js";

/**
 * A simulated Arduino running StandardFirmata, on a simulated serial port: it speaks enough of the
 * Firmata protocol (2.x; https://github.com/firmata/protocol) for firmata-io and johnny-five to
 * connect and read digital inputs, so the Firmata path (FirmataBoard + JohnnyFiveInputs) is
 * exercised without a board. Handled: version and firmware greeting on open, capability and analog
 * mapping queries, pin modes (INPUT, OUTPUT, PULLUP), digital port reporting. Everything else is
 * ignored, as firmware ignores commands it does not implement.
 */
const REPORT_VERSION = 0xf9;
const START_SYSEX = 0xf0;
const END_SYSEX = 0xf7;
const PIN_MODE = 0xf4;
const SET_DIGITAL_PIN = 0xf5;
const REPORT_DIGITAL = 0xd0;
const REPORT_ANALOG = 0xc0;
const DIGITAL_MESSAGE = 0x90;
const ANALOG_MESSAGE = 0xe0;
const SYSTEM_RESET = 0xff;
const CAPABILITY_QUERY = 0x6b;
const CAPABILITY_RESPONSE = 0x6c;
const ANALOG_MAPPING_QUERY = 0x69;
const ANALOG_MAPPING_RESPONSE = 0x6a;
const QUERY_FIRMWARE = 0x79;
const MODE_INPUT = 0x00;
const MODE_OUTPUT = 0x01;
const MODE_ANALOG = 0x02;
const MODE_PULLUP = 0x0b;

export class SimFirmata {
  /** Electrical level of each pin. */
  private readonly values: number[];
  private readonly modes: number[];
  private readonly driven = new Set<number>();
  private readonly reporting = new Set<number>();
  private rx: number[] = [];

  constructor(
    private readonly dev: SimSerialDevice,
    /** 20 pins like an Uno: D0–D13, A0–A5 as 14–19. */
    private readonly pinCount = 20,
    private readonly analogFrom = 14,
  ) {
    this.values = new Array<number>(pinCount).fill(0);
    this.modes = new Array<number>(pinCount).fill(MODE_INPUT);
    dev.onHostOpen = () => this.greet();
    dev.onHostWrite = (data) => this.receive(data);
  }

  /** Drive an input pin from outside (a detector card output); reported if its port reports. */
  setPin(pin: number, value: 0 | 1): void {
    this.driven.add(pin);
    if (this.values[pin] === value) return;
    this.values[pin] = value;
    const port = pin >> 3;
    if (this.reporting.has(port)) this.reportPort(port);
  }

  /** Mode the host set for a pin. */
  mode(pin: number): number {
    return this.modes[pin] ?? MODE_INPUT;
  }

  private send(bytes: number[]): void {
    this.dev.emit(Buffer.from(bytes));
  }

  /** What StandardFirmata sends after a reset: its protocol version and firmware name. */
  private greet(): void {
    this.send([REPORT_VERSION, 2, 5]);
    this.firmware();
  }

  private firmware(): void {
    const name = Buffer.from("RoadsideSimFirmata", "ascii");
    const bytes = [START_SYSEX, QUERY_FIRMWARE, 2, 5];
    for (const b of name) bytes.push(b & 0x7f, (b >> 7) & 0x7f);
    bytes.push(END_SYSEX);
    this.send(bytes);
  }

  private reportPort(port: number): void {
    let v = 0;
    for (let i = 0; i < 8; i++) {
      const pin = port * 8 + i;
      if (pin < this.pinCount && this.values[pin] && this.modes[pin] !== MODE_OUTPUT) v |= 1 << i;
    }
    this.send([DIGITAL_MESSAGE | port, v & 0x7f, (v >> 7) & 0x7f]);
  }

  private receive(data: Buffer): void {
    for (const b of data) this.rx.push(b);
    for (;;) {
      const n = this.command();
      if (n === 0) break;
      this.rx.splice(0, n);
    }
  }

  /** Handle the command at the head of `rx`; returns the bytes it used, 0 if incomplete. */
  private command(): number {
    const rx = this.rx;
    if (rx.length === 0) return 0;
    const c = rx[0]!;
    if (c === START_SYSEX) {
      const end = rx.indexOf(END_SYSEX);
      if (end < 0) return 0;
      this.sysex(rx[1] ?? 0);
      return end + 1;
    }
    if (c === REPORT_VERSION) {
      this.send([REPORT_VERSION, 2, 5]);
      return 1;
    }
    if (c === SYSTEM_RESET) return 1;
    if (c === PIN_MODE || c === SET_DIGITAL_PIN || (c & 0xf0) === DIGITAL_MESSAGE || (c & 0xf0) === ANALOG_MESSAGE) {
      if (rx.length < 3) return 0;
      if (c === PIN_MODE) this.pinMode(rx[1]!, rx[2]!);
      return 3;
    }
    if ((c & 0xf0) === REPORT_DIGITAL || (c & 0xf0) === REPORT_ANALOG) {
      if (rx.length < 2) return 0;
      if ((c & 0xf0) === REPORT_DIGITAL) {
        const port = c & 0x0f;
        if (rx[1]) {
          this.reporting.add(port);
          this.reportPort(port); // StandardFirmata reports the port at once
        } else this.reporting.delete(port);
      }
      return 2;
    }
    return 1; // a stray byte: skip it, as firmware does
  }

  private pinMode(pin: number, mode: number): void {
    if (pin >= this.pinCount) return;
    this.modes[pin] = mode;
    // an undriven input with the pull-up on reads high, as on the ATmega
    if (mode === MODE_PULLUP && !this.driven.has(pin)) this.values[pin] = 1;
  }

  private sysex(cmd: number): void {
    if (cmd === QUERY_FIRMWARE) this.firmware();
    else if (cmd === CAPABILITY_QUERY) {
      const bytes = [START_SYSEX, CAPABILITY_RESPONSE];
      for (let pin = 0; pin < this.pinCount; pin++) {
        bytes.push(MODE_INPUT, 1, MODE_OUTPUT, 1, MODE_PULLUP, 1);
        if (pin >= this.analogFrom) bytes.push(MODE_ANALOG, 10);
        bytes.push(0x7f);
      }
      bytes.push(END_SYSEX);
      this.send(bytes);
    } else if (cmd === ANALOG_MAPPING_QUERY) {
      const bytes = [START_SYSEX, ANALOG_MAPPING_RESPONSE];
      for (let pin = 0; pin < this.pinCount; pin++) bytes.push(pin >= this.analogFrom ? pin - this.analogFrom : 0x7f);
      bytes.push(END_SYSEX);
      this.send(bytes);
    }
  }
}
