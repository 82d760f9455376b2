import type { Window } from "../clock/windows.js";

/**
 * Everything one lane accumulates during one window. Reused from a small pool (reset, not
 * reallocated), and every field is a number or a typed array, so the per-edge path allocates nothing.
 */
export class TrafficBucket {
  volume = 0;
  /** Per loop: Σ on-time clipped to the window (outside faults), ns. */
  readonly onNs = new Float64Array(2);
  /** Per loop: time in fault inside the window, ns. */
  readonly faultNs = new Float64Array(2);
  /** Per loop: on-time of presences held too long at the window's end (not counted as traffic), ns. */
  readonly heldNs = new Float64Array(2);
  /** Per loop: 1 when the loop was in fault at some point of the window. */
  readonly faulted = new Uint8Array(2);
  /** Time no loop could count (all in fault), ns. */
  countFaultNs = 0;
  /** Per loop: headways (leading edge to leading edge) and gaps (trailing edge to next leading edge), ns. */
  readonly headSum = new Float64Array(2);
  readonly headN = new Float64Array(2);
  readonly headMin = new Float64Array(2);
  readonly gapSum = new Float64Array(2);
  readonly gapN = new Float64Array(2);
  readonly gapMin = new Float64Array(2);
  /** Valid speeds of the window's measured vehicles, m/s (first speedN entries). */
  speeds = new Float64Array(64);
  speedN = 0;
  lengthSum = 0;
  lengthN = 0;
  readonly classCounts: Int32Array;
  wrongWay = 0;
  unpaired = 0;
  glitches = 0;
  dropped = 0;

  constructor(readonly classes: number) {
    this.classCounts = new Int32Array(classes);
    this.reset();
  }

  reset(): void {
    this.volume = 0;
    this.onNs.fill(0);
    this.faultNs.fill(0);
    this.heldNs.fill(0);
    this.faulted.fill(0);
    this.countFaultNs = 0;
    this.headSum.fill(0);
    this.headN.fill(0);
    this.headMin.fill(Infinity);
    this.gapSum.fill(0);
    this.gapN.fill(0);
    this.gapMin.fill(Infinity);
    this.speedN = 0;
    this.lengthSum = 0;
    this.lengthN = 0;
    this.classCounts.fill(0);
    this.wrongWay = 0;
    this.unpaired = 0;
    this.glitches = 0;
    this.dropped = 0;
  }

  /** A copy, for a checkpoint of the open window (aggregate/checkpoint.ts): the window goes on untouched. */
  clone(): TrafficBucket {
    const c = new TrafficBucket(this.classes);
    c.volume = this.volume;
    for (const k of ["onNs", "faultNs", "heldNs", "headSum", "headN", "headMin", "gapSum", "gapN", "gapMin"] as const) c[k].set(this[k]);
    c.faulted.set(this.faulted);
    c.countFaultNs = this.countFaultNs;
    c.speeds = this.speeds.slice();
    c.speedN = this.speedN;
    c.lengthSum = this.lengthSum;
    c.lengthN = this.lengthN;
    c.classCounts.set(this.classCounts);
    c.wrongWay = this.wrongWay;
    c.unpaired = this.unpaired;
    c.glitches = this.glitches;
    c.dropped = this.dropped;
    return c;
  }

  addSpeed(v: number): void {
    if (this.speedN === this.speeds.length) {
      // grows by doubling, a handful of times per window at most
      const next = new Float64Array(this.speeds.length * 2);
      next.set(this.speeds);
      this.speeds = next;
    }
    this.speeds[this.speedN++] = v;
  }

  addHeadway(loop: number, ns: number): void {
    this.headSum[loop]! += ns;
    this.headN[loop]!++;
    if (ns < this.headMin[loop]!) this.headMin[loop] = ns;
  }

  addGap(loop: number, ns: number): void {
    this.gapSum[loop]! += ns;
    this.gapN[loop]!++;
    if (ns < this.gapMin[loop]!) this.gapMin[loop] = ns;
  }
}

