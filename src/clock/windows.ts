import type { Clock, TimerHandle } from "./clock.js";
import { NS_PER_MS } from "./clock.js";

/**
 * One aggregation window. Windows are aligned to wall-clock boundaries (a 60 s window starts at :00)
 * but bounded in monotonic time: events are assigned by their monotonic stamp, so a wall-clock jump
 * can neither lose nor double-count one (DESIGN.md "Time").
 */
export interface Window {
  /** Nominal length in seconds (divides an hour). */
  readonly lengthS: number;
  /** Monotonic start, ns (inclusive). */
  readonly startNs: number;
  /** Monotonic end, ns (exclusive). Final once the window is closed. */
  endNs: number;
  /** Wall time of the start, ms since epoch, as published (`bt`). */
  readonly startWallMs: number;
  /** Wall time of the aligned boundary that ends the window, ms since epoch. */
  readonly endWallMs: number;
  /** Running number of this window within its scheduler (0 = first since start). */
  readonly index: number;
  /** Set when the window is shorter than nominal: the device started or stopped inside it. */
  partial: boolean;
  /** Set when a wall-clock jump closed this window early or opened it. */
  clockJump: boolean;
  /** Wall time was synchronised for the whole window. */
  synced: boolean;
  /** Longer than configured: the monthly byte budget widened it (publish/budget.ts); `lengthS` is the widened length. */
  widened?: boolean;
}

/** Observed window length in seconds (differs from nominal for partial or jump-closed windows). */
export function observedSeconds(w: Window): number {
  return (w.endNs - w.startNs) / 1e9;
}

/** Start of the aligned window containing `wallMs`. */
export function alignedStart(wallMs: number, lengthS: number): number {
  const l = lengthS * 1000;
  return Math.floor(wallMs / l) * l;
}

/** The first aligned boundary strictly after `wallMs`. */
export function nextBoundary(wallMs: number, lengthS: number): number {
  return alignedStart(wallMs, lengthS) + lengthS * 1000;
}

/** Receives window life-cycle calls from a `WindowScheduler`. */
export interface WindowListener {
  /** The scheduler started: `first` is the window now open (partial). */
  open?(first: Window): void;
  /**
   * At the boundary: `closing` stops taking new events whose stamp is ≥ `opening.startNs`; events
   * stamped earlier still arrive during the grace period and belong to `closing`.
   */
  rotate(closing: Window, opening: Window): void;
  /** After the grace period: produce the closing window's summary. `nowNs` is the current instant. */
  finalize(closed: Window, nowNs: number): void;
}

/** Fires `tick()` at (or just after) every wall-clock boundary of a window length. */
export interface Ticker {
  start(lengthS: number, tick: () => void): void;
  stop(): void;
}

export interface WindowSchedulerOptions {
  clock: Clock;
  lengthS: number;
  /**
   * Calls `tick` at boundaries. Default: none besides the scheduler's own clock timer, which is
   * exact in virtual time. In real time the runtime passes a node-cron ticker.
   */
  ticker?: Ticker;
  /**
   * Time after a boundary before a window is finalised, so that events stamped before the boundary
   * but delivered later (debounce filters, pipe latency) still count in it. Default 500 ms: above
   * the longest glitch filter (≤ 250 ms) plus gpiomon pipe latency.
   */
  graceMs?: number;
}

/**
 * Opens and closes aligned windows of one length and tells its listeners. Wall jumps close the
 * current window early (flagged `clockJump`) and realign the next one to the new wall time.
 */
export class WindowScheduler {
  readonly lengthS: number;
  private readonly clock: Clock;
  private readonly ticker: Ticker | undefined;
  private readonly graceNs: number;
  private readonly listeners: WindowListener[] = [];
  private cur: Window | undefined;
  private pending = new Map<Window, TimerHandle>();
  private boundaryTimer: TimerHandle | undefined;
  private unJump: (() => void) | undefined;
  private index = 0;
  /** Wider lengths to open at boundaries aligned to them, longest first (the byte budget's widening; empty: none). */
  private widths: number[] = [];

  constructor(opts: WindowSchedulerOptions) {
    this.clock = opts.clock;
    this.lengthS = opts.lengthS;
    this.ticker = opts.ticker;
    this.graceNs = (opts.graceMs ?? 500) * NS_PER_MS;
  }

  /**
   * Open windows of the last of `lengthsS` (each a multiple of the configured length that divides an
   * hour, ascending) from the next boundary aligned to it; until then windows of the longest of them
   * that the boundary is aligned to, else the configured length, so every window stays aligned and
   * measures are computed over the whole longer window. `[]` returns to the configured length at the
   * end of the window now open.
   */
  widen(lengthsS: readonly number[]): void {
    for (const l of lengthsS) {
      if (!Number.isInteger(l / this.lengthS) || 3600 % l !== 0) {
        throw new RangeError(`cannot widen ${this.lengthS}s windows to ${l}s: use a multiple of ${this.lengthS}s that divides an hour`);
      }
    }
    this.widths = [...lengthsS].sort((a, b) => b - a);
  }

  /** The length windows are widened to (the configured length when not widened). */
  get widenedS(): number {
    return this.widths[0] ?? this.lengthS;
  }

