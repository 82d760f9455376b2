import type { Clock } from "../clock/index.js";
import type { IoError, SerialHandlers, SerialOpenOptions, SerialPortLink, SerialSpec } from "../io/contract.js";
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
  /** Drivers open with `{ retry: true }`: the link is the port's one retry layer, at start and after an unplug. */
  openSerial(spec: SerialSpec, handlers: SerialHandlers, opts?: SerialOpenOptions): Promise<SerialPortLink>;
  readonly reading: ReadingSink;
  /** The port is missing or went away (true, with the link's error) or is open (false). */
  port(down: boolean, error?: IoError): void;
}

/**
 * A distance sensor's data path, one per interface (free-running serial frames, Modbus RTU polls):
 * it opens its port, turns what arrives into readings for `RangeDriverContext.reading`, and tells
 * the sensor monitor why readings stop. It never names a model; its definition says what differs.
 */
export interface RangeDriver {
  readonly model: LevelModel;
  /** Open the port (a missing one is retried by the link, reported through `port`) and start reading. */
  open(): Promise<void>;
  close(): Promise<void>;
  /** Bytes arrive but make no readings (a wrong baud rate, noise, CRC errors). */
  garbled(): boolean;
  /** The last readings were no-target or min-range (a blind or flooded sensor). */
  blind(): boolean;
  /** The driver's counters for health. */
  health(): SensorHealth;
}
