import { NS_PER_MS } from "../clock/clock.js";
import type { Level } from "../io/contract.js";
import type { PresenceSink } from "./pulse-filter.js";
import { PulseFilter } from "./pulse-filter.js";

/** Receives the filtered presence transitions of a loop detector's loops (0 = upstream). */
export interface LoopListener {
  on(loop: number, tNs: number): void;
  off(loop: number, tNs: number): void;
}

class LoopSink implements PresenceSink {
  constructor(
    private readonly listener: LoopListener,
    private readonly loop: number,
  ) {}
  on(tNs: number): void {
    this.listener.on(this.loop, tNs);
  }
  off(tNs: number): void {
    this.listener.off(this.loop, tNs);
  }
}

/**
 * Driver for one lane's loop detector card output(s): a glitch filter per loop, then presence
 * transitions per loop. Pulse-mode cards use the same path: each pulse is an on/off pair.
 *
 * Transitions of the lane's loops reach the listener in time order: before each raw edge every
 * loop's pending change that has held long enough is confirmed, earliest first. A speed trap's
 * pairing relies on that (the upstream loop's arrival is known before the downstream one's).
 * Allocation-free per edge.
 */
export class LoopDriver {
  private readonly filters: PulseFilter[];
  private readonly lost: number[];
  /** Per loop: the card's response latency, ns, subtracted from every edge (inputs.*.latencyMs). */
  private readonly latency: Float64Array;

  constructor(glitchMs: readonly number[], initial: readonly Level[], listener: LoopListener, latencyMs: readonly number[] = []) {
    this.filters = glitchMs.map((ms, k) => new PulseFilter(ms * NS_PER_MS, ms * NS_PER_MS, new LoopSink(listener, k), initial[k] ?? 0));
    this.lost = glitchMs.map(() => 0);
    this.latency = new Float64Array(glitchMs.map((_, k) => (latencyMs[k] ?? 0) * NS_PER_MS));
  }

  /** The latency subtracted from a loop's edges, ns (configured, plus an applied calibration). */
  latencyNs(loop: number): number {
    return this.latency[loop]!;
  }

  /** Change a loop's latency correction (automatic calibration); takes effect from the next edge. */
  setLatencyNs(loop: number, ns: number): void {
    this.latency[loop] = ns;
  }

  /** Number of loops (1 or 2). */
  get loops(): number {
    return this.filters.length;
  }

  /** A raw edge of loop `loop`. */
  edge(loop: number, level: Level, tNs: number): void {
    const t = tNs - this.latency[loop]!;
    this.flush(t);
    this.filters[loop]!.edge(level, t);
  }

  /** Confirm pending changes that have held long enough by `nowNs`, earliest first. */
  flush(nowNs: number): void {
    const f = this.filters;
    if (f.length === 1) {
      f[0]!.flush(nowNs);
      return;
    }
    const a = f[0]!.pendingSince();
    const b = f[1]!.pendingSince();
    if (a < 0 && b < 0) return;
    if (b >= 0 && (a < 0 || b < a)) {
      f[1]!.flush(nowNs);
      f[0]!.flush(nowNs);
    } else {
      f[0]!.flush(nowNs);
      f[1]!.flush(nowNs);
    }
  }

  /** End of the signal: accept every pending change, earliest first (see `PulseFilter.end`). */
  end(): void {
    const f = this.filters;
    const a = f[0]!.pendingSince();
    const b = f.length > 1 ? f[1]!.pendingSince() : -1;
    if (b >= 0 && (a < 0 || b < a)) {
      f[1]!.end();
      f[0]!.end();
    } else {
      for (const x of f) x.end();
    }
  }

  /** The backend reported `count` lost edges on loop `loop`. */
  dropped(loop: number, count: number): void {
    this.lost[loop]! += count;
  }

  /** Current accepted level of a loop. */
  level(loop: number): Level {
    return this.filters[loop]!.level;
  }

  /** Glitches (bounce, noise) rejected so far on one loop, or on all loops. */
  glitches(loop?: number): number {
    if (loop !== undefined) return this.filters[loop]!.glitches;
    let n = 0;
    for (const f of this.filters) n += f.glitches;
    return n;
  }

  /** Edges lost so far on one loop (reported by the backend or seen as a repeated level). */
  droppedEdges(loop: number): number {
    return this.filters[loop]!.dropped + this.lost[loop]!;
  }
}
