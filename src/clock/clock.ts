/**
 * The one source of time for every component (DESIGN.md "Time").
 *
 * Two time lines:
 * - **monotonic** nanoseconds (`monoNs`), as a float64 `number`. It never jumps. Every signal is
 *   stamped on it; hardware backends use the kernel's CLOCK_MONOTONIC stamp of the edge. A float64
 *   holds integer nanoseconds exactly for 104 days of uptime and keeps 16 ns resolution after
 *   3 years, far below the 1 ms that matters for a speed trap (DOMAIN.md §1 "Timing accuracy").
 * - **wall** milliseconds since the Unix epoch (`wallMs`). It can jump (NTP sync after boot on a Pi
 *   with no RTC). It is only ever attached to data through `toWallMs`, with the `synced` flag.
 *
 * Implementations: `RealClock` (production) and `VirtualClock` (simulation and tests).
 */
export interface Clock {
  /** Monotonic time now, in nanoseconds. Never decreases. */
  monoNs(): number;
  /** Wall-clock time now, in ms since the Unix epoch. May jump; see `onJump`. */
  wallMs(): number;
  /** Map a monotonic instant to wall time using the current offset. */
  toWallMs(monoNs: number): number;
  /** Map a wall instant to monotonic time using the current offset. */
  toMonoNs(wallMs: number): number;
  /** True when wall time is known good (NTP synchronised, or set by a trusted source). */
  readonly synced: boolean;
  /**
   * Run `fn` once when monotonic time reaches `atNs` (or at once, asynchronously, if it is past).
   * Timers due at the same instant run by `priority`, then in the order they were set: `wall`
   * (steps of the wall clock, e.g. a simulated NTP sync), then `boundary` (window rotations), then
   * the rest. So a signal stamped exactly on a boundary always lands in the window that starts there,
   * and a wall step at a boundary closes that window once instead of rotating twice, whichever timer
   * was set first. (Exact in virtual time; real timers cannot be ordered that finely.)
   */
  setTimer(atNs: number, fn: () => void, opts?: { priority?: TimerPriority }): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /**
   * Listen for wall-clock jumps. `deltaMs` is the change of the wall−monotonic offset; `atNs` the
   * monotonic instant the jump was noticed. Returns an unsubscribe function.
   */
  onJump(listener: (deltaMs: number, atNs: number) => void): () => void;
}

/** Order of timers due at the same instant: see `Clock.setTimer`. */
export type TimerPriority = "wall" | "boundary";

/** Opaque handle of a timer set with `Clock.setTimer`. */
export interface TimerHandle {
  readonly atNs: number;
}

export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;

/** Seconds → nanoseconds. */
export function sToNs(s: number): number {
  return s * NS_PER_S;
}

/** Nanoseconds → seconds. */
export function nsToS(ns: number): number {
  return ns / NS_PER_S;
}
