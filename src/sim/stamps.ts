import type { Clock, TimerHandle } from "../clock/clock.js";

/**
 * The simulated board's time stamper: the run's clock with `monoNs()` rounded to whole
 * microseconds, the resolution of signal traces (DESIGN.md "Signal trace format"). Backends stamp
 * edges and serial chunks with it, so a trace recorded from a simulated run holds every stamp
 * exactly and its replay reproduces the same summaries bit for bit. (1 µs is three orders of
 * magnitude below what matters for a speed trap: DOMAIN.md §1 "Timing accuracy".)
 */
export class MicrosecondStamps implements Clock {
  constructor(private readonly clock: Clock) {}

  monoNs(): number {
    return Math.round(this.clock.monoNs() / 1000) * 1000;
  }
  wallMs(): number {
    return this.clock.wallMs();
  }
  toWallMs(monoNs: number): number {
    return this.clock.toWallMs(monoNs);
  }
  toMonoNs(wallMs: number): number {
    return this.clock.toMonoNs(wallMs);
  }
  get synced(): boolean {
    return this.clock.synced;
  }
  setTimer(atNs: number, fn: () => void): TimerHandle {
    return this.clock.setTimer(atNs, fn);
  }
  clearTimer(handle: TimerHandle): void {
    this.clock.clearTimer(handle);
  }
  onJump(listener: (deltaMs: number, atNs: number) => void): () => void {
    return this.clock.onJump(listener);
  }
}
