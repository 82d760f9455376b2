import type { Clock } from "../clock/clock.js";
import type { LoadedConfig } from "../config/load.js";
import type { SimFault } from "../config/sections/sim.js";
import type { SimBoard } from "./io-plugin.js";
import type { Rng } from "./rng.js";
import type { SimSerialBus, SimSerialDevice } from "./serial.js";

/** A ground-truth record: what really happened, written beside a simulated run (truth.jsonl). */
export interface TruthRecord {
  /** e.g. "vehicle", "level", "overflow", "fill", "pickup", "devices". */
  kind: string;
  [field: string]: unknown;
}

/** A fault of `sim.faults` with its times on the run's monotonic clock. */
export interface ScheduledFault {
  readonly fault: SimFault;
  /** Position in `sim.faults` (for messages: `sim.faults[index]`). */
  readonly index: number;
  readonly startNs: number;
  /** End of the fault; `Infinity` when it lasts to the end of the run (no `for`). */
  readonly endNs: number;
}

/** What a scenario gets to drive the simulated hardware of one device. */
export interface SimContext {
  readonly loaded: LoadedConfig;
  readonly clock: Clock;
  /** A seeded random stream of its own for each label (stable when other scenarios change). */
  rng(label: string): Rng;
  /** The simulated board (digital inputs, I²C). */
  readonly board: SimBoard;
  /** The simulated serial devices. */
  readonly serial: SimSerialBus;
  /** Record ground truth. */
  truth(record: TruthRecord): void;
  /** Faults to inject (times in seconds from the start of the run). A scenario handles those aimed at its targets. */
  readonly faults: readonly SimFault[];
  /** Monotonic ns of the start of the run (fault times count from here). */
  readonly startNs: number;
  /**
   * Connect a simulated serial sensor for the config entry `port` (e.g. `manhole1`) at `path`,
   * transmitting at `baudRate`. The generic serial faults (unplug, garbage, partial-frames,
   * wrong-baud) aimed at `port` act on it, and traces name it so. Call while the scenario is built.
   * `ownFaults` lists fault kinds the scenario injects itself, in a way specific to its sensor (a
   * sonar's garbage between frames); the generic injector leaves those to it.
   */
  createSerialDevice(port: string, path: string, baudRate: number, opts?: { ownFaults?: readonly string[] }): SimSerialDevice;
  /** The faults of the given kinds, with their times resolved (a convenience over `faults`). */
  faultsOf(kinds: readonly string[]): ScheduledFault[];
}

/** One source of simulated signals (traffic on loops, a manhole's level, a bin…). */
export interface SimScenario {
  readonly name: string;
  start(): void;
  stop(): void;
}

/** Builds a scenario from the config's `sim` section; undefined when it has nothing to simulate. */
export type ScenarioFactory = (ctx: SimContext) => SimScenario | undefined;
