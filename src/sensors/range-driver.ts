import type { Clock } from "../clock/clock.js";
import type { SerialHandlers, SerialPortLink, SerialSpec } from "../io/contract.js";
import type { Logger } from "../log/logger.js";
import type { LevelModel, Reading } from "./models/index.js";

export type SensorHealthValue = number | string | boolean | null;
export type SensorHealth = Record<string, SensorHealthValue>;

/** Receives readings (hot path: primitives only). `mm` is NaN unless `kind` is `Reading.Range`. */
export type ReadingSink = (kind: Reading, mm: number, tNs: number) => void;

/** What a range driver needs from the device. */
export interface RangeDriverContext {
  /** Sensor name, for messages and the port's name. */
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The resolved serial port settings. */
  readonly spec: SerialSpec;
  openSerial(spec: SerialSpec, handlers: SerialHandlers): Promise<SerialPortLink>;
  readonly reading: ReadingSink;
  /** The port went away (true) or is back (false). */
  port(down: boolean): void;
}

/**
 * A distance sensor's data path, one per interface (free-running serial frames, Modbus RTU polls):
 * it opens its port, turns what arrives into readings for `RangeDriverContext.reading`, and tells
 * the sensor monitor why readings stop. It never names a model; its definition says what differs.
 */
export interface RangeDriver {
  readonly model: LevelModel;
  /** Open the port and start reading. Rejects when the port cannot be opened; the caller retries. */
  open(): Promise<void>;
  close(): Promise<void>;
  /** Bytes arrive but make no readings (a wrong baud rate, noise, CRC errors). */
  garbled(): boolean;
  /** The last readings were no-target or min-range (a blind or flooded sensor). */
  blind(): boolean;
  /** The driver's counters for health. */
  health(): SensorHealth;
}
