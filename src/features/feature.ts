import type { Alarm } from "../aggregate/alarm.js";
import type { Checkpointable } from "../aggregate/checkpoint.js";
import type { SummarySink } from "../aggregate/summary.js";
import type { Clock, WindowScheduler } from "../clock/index.js";
import type { LoadedConfig } from "../config/load.js";
import type { HealthRegistry, ManifestStream } from "../control/index.js";
import type { Level, SerialHandlers, SerialOpenOptions, SerialPortLink, SerialSpec } from "../io/contract.js";
import type { IoPlugin } from "../io/io-plugin.js";
import type { Logger } from "../log/logger.js";
import type { Topics } from "../publish/index.js";

/** A digital input claimed by a feature. */
export interface ClaimedInput {
  readonly name: string;
  /** Current level as read by the backend (valid from `Feature.start` on). */
  level(): Level;
}

/**
 * What the device offers its features. Everything a feature needs comes through here: no feature
 * imports another, and none reaches into the runtime.
 */
export interface FeatureContext {
  readonly loaded: LoadedConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly health: HealthRegistry;
  /** Topic builder of this device (for manifest entries). */
  readonly topics: Topics;
  /** The scheduler of a window length, created on first use. Add aggregators to it as listeners. */
  windows(lengthS: number): WindowScheduler;
  /** Where aggregators deliver window summaries. */
  readonly summaries: SummarySink;
  /** Raise an alarm: committed and published at once, ahead of routine data. */
  readonly alarm: (alarm: Alarm) => void;
  /**
   * Have the open windows of an aggregator checkpointed (docs/delivery.md "Crashes mid-window"), so a
   * crash does not lose what they counted. Never for streams derived from identifiers (throws).
   */
  readonly checkpoint?: (kind: "traffic" | "level" | "bin", source: Checkpointable) => void;
  /**
   * Claim a digital input by its config name; its raw edges go to `onEdge` (hot path: keep it
   * allocation-free). Claim during construction, before the inputs are opened. An input can be
   * claimed once; a second claim throws. `onDropped` hears how many edges the backend knows it lost on
   * this input (a kernel buffer overflow, a helper restart), so the feature can mark its windows.
   */
  claimInput(name: string, onEdge: (level: Level, tNs: number) => void, onDropped?: (count: number) => void): ClaimedInput;
  /**
   * The board's johnny-five IO plugin, if it has one (Firmata boards, the simulator): I²C devices
   * such as an ADS1115 ADC are read through it. Undefined on boards without one.
   */
  readonly ioPlugin: IoPlugin | undefined;
  /** Every analog sample read (`SENSOR.QUANTITY`, volts at the ADC input), for `--record`. */
  readonly onAnalog?: ((name: string, volts: number, tNs: number) => void) | undefined;
  /**
   * Open a serial port; it is reopened with backoff after an unplug, and with `{ retry: true }` a
   * port missing at start is retried the same way instead of rejecting (SerialOpenOptions). Call from `start`.
   */
  openSerial(spec: SerialSpec, handlers: SerialHandlers, opts?: SerialOpenOptions): Promise<SerialPortLink>;
}

/**
 * One capability of a device (traffic detectors, manholes, bins, identifier counting). Built from
 * the config by a `FeatureFactory`; the device starts each in its own error boundary, so one broken
 * sensor does not take the others down.
 */
export interface Feature {
  readonly name: string;
  /** After the inputs are open, before windows start. Open serial ports here. */
  start?(): Promise<void> | void;
  /** Before windows close for the last time; release ports. */
  stop?(): Promise<void> | void;
  /** What this feature publishes, for the retained manifest. */
  manifest?(): ManifestStream[];
}

/** Returns undefined when the config has nothing for this feature. */
export type FeatureFactory = (ctx: FeatureContext) => Feature | undefined;
