import type { Level } from "../io/contract.js";

/** Receives the filtered transitions of one presence input. */
export interface PresenceSink {
  /** The input became active (vehicle arrived) at `tNs`. */
  on(tNs: number): void;
  /** The input became inactive (vehicle left) at `tNs`. */
  off(tNs: number): void;
}

/** The edge that started the pending change (the last edge of a burst). */
const CAND = 0;
/** The time reported for the pending change: the first edge of its burst. */
const REPORT = 1;
/** Start of the last rejected change, and when the line returned from it (-1: none). */
const BURST_START = 2;
const BURST_END = 3;

/**
 * Minimum-pulse-width filter for one digital input (DOMAIN.md §1: contact bounce and electrical
 * noise give sub-millisecond glitches).
 *
 * A change of level is accepted only if the new level then holds for at least the minimum width
 * (`minOnNs` for an active level, `minOffNs` for an inactive one). Filtering delays delivery but
 * never biases timestamps: an accepted change is reported with the time of the *first* edge of its
 * bounce burst. A relay output bounces for 1–5 ms when it switches; the first closure is the instant
 * the card switched, and taking the last one would add the bounce time to one loop and not the
 * other, which a speed trap turns straight into a speed error (1 ms at 6 m and 25 m/s is 0.4 %).
 * A change counts as part of a burst when the line went back to its old level for less than the
 * minimum width just before it.
 *
 * Pending changes are confirmed by the next edge or by `flush(now)`; windows are finalised only
 * after a grace period longer than the widths, so every change stamped before a boundary is decided
 * in time. An edge repeating the current level means the backend lost the edge between them; it is
 * counted in `dropped`.
 *
 * Allocation-free per edge.
 */
export class PulseFilter {
  private stable: Level;
  private candLevel: Level | -1 = -1;
  /**
   * Times, ns, in a typed array so V8 never boxes them (an object field holding a double can cost a
   * heap allocation per store); indexes CAND, REPORT, BURST_START, BURST_END.
   */
  private readonly t = new Float64Array([0, 0, -1, -1]);
  /** Changes rejected as too short. */
  glitches = 0;
  /** Edges the backend lost, inferred from repeated levels. */
  dropped = 0;

  constructor(
    private readonly minOnNs: number,
    private readonly minOffNs: number,
    private readonly sink: PresenceSink,
    initial: Level = 0,
  ) {
    this.stable = initial;
  }

  /** Current accepted level (ignores an undecided change). */
  get level(): Level {
    return this.stable;
  }

  /** A raw edge from the backend. */
  edge(level: Level, tNs: number): void {
    if (this.candLevel !== -1) {
      const width = this.candLevel === 1 ? this.minOnNs : this.minOffNs;
      if (tNs - this.t[CAND]! >= width) {
        this.accept();
      } else if (level !== this.candLevel) {
        // the change did not hold: drop it (the level is back where it was)
        this.t[BURST_START] = this.t[REPORT]!;
        this.t[BURST_END] = tNs;
        this.candLevel = -1;
        this.glitches++;
        return;
      } else {
        this.dropped++;
        return;
      }
    }
    if (level === this.stable) {
      this.dropped++;
      return;
    }
    this.candLevel = level;
    this.t[CAND] = tNs;
    const width = level === 1 ? this.minOnNs : this.minOffNs;
    // still bouncing: the line left this level less than a width ago, so the change began earlier
    this.t[REPORT] = this.t[BURST_START]! >= 0 && tNs - this.t[BURST_END]! < width ? this.t[BURST_START]! : tNs;
    this.t[BURST_START] = -1;
    if (width <= 0) this.accept();
  }

  /** Confirm a pending change that has held long enough by `nowNs`. */
  flush(nowNs: number): void {
    if (this.candLevel === -1) return;
    const width = this.candLevel === 1 ? this.minOnNs : this.minOffNs;
    if (nowNs - this.t[CAND]! >= width) this.accept();
  }

  /**
   * End of the signal (a run or a trace ended): a pending change has held for as long as anyone
   * will ever know, so it is accepted. Otherwise the last edge of a trace would never leave the
   * filter and the last vehicle would have no speed or class.
   */
  end(): void {
    if (this.candLevel !== -1) this.accept();
  }

  /** Time of the pending (unconfirmed) change, or -1. */
  pendingSince(): number {
    return this.candLevel === -1 ? -1 : this.t[REPORT]!;
  }

  private accept(): void {
    const level = this.candLevel as Level;
    this.stable = level;
    this.candLevel = -1;
    if (level === 1) this.sink.on(this.t[REPORT]!);
    else this.sink.off(this.t[REPORT]!);
  }
}
