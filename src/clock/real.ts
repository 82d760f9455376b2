import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import type { Clock, TimerHandle } from "./clock.js";
import { NS_PER_MS } from "./clock.js";

export interface RealClockOptions {
  /**
   * Tells whether wall time is trustworthy. Default: systemd-timesyncd's flag file
   * `/run/systemd/timesync/synchronized` exists (Raspberry Pi OS uses timesyncd), or the kernel's
   * NTP-synchronised state as `timedatectl` reports it (covers chrony and ntpd too), refreshed in
   * the background once a minute; false when neither can tell.
   */
  syncProbe?: () => boolean;
  /**
   * A change of the wall−monotonic offset larger than this is a jump. Default 1000 ms: NTP slews
   * small errors gradually, so only steps (boot-time sync on a Pi without RTC) exceed it.
   */
  jumpThresholdMs?: number;
  /** How often the offset is checked. Default 1000 ms. */
  checkIntervalMs?: number;
}

interface RealTimer extends TimerHandle {
  t: NodeJS.Timeout;
}

const TIMESYNC_FLAG = "/run/systemd/timesync/synchronized";
/** The longest delay setTimeout honours (a signed 32-bit millisecond count). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Production clock. Monotonic time is `process.hrtime`, which on Linux is CLOCK_MONOTONIC: the same
 * time base as the kernel's GPIO edge timestamps (gpiomon), so hardware stamps and `monoNs()` compare
 * directly. Wall time is `Date.now()`.
 */
export class RealClock implements Clock {
  private readonly probe: () => boolean;
  private readonly threshold: number;
  private readonly interval: number;
  private lastOffset: number;
  private checker: NodeJS.Timeout | undefined;
  private listeners = new Set<(deltaMs: number, atNs: number) => void>();
  private cachedSynced: boolean | undefined;

  constructor(opts: RealClockOptions = {}) {
    this.probe = opts.syncProbe ?? (() => existsSync(TIMESYNC_FLAG) || this.kernelSynced);
    this.threshold = opts.jumpThresholdMs ?? 1000;
    this.interval = opts.checkIntervalMs ?? 1000;
    this.lastOffset = this.offset();
  }

  monoNs(): number {
    return Number(process.hrtime.bigint());
  }
  wallMs(): number {
    return Date.now();
  }
  toWallMs(monoNs: number): number {
    return monoNs / NS_PER_MS + this.lastOffset;
  }
  toMonoNs(wallMs: number): number {
    return (wallMs - this.lastOffset) * NS_PER_MS;
  }
  /** Last answer of `timedatectl show -p NTPSynchronized` (async, so reading `synced` never blocks). */
  private kernelSynced = false;
  private lastTimedatectl = -Infinity;

  private refreshKernelSync(): void {
    const now = Date.now();
    if (now - this.lastTimedatectl < 60_000) return;
    this.lastTimedatectl = now;
    execFile("timedatectl", ["show", "-p", "NTPSynchronized", "--value"], { timeout: 2000 }, (err, stdout) => {
      const was = this.kernelSynced;
      this.kernelSynced = !err && stdout.trim() === "yes";
      if (was !== this.kernelSynced) this.cachedSynced = undefined;
    });
  }

  get synced(): boolean {
    this.refreshKernelSync();
    if (this.cachedSynced === undefined || !this.cachedSynced) this.cachedSynced = this.probe();
    return this.cachedSynced;
  }

  /**
   * Timers of any length. Node's setTimeout takes at most 2³¹−1 ms (24.8 days) and fires a longer
   * delay after 1 ms, so a long one is waited out in chunks, each re-measured against the monotonic
   * clock (`run -d 30d` once exited after 0.4 s).
   */
  setTimer(atNs: number, fn: () => void): TimerHandle {
    const handle = { atNs } as RealTimer;
    const arm = (): void => {
      const delayMs = Math.max(0, (atNs - this.monoNs()) / NS_PER_MS);
      handle.t = delayMs > MAX_TIMEOUT_MS ? setTimeout(arm, MAX_TIMEOUT_MS) : setTimeout(fn, delayMs);
    };
    arm();
    return handle;
  }
  clearTimer(handle: TimerHandle): void {
    clearTimeout((handle as RealTimer).t);
  }

  onJump(listener: (deltaMs: number, atNs: number) => void): () => void {
    this.listeners.add(listener);
    if (!this.checker) {
      this.checker = setInterval(() => this.check(), this.interval);
      this.checker.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.checker) {
        clearInterval(this.checker);
        this.checker = undefined;
      }
    };
  }

  /** Compare the wall−monotonic offset with the last one; report a step larger than the threshold. */
  check(): void {
    const off = this.offset();
    const delta = off - this.lastOffset;
    if (Math.abs(delta) > this.threshold) {
      this.lastOffset = off;
      this.cachedSynced = undefined;
      const at = this.monoNs();
      for (const l of [...this.listeners]) l(delta, at);
    } else {
      // follow slow NTP slewing so toWallMs stays within the threshold
      this.lastOffset = off;
    }
  }

  private offset(): number {
    return Date.now() - Number(process.hrtime.bigint()) / NS_PER_MS;
  }
}
