import type { Window } from "../clock/windows.js";

/**
 * The open windows of one aggregator: the current one, and the closed ones still in their grace
 * period. Events are routed by their monotonic stamp, whatever the timers do: an event delivered
 * after the boundary, before finalisation, still lands in the window it happened in; one stamped at
 * or after the current window's end that arrives before the rotation waits for the next window;
 * and one stamped in a window already published belongs to no open window: it is counted in
 * `late` and left out, never moved into the current window (a manhole sample stamped before an
 * outage once made a window wholly inside the outage report a depth).
 */
export class WindowBuckets<B> {
  private curW: Window | undefined;
  private curB: B | undefined;
  /** Closed windows waiting for finalisation, oldest first (usually one; more if a clock jump closed a window during another's grace period). */
  private closing: { w: Window; b: B }[] = [];
  /** Events stamped at or after the current window's end, delivered before its rotation. */
  private nextB: B | undefined;
  /** Events stamped before every open window (delivered after their window was finalised). */
  late = 0;

  constructor(private readonly make: (w: Window) => B) {}

  /** Start with the first window. */
  open(w: Window): void {
    this.curW = w;
    this.curB = this.make(w);
  }

  rotate(closing: Window, opening: Window): void {
    if (this.curW === closing) this.closing.push({ w: closing, b: this.curB! });
    else this.closing.push({ w: closing, b: this.make(closing) }); // first rotation without open()
    this.curW = opening;
    this.curB = this.nextB ?? this.make(opening);
    this.nextB = undefined;
  }

  /**
   * The bucket an event stamped `tNs` belongs to. Undefined for a late event (its window was already
   * published; counted in `late`) and before the first window opened (the device is still starting).
   */
  at(tNs: number): B | undefined {
    const cur = this.curW;
    if (!cur) return undefined;
    if (tNs >= cur.startNs) {
      if (tNs < cur.endNs) return this.curB!;
      // the boundary timer has not run yet: hold it for the next window
      if (this.nextB === undefined) this.nextB = this.make({ ...cur, startNs: cur.endNs, index: cur.index + 1 });
      return this.nextB;
    }
    for (let i = this.closing.length - 1; i >= 0; i--) {
      const c = this.closing[i]!;
      if (tNs >= c.w.startNs) return c.b;
    }
    this.late++;
    return undefined;
  }

  /** Visit each open window with its bucket (closing ones first, oldest first). */
  forEachOpen(fn: (w: Window, b: B) => void): void {
    for (const c of this.closing) fn(c.w, c.b);
    if (this.curW) fn(this.curW, this.curB!);
  }

  /** The window now taking events, and its bucket (for a checkpoint: do not change it). */
  current(): { w: Window; b: B } | undefined {
    return this.curW === undefined ? undefined : { w: this.curW, b: this.curB! };
  }

  /** Hand over the closed window's bucket and forget it. */
  take(closed: Window): B | undefined {
    const i = this.closing.findIndex((c) => c.w === closed);
    if (i >= 0) return this.closing.splice(i, 1)[0]!.b;
    if (this.curW === closed) {
      // stop(): the current window is closed without a rotation
      const b = this.curB;
      this.curW = undefined;
      this.curB = undefined;
      return b;
    }
    return undefined;
  }
}

/** Length of the overlap of [from, to) with a window, ns. */
export function overlapNs(w: Window, from: number, to: number): number {
  const a = Math.max(from, w.startNs);
  const b = Math.min(to, w.endNs);
  return b > a ? b - a : 0;
}
