import { NS_PER_S } from "../clock/clock.js";

const HOUR_NS = 3600 * NS_PER_S;

/** A finished spill sequence (UK 12/24 counting). */
export interface SpillSequence {
  startNs: number;
  /** Start of the 24 h block without discharge that ended it. */
  endNs: number;
  /** Spills counted in it. */
  spills: number;
  /** Time discharging within it, ns. */
  dischargeNs: number;
}

export interface SpillCounterOptions {
  /** A spill was counted at `tNs`; `inSequence` is the sequence's count so far. */
  onSpill?: (tNs: number, inSequence: number) => void;
  onSequenceEnd?: (seq: SpillSequence) => void;
  /** Block lengths; default 12 h and 24 h (the rule). Tests and other regulators may differ. */
  firstBlockNs?: number;
  blockNs?: number;
}

/**
 * Spill counting by the UK Environment Agency "12/24" method (Event Duration Monitoring; DOMAIN.md
 * §2): the 12 h block from the first discharge is one spill; each following 24 h block with any
 * discharge in it adds one; a 24 h block without discharge ends the sequence, and the next discharge
 * starts a new one. A discharge that lasts across a block boundary counts in both blocks.
 *
 * Incremental and O(1): feed discharge starts and ends, and `advance` with the time now and then
 * (each sample) so blocks close on time. Calls must come in time order.
 */
export class SpillCounter {
  total = 0;
  private seq = false;
  private seqStart = 0;
  private seqCount = 0;
  private seqDischarge = 0;
  private blockIndex = 0;
  private blockEnd = 0;
  private blockHas = false;
  private discharging = false;
  private dischargeStart = 0;
  private readonly firstNs: number;
  private readonly blockNs: number;

  constructor(private readonly opts: SpillCounterOptions = {}) {
    this.firstNs = opts.firstBlockNs ?? 12 * HOUR_NS;
    this.blockNs = opts.blockNs ?? 24 * HOUR_NS;
  }

  /** Spills of the running sequence (0 when none runs). */
  get sequenceSpills(): number {
    return this.seq ? this.seqCount : 0;
  }

  get inSequence(): boolean {
    return this.seq;
  }

  /** A discharge started at `tNs`. */
  start(tNs: number): void {
    this.advance(tNs);
    if (this.discharging) return;
    this.discharging = true;
    this.dischargeStart = tNs;
    if (!this.seq) {
      this.seq = true;
      this.seqStart = tNs;
      this.seqCount = 0;
      this.seqDischarge = 0;
      this.blockIndex = 0;
      this.blockEnd = tNs + this.firstNs;
      this.blockHas = true;
      this.count(tNs);
    } else if (!this.blockHas) {
      this.blockHas = true;
      this.count(tNs);
    }
  }

  /** The discharge ended at `tNs`. */
  end(tNs: number): void {
    this.advance(tNs);
    if (!this.discharging) return;
    this.discharging = false;
    this.seqDischarge += tNs - this.dischargeStart;
  }

  /** Close every block that ended by `tNs`. */
  advance(tNs: number): void {
    while (this.seq && tNs >= this.blockEnd) {
      const blockStart = this.blockEnd - (this.blockIndex === 0 ? this.firstNs : this.blockNs);
      if (!this.blockHas && this.blockIndex >= 1) {
        this.seq = false;
        this.opts.onSequenceEnd?.({ startNs: this.seqStart, endNs: blockStart, spills: this.seqCount, dischargeNs: this.seqDischarge });
        return;
      }
      this.blockIndex++;
      const next = this.blockEnd;
      this.blockEnd = next + this.blockNs;
      this.blockHas = this.discharging;
      if (this.discharging) this.count(next);
    }
  }

  private count(tNs: number): void {
    this.total++;
    this.seqCount++;
    this.opts.onSpill?.(tNs, this.seqCount);
  }
}
