import type { VirtualClock } from "../clock/virtual.js";
import { yieldToEventLoop } from "../clock/virtual.js";
import { NS_PER_MS } from "../clock/clock.js";

/** How fast virtual time runs: as fast as the machine allows, or a multiple of real time. */
export type Speed = "max" | number;

/** `max`, or a positive number (`1` real time, `60` a minute per second). Undefined when invalid. */
export function parseSpeed(text: string): Speed | undefined {
  if (text === "max") return "max";
  const n = Number(text.replace(/x$/i, ""));
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export interface RunVirtualOptions {
  speed: Speed;
  /** Called at most every `progressEveryMs` of real time (default 250 ms), and once at the end. */
  onProgress?: (nowNs: number) => void;
  progressEveryMs?: number;
  /** Timers between yields to the event loop at max speed (MQTT and streams need turns). Default 2000. */
  yieldEvery?: number;
}

/**
 * Run virtual time up to `untilNs`. At `max` speed timers fire back to back, yielding to the event
 * loop every few thousand so sockets and streams keep up; at a multiple N, virtual time is held to
 * N × the real time elapsed.
 */
export async function runVirtual(clock: VirtualClock, untilNs: number, opts: RunVirtualOptions): Promise<void> {
  const every = opts.progressEveryMs ?? 250;
  let last = Date.now();
  const progress = (): void => {
    const now = Date.now();
    if (now - last < every) return;
    last = now;
    opts.onProgress?.(clock.monoNs());
  };
  if (opts.speed === "max") {
    await clock.runUntil(untilNs, {
      yieldEvery: opts.yieldEvery ?? 2000,
      onYield: async () => {
        progress();
        await yieldToEventLoop();
      },
    });
  } else {
    const speed = opts.speed;
    const realStart = Date.now();
    const virtStart = clock.monoNs();
    for (;;) {
      const target = Math.min(untilNs, virtStart + (Date.now() - realStart) * NS_PER_MS * speed);
      await clock.runUntil(target, { yieldEvery: opts.yieldEvery ?? 2000 });
      progress();
      if (target >= untilNs) break;
      // sleep until the next timer is due in real time (at most 50 ms, to stay responsive)
      const next = clock.nextTimerNs() ?? untilNs;
      const waitMs = Math.max(1, Math.min(50, (Math.min(next, untilNs) - clock.monoNs()) / NS_PER_MS / speed));
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
  opts.onProgress?.(clock.monoNs());
}
