/**
 * Manhole level states (DOMAIN.md §2 "Events"): `alert` at a share of the overflow (weir crest)
 * height, `spill` at the crest, each left only below its threshold minus a hysteresis, and every
 * change confirmed by N consecutive samples so a wave or a single bad echo raises nothing.
 *
 * Times are exact to the sample, not to the confirmation: a spill starts where the level crossed the
 * crest at the start of the run that confirmed it (interpolated between the last sample below and
 * the first at or above), and ends where it crossed back below at the start of the run that
 * confirmed the end (the hysteresis decides *whether* it ended, not *when*). So start and end are
 * within one sampling interval of the truth whatever N is, as long as the level moves faster than
 * the reading noise per interval.
 */
export type LevelState = "normal" | "alert" | "spill";

const STATES: readonly LevelState[] = ["normal", "alert", "spill"];

export interface OverflowOptions {
  /** Depth that raises the alert, mm (default 80 % of the crest). */
  alertMm: number;
  /** Depth of the overflow (weir crest), mm: spill at or above. */
  spillMm: number;
  /** A state is left only below its threshold minus this, mm. */
  hysteresisMm: number;
  /** Consecutive samples needed to confirm a change. */
  confirm: number;
}

/** A confirmed change: `kind` alert or spill, `start` or `end`, at `tNs` (backdated), confirmed at `confirmedNs`. */
export type OverflowListener = (kind: "alert" | "spill", edge: "start" | "end", tNs: number, confirmedNs: number) => void;

export class OverflowDetector {
  private s = 0;
  private upAlert = 0;
  private upSpill = 0;
  private downAlert = 0;
  private downSpill = 0;
  /** First sample of the current run at/above (or below) each threshold; -1 when not in such a run. */
  private aboveAlert = -1;
  private aboveSpill = -1;
  private belowAlert = -1;
  private belowSpill = -1;
  private prevDepth = Number.NaN;
  private prevNs = 0;

  constructor(
    private readonly opts: OverflowOptions,
    private readonly listener: OverflowListener,
  ) {}

  get state(): LevelState {
    return STATES[this.s]!;
  }

  sample(depthMm: number, tNs: number): void {
    const o = this.opts;
    if (depthMm >= o.alertMm) {
      if (this.aboveAlert < 0) this.aboveAlert = this.crossing(o.alertMm, depthMm, tNs);
      this.belowAlert = -1;
    } else {
      if (this.belowAlert < 0) this.belowAlert = this.crossing(o.alertMm, depthMm, tNs);
      this.aboveAlert = -1;
    }
    if (depthMm >= o.spillMm) {
      if (this.aboveSpill < 0) this.aboveSpill = this.crossing(o.spillMm, depthMm, tNs);
      this.belowSpill = -1;
    } else {
      if (this.belowSpill < 0) this.belowSpill = this.crossing(o.spillMm, depthMm, tNs);
      this.aboveSpill = -1;
    }
    this.prevDepth = depthMm;
    this.prevNs = tNs;
    // consecutive samples beyond each threshold (the hysteresis applies on the way down)
    this.upAlert = depthMm >= o.alertMm ? this.upAlert + 1 : 0;
    this.upSpill = depthMm >= o.spillMm ? this.upSpill + 1 : 0;
    this.downAlert = depthMm < o.alertMm - o.hysteresisMm ? this.downAlert + 1 : 0;
    this.downSpill = depthMm < o.spillMm - o.hysteresisMm ? this.downSpill + 1 : 0;
    const n = o.confirm;
    let to = this.s;
    if (this.s < 2 && this.upSpill >= n) to = 2;
    else if (this.s === 0 && this.upAlert >= n) to = 1;
    else if (this.s === 2 && this.downSpill >= n) to = this.downAlert >= n ? 0 : 1;
    else if (this.s === 1 && this.downAlert >= n) to = 0;
    if (to !== this.s) this.move(to, tNs);
  }

  /** Where the level crossed `thresholdMm` between the previous sample and this one (linear). */
  private crossing(thresholdMm: number, depthMm: number, tNs: number): number {
    const d0 = this.prevDepth;
    if (Number.isNaN(d0) || d0 === depthMm || tNs <= this.prevNs) return tNs;
    const f = (thresholdMm - d0) / (depthMm - d0);
    return f >= 0 && f <= 1 ? this.prevNs + f * (tNs - this.prevNs) : tNs;
  }

  private move(to: number, confirmedNs: number): void {
    const from = this.s;
    this.s = to;
    if (to > from) {
      if (from < 1 && to >= 1) this.listener("alert", "start", pick(this.aboveAlert, confirmedNs), confirmedNs);
      if (to === 2) this.listener("spill", "start", pick(this.aboveSpill, confirmedNs), confirmedNs);
    } else {
      if (from === 2) this.listener("spill", "end", pick(this.belowSpill, confirmedNs), confirmedNs);
      if (to === 0) this.listener("alert", "end", pick(this.belowAlert, confirmedNs), confirmedNs);
    }
  }
}

function pick(since: number, fallback: number): number {
  return since >= 0 ? since : fallback;
}