  /** The longest widened length whose windows can start at `wallMs`, else the configured one. */
  private lengthAt(wallMs: number): number {
    return this.widths.find((l) => wallMs % (l * 1000) === 0) ?? this.lengthS;
  }

  add(listener: WindowListener): void {
    this.listeners.push(listener);
  }

  /** The window now taking events. */
  current(): Window | undefined {
    return this.cur;
  }

  /** Open the first window (partial: the device started inside it). Returns it. */
  start(): Window {
    const now = this.clock.monoNs();
    this.cur = this.open(now, false);
    for (const l of this.listeners) l.open?.(this.cur);
    this.unJump = this.clock.onJump((_d, at) => this.onJump(at));
    this.ticker?.start(this.lengthS, () => this.tick());
    this.armBoundary();
    return this.cur;
  }

  /**
   * Close the current window now (partial), finalise every open window at once, and stop. A window
   * that a boundary opened at this very instant (the run ended exactly on a boundary) covers no
   * time, [end, end), so no event belongs to it: it is dropped, not published empty (it would use
   * up a sequence number and tell subscribers of an observation that never happened).
   */
  stop(): void {
    this.ticker?.stop();
    this.unJump?.();
    if (this.boundaryTimer) this.clock.clearTimer(this.boundaryTimer);
    const now = this.clock.monoNs();
    if (this.cur) {
      const closing = this.cur;
      closing.endNs = Math.max(now, closing.startNs);
      closing.partial = true;
      this.cur = undefined;
      for (const [w, t] of this.pending) {
        this.clock.clearTimer(t);
        this.finalize(w);
      }
      this.pending.clear();
      // the first window is always published, even empty: it is the device's only report of a run
      if (closing.endNs > closing.startNs || closing.index === 0) this.finalize(closing);
    }
  }

  /** Close every window whose end has been reached. Called by tickers and by the boundary timer. */
  tick(): void {
    const now = this.clock.monoNs();
    // 250 ms of tolerance: a cron tick may fire a little before the mono-mapped boundary.
    while (this.cur && now >= this.cur.endNs - 250 * NS_PER_MS) {
      this.rotate(this.cur.endNs, false);
    }
    this.armBoundary();
  }

  private onJump(atNs: number): void {
    if (!this.cur) return;
    // the ticker starts again from the new wall time: node-cron's runner, at its next beat, would
    // otherwise walk every boundary the step skipped (an NTP step of a year at 10 s windows: millions),
    // blocking the event loop until the systemd watchdog restarts the process
    if (this.ticker) {
      this.ticker.stop();
      this.ticker.start(this.lengthS, () => this.tick());
    }
    this.rotate(Math.max(atNs, this.cur.startNs), true);
    this.armBoundary();
  }

  /**
   * Open a window at `startNs`. After a regular boundary the wall start is the previous window's
   * aligned end (exact); otherwise it is mapped from the clock, and a boundary less than 1 ms away
   * (float rounding of the mono↔wall mapping) counts as reached.
   */
  private open(startNs: number, clockJump: boolean, alignedWall?: number): Window {
    const mapped = this.clock.toWallMs(startNs);
    const startWall = alignedWall ?? mapped;
    // widened windows start only at a regular boundary; a start or a clock jump opens a configured one
    const lengthS = alignedWall !== undefined ? this.lengthAt(alignedWall) : this.lengthS;
    const endWall = alignedWall !== undefined ? alignedWall + lengthS * 1000 : nextBoundary(mapped + 1, this.lengthS);
    const aligned = alignedWall !== undefined || alignedStart(mapped, this.lengthS) === mapped;
    return {
      lengthS,
      ...(lengthS > this.lengthS ? { widened: true } : {}),
      startNs,
      endNs: this.clock.toMonoNs(endWall),
      startWallMs: startWall,
      endWallMs: endWall,
      index: this.index++,
      partial: clockJump || !aligned,
      clockJump,
      synced: this.clock.synced,
    };
  }

  private rotate(atNs: number, jump: boolean): void {
    const closing = this.cur!;
    closing.endNs = atNs;
    if (jump) {
      closing.clockJump = true;
      closing.partial = true;
    }
    closing.synced = closing.synced && this.clock.synced;
    const opening = jump ? this.open(atNs, true) : this.open(atNs, false, closing.endWallMs);
    this.cur = opening;
    for (const l of this.listeners) l.rotate(closing, opening);
    const t = this.clock.setTimer(atNs + this.graceNs, () => {
      this.pending.delete(closing);
      this.finalize(closing);
    });
    this.pending.set(closing, t);
  }

  private finalize(w: Window): void {
    const now = this.clock.monoNs();
    for (const l of this.listeners) l.finalize(w, now);
  }

  /** A clock timer at the boundary: exact in virtual time; a safety net behind cron in real time. */
  private armBoundary(): void {
    if (this.boundaryTimer) this.clock.clearTimer(this.boundaryTimer);
    if (!this.cur) return;
    const slack = this.ticker ? 1000 * NS_PER_MS : 0;
    this.boundaryTimer = this.clock.setTimer(
      this.cur.endNs + slack,
      () => {
        this.boundaryTimer = undefined;
        this.tick();
      },
      // rotate before any signal due at the same instant: windows are [start, end)
      { priority: "boundary" },
    );
  }
}
