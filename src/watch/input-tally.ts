import type { Clock } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import type { LoadedConfig } from "../config/load.js";
import type { Level } from "../io/contract.js";

/** One configured input as the wiring check shows it: where it is wired, its level, its edges. */
export interface InputRow {
  name: string;
  /** Board line and pin, e.g. `GPIO17 pin 11`; `?` when the board does not name it. */
  where: string;
  level: Level;
  /** Edges and activations in the current window. */
  edges: number;
  activations: number;
  /** Monotonic time of the last edge, ns; -1 before the first. */
  lastNs: number;
}

/**
 * The live state of a device's inputs for the technician's views (the terminal live view and the
 * status page): per input its level and its edges in the current window of `windows.default`,
 * aligned to the wall clock like the summaries. The edge path only bumps counters.
 */
export class InputTally {
  readonly rows: InputRow[] = [];
  private readonly index = new Map<string, number>();
  private readonly windowNs: number;
  private windowEndNs = 0;
  /** Wall-clock start of the current window, ms. */
  windowStartMs = 0;

  constructor(
    loaded: LoadedConfig,
    private readonly clock: Clock,
  ) {
    const { config, lines } = loaded;
    for (const name of Object.keys(config.inputs)) {
      const l = lines.get(name);
      this.index.set(name, this.rows.length);
      this.rows.push({
        name,
        where: l ? `${l.name}${l.pin !== undefined ? ` pin ${l.pin}` : ""}` : "?",
        level: 0,
        edges: 0,
        activations: 0,
        lastNs: -1,
      });
    }
    this.windowNs = config.windows.default * NS_PER_S;
  }

  edge(input: string, level: Level, tNs: number): void {
    const i = this.index.get(input);
    if (i === undefined) return;
    this.at(tNs);
    const row = this.rows[i]!;
    row.level = level;
    row.edges++;
    if (level === 1) row.activations++;
    row.lastNs = tNs;
  }

  /** Starts the next window's counts when `tNs` is past the current one. */
  at(tNs: number): void {
    if (tNs < this.windowEndNs) return;
    const lenMs = this.windowNs / 1e6;
    this.windowStartMs = Math.floor(this.clock.toWallMs(tNs) / lenMs) * lenMs;
    this.windowEndNs = this.clock.toMonoNs(this.windowStartMs + lenMs);
    for (const r of this.rows) {
      r.edges = 0;
      r.activations = 0;
    }
  }
}
