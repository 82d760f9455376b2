import type { Clock, TimerHandle, TimerPriority } from "./clock.js";
import { NS_PER_MS } from "./clock.js";

interface VTimer extends TimerHandle {
  readonly atNs: number;
  /** 0 wall steps, 1 window boundaries, 2 the rest: breaks ties before `order`. */
  readonly rank: number;
  readonly order: number;
  fn: (() => void) | null;
}

export interface VirtualClockOptions {
  /** Wall time at monotonic 0, ms since epoch. Default 2026-01-05T00:00:00Z, a Monday. */
  startWallMs?: number;
  /** Initial monotonic time in ns. Default 0. */
  startMonoNs?: number;
  /** Whether wall time counts as NTP-synchronised. Default true. */
  synced?: boolean;
}

/**
 * A clock that moves only when told to. Simulations and tests run a day in seconds with it, and
 * every run is exactly repeatable. Timers fire in time order (then by priority, then in the order they were set)
 * while `advanceTo` / `runUntil` move time forward; time is set to each timer's instant before it
 * fires, so a timer reading `monoNs()` sees its own time.
 */
export class VirtualClock implements Clock {
  private mono: number;
  private offsetMs: number;
  private heap: VTimer[] = [];
  private seq = 0;
  private jumpListeners = new Set<(deltaMs: number, atNs: number) => void>();
  synced: boolean;

  constructor(opts: VirtualClockOptions = {}) {
    this.mono = opts.startMonoNs ?? 0;
    const startWall = opts.startWallMs ?? Date.UTC(2026, 0, 5, 0, 0, 0);
    this.offsetMs = startWall - this.mono / NS_PER_MS;
    this.synced = opts.synced ?? true;
  }

  monoNs(): number {
    return this.mono;
  }
  wallMs(): number {
    return this.mono / NS_PER_MS + this.offsetMs;
  }
  toWallMs(monoNs: number): number {
    return monoNs / NS_PER_MS + this.offsetMs;
  }
  toMonoNs(wallMs: number): number {
    return (wallMs - this.offsetMs) * NS_PER_MS;
  }

  setTimer(atNs: number, fn: () => void, opts?: { priority?: TimerPriority }): TimerHandle {
    const rank = opts?.priority === "wall" ? 0 : opts?.priority === "boundary" ? 1 : 2;
    const t: VTimer = { atNs: Math.max(atNs, this.mono), rank, order: this.seq++, fn };
    this.push(t);
    return t;
  }
  clearTimer(handle: TimerHandle): void {
    (handle as VTimer).fn = null;
  }
  onJump(listener: (deltaMs: number, atNs: number) => void): () => void {
    this.jumpListeners.add(listener);
    return () => this.jumpListeners.delete(listener);
  }

  /** Step the wall clock by `deltaMs` (an NTP sync, a fake-hwclock restore). Monotonic time is untouched. */
  jumpWall(deltaMs: number, synced = true): void {
    this.offsetMs += deltaMs;
    this.synced = synced;
    for (const l of [...this.jumpListeners]) l(deltaMs, this.mono);
  }

  /** Monotonic instant of the next pending timer, or undefined. */
  nextTimerNs(): number | undefined {
    this.prune();
    return this.heap[0]?.atNs;
  }

  /** Pending timers (cancelled ones excluded). */
  pendingTimers(): number {
    let n = 0;
    for (const t of this.heap) if (t.fn) n++;
    return n;
  }

  /**
   * Move time to `targetNs`, firing every timer due on the way, in order. Timers set while firing
   * also fire if due. Synchronous: for work that must await I/O between timers use `runUntil`.
   */
  advanceTo(targetNs: number): void {
    for (;;) {
      const t = this.popDue(targetNs);
      if (!t) break;
      this.mono = t.atNs;
      const fn = t.fn;
      t.fn = null;
      fn?.();
    }
    if (targetNs > this.mono) this.mono = targetNs;
  }

  /** Advance by a duration in ns. */
  advanceBy(deltaNs: number): void {
    this.advanceTo(this.mono + deltaNs);
  }

  /**
   * Like `advanceTo`, but yields to the Node event loop every `yieldEvery` timers and whenever a
   * timer asks for it through `yieldSoon()`, so streams, sockets and promises settle between
   * virtual instants. Used by the simulator to run faster than real time.
   */
  async runUntil(targetNs: number, opts: { yieldEvery?: number; onYield?: () => Promise<void> | void } = {}): Promise<void> {
    const every = opts.yieldEvery ?? 2000;
    let n = 0;
    for (;;) {
      const t = this.popDue(targetNs);
      if (!t) break;
      this.mono = t.atNs;
      const fn = t.fn;
      t.fn = null;
      fn?.();
      if (++n >= every || this.wantYield) {
        n = 0;
        this.wantYield = false;
        await (opts.onYield ? opts.onYield() : yieldToEventLoop());
      }
    }
    if (targetNs > this.mono) this.mono = targetNs;
  }

  private wantYield = false;
  /** Ask `runUntil` to yield to the event loop after the current timer (e.g. after emitting serial bytes). */
  yieldSoon(): void {
    this.wantYield = true;
  }

  // --- binary heap ordered by (atNs, order) ---
  private less(a: VTimer, b: VTimer): boolean {
    return a.atNs < b.atNs || (a.atNs === b.atNs && (a.rank < b.rank || (a.rank === b.rank && a.order < b.order)));
  }
  private push(t: VTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const hp = h[p]!;
      if (!this.less(t, hp)) break;
      h[i] = hp;
      i = p;
    }
    h[i] = t;
  }
  private pop(): VTimer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && this.less(h[r]!, h[l]!) ? r : l;
        if (!this.less(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
  private prune(): void {
    while (this.heap.length > 0 && this.heap[0]!.fn === null) this.pop();
  }
  private popDue(targetNs: number): VTimer | undefined {
    this.prune();
    const top = this.heap[0];
    if (!top || top.atNs > targetNs) return undefined;
    return this.pop();
  }
}

/** Let pending I/O callbacks, stream pushes and promise continuations run. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
