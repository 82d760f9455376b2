import type { DeviceConfig } from "../config/schema.js";

/** Frames parsed from the bytes a port sent; `sample` is a readable decoded value. */
export interface ProbeResult {
  frames: number;
  bad: number;
  sample?: string;
}

/** A serial sensor's frame check, contributed by the code that owns the sensor. */
export interface SerialProbe {
  /**
   * A frame parser for the sensor whose port sits at `configPath` (e.g. ["manholes", "m1", "sensor",
   * "port"]) in `config`, or undefined when this probe does not know that sensor.
   */
  forPort(configPath: readonly (string | number)[], config: DeviceConfig): ((data: Buffer) => ProbeResult) | undefined;
}