/**
 * The open windows of one lane (the current one, the previous one during its grace period, and the
 * next one before its boundary timer has fired) with their buckets. Events are routed by their
 * stamp, whatever the timers do: an event delivered after the boundary but stamped before it lands
 * in its own window, and one stamped at or after the current window's end that arrives before the
 * boundary timer rotated the window (a real-time race: the kernel stamped the edge at the boundary,
 * the cron tick ran a few ms later) waits in the next window's bucket. Like `WindowBuckets`, without
 * closures.
 */
export class LaneWindows {
  cur: Window | undefined;
  curB: TrafficBucket | undefined;
  prev: Window | undefined;
  prevB: TrafficBucket | undefined;
  /** Events stamped at or after `cur.endNs` before the rotation (the next window has not opened yet). */
  nextB: TrafficBucket | undefined;
  private readonly pool: TrafficBucket[] = [];
  /** Events stamped before every open window (their window was already published). */
  late = 0;

  constructor(private readonly classes: number) {}

  open(w: Window): void {
    this.cur = w;
    this.curB = this.nextB ?? this.fresh();
    this.nextB = undefined;
  }

  rotate(closing: Window, opening: Window): void {
    if (this.cur !== closing) {
      this.prev = closing;
      this.prevB = this.fresh();
    } else {
      this.prev = this.cur;
      this.prevB = this.curB;
    }
    this.cur = opening;
    // whatever arrived early was stamped at or after the old end, so inside the opening window
    this.curB = this.nextB ?? this.fresh();
    this.nextB = undefined;
  }

  /**
   * The bucket of the window containing `tNs`. Late events (stamped before every open window) go to
   * the current one and are counted; callers that must not mix windows check `isLate` first.
   */
  at(tNs: number): TrafficBucket {
    const cur = this.cur;
    if (cur !== undefined && tNs >= cur.startNs) {
      if (tNs < cur.endNs) return this.curB!;
      if (this.nextB === undefined) this.nextB = this.fresh();
      return this.nextB;
    }
    if (this.prev !== undefined && tNs >= this.prev.startNs) return this.prevB!;
    this.late++;
    if (this.curB === undefined) this.curB = this.fresh();
    return this.curB;
  }

  /**
   * Add the part of [from, to) inside each open window (and the next, not yet opened one) to a
   * per-loop field: on-time and fault time are clipped to windows, not assigned whole.
   */
  spread(field: "onNs" | "faultNs", loop: number, from: number, to: number): void {
    if (this.prev !== undefined) this.prevB![field][loop]! += overlap(this.prev, from, to);
    const cur = this.cur;
    if (cur === undefined) return;
    this.curB![field][loop]! += overlap(cur, from, to);
    const a = Math.max(from, cur.endNs);
    if (to > a) {
      if (this.nextB === undefined) this.nextB = this.fresh();
      this.nextB[field][loop]! += to - a;
    }
  }

  /** As `spread`, for the time no loop could count. */
  spreadCountFault(from: number, to: number): void {
    if (this.prev !== undefined) this.prevB!.countFaultNs += overlap(this.prev, from, to);
    const cur = this.cur;
    if (cur === undefined) return;
    this.curB!.countFaultNs += overlap(cur, from, to);
    const a = Math.max(from, cur.endNs);
    if (to > a) {
      if (this.nextB === undefined) this.nextB = this.fresh();
      this.nextB.countFaultNs += to - a;
    }
  }

  /** Hand over a closed window's bucket; give it back with `release` once summarised. */
  take(closed: Window): TrafficBucket | undefined {
    if (this.prev === closed) {
      const b = this.prevB;
      this.prev = undefined;
      this.prevB = undefined;
      return b;
    }
    if (this.cur === closed) {
      const b = this.curB;
      this.cur = undefined;
      this.curB = undefined;
      return b;
    }
    return undefined;
  }

  release(b: TrafficBucket): void {
    if (this.pool.length < 3) this.pool.push(b);
  }

  private fresh(): TrafficBucket {
    const b = this.pool.pop();
    if (b === undefined) return new TrafficBucket(this.classes);
    b.reset();
    return b;
  }
}

/** Length of the overlap of [from, to) with a window, ns. */
export function overlap(w: Window, from: number, to: number): number {
  const a = Math.max(from, w.startNs);
  const b = Math.min(to, w.endNs);
  return b > a ? b - a : 0;
}
