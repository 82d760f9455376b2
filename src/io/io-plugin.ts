import type { EventEmitter } from "node:events";

/**
 * The johnny-five IO plugin contract, as far as roadside uses it
 * (https://github.com/rwaldron/io-plugins). Firmata boards, expanders and the roadside simulator
 * all present this shape; johnny-five's `Board` drives it.
 *
 * Required of every plugin: `name`, `isReady`, `MODES`, `pins`, `pinMode`, `digitalRead`, and the
 * `connect` / `ready` events. Optional methods must be absent (not throwing stubs) when unsupported,
 * so a caller can test for them.
 */
export interface IoPluginPin {
  supportedModes: number[];
  mode: number;
  value: number;
  report: number;
  analogChannel: number;
}

export interface IoPlugin extends EventEmitter {
  readonly name: string;
  isReady: boolean;
  readonly MODES: Readonly<Record<string, number>>;
  readonly pins: IoPluginPin[];
  readonly analogPins: number[];
  pinMode(pin: number, mode: number): unknown;
  /** Start continuous reporting of a digital pin; `handler` gets the value (0/1) on every report. */
  digitalRead(pin: number, handler: (value: number) => void): void;
  digitalWrite(pin: number, value: number): unknown;
  analogRead?(pin: number, handler: (value: number) => void): void;
  i2cConfig?(options?: unknown): unknown;
  i2cWrite?(address: number, registerOrData: number | number[], data?: number[] | number): unknown;
  i2cWriteReg?(address: number, register: number, value: number): unknown;
  i2cRead?(address: number, register: number, bytesToRead: number, handler: (data: number[]) => void): unknown;
  i2cReadOnce?(address: number, register: number, bytesToRead: number, handler: (data: number[]) => void): unknown;
}
