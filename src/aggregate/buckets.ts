import type { Window } from "../clock/windows.js";

/**
 * The open windows of one aggregator: the current one, and the closed ones still in their grace
 * period. Events are routed by their monotonic stamp, so an event delivered late (after the
 * boundary, before finalisation) still lands in the window it happened in.
 */
export class WindowBuckets<B> {
  private curW: Window | undefined;
  private curB: B | undefined;
  /** Closed windows waiting for finalisation, oldest first (usually one; more if a clock jump closed a window during another's grace period). */
  private closing: { w: Window; b: B }[] = [];
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
    this.curB = this.make(opening);
  }

  /**
   * The bucket an event stamped `tNs` belongs to. Late events go to the current window and are
   * counted. Undefined before the first window opened (the device is still starting: nothing to count in).
   */
  at(tNs: number): B | undefined {
    if (!this.curW) return undefined;
    if (tNs >= this.curW.startNs) return this.curB!;
    for (let i = this.closing.length - 1; i >= 0; i--) {
      const c = this.closing[i]!;
      if (tNs >= c.w.startNs) return c.b;
    }
    this.late++;
    return this.curB;
  }

  /** Visit each open window with its bucket (closing ones first, oldest first). */
  forEachOpen(fn: (w: Window, b: B) => void): void {
    for (const c of this.closing) fn(c.w, c.b);
    if (this.curW) fn(this.curW, this.curB!);
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
  const a = from > w.startNs ? from : w.startNs;
  const b = to < w.endNs ? to : w.endNs;
  return b > a ? b - a : 0;
}
