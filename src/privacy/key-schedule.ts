import type { Clock, TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import { WindowKey } from "./window-key.js";

export interface KeyScheduleOptions {
  clock: Clock;
  /** No key lives longer than this, s. */
  maxLifetimeS: number;
  /** Makes keys; default `new WindowKey()` (node:crypto). Tests pass a factory that records them. */
  keys?: () => WindowKey;
  /**
   * The watchdog fired: the key reached `maxLifetimeS` without a window end (a stalled scheduler).
   * The gate closes its counting segment (zeroing the key); if it does not, the schedule does
   * right after. The next identifier gets a new key.
   */
  onExpired: () => void;
}

/**
 * The key of the open window. Made when the first identifier of a window arrives (no key exists
 * while nothing is counted), zeroed by the gate at every window end; a watchdog on the clock zeroes
 * it anyway when it reaches the maximum lifetime, so no key outlives the configured maximum
 * whatever happens to window scheduling.
 */
export class KeySchedule {
  private key: WindowKey | undefined;
  private watchdog: TimerHandle | undefined;
  private readonly make: () => WindowKey;
  /** Keys replaced by the watchdog since start. */
  expired = 0;

  constructor(private readonly opts: KeyScheduleOptions) {
    if (!(opts.maxLifetimeS > 0)) throw new RangeError(`maximum key lifetime must be positive; got ${opts.maxLifetimeS}`);
    this.make = opts.keys ?? (() => new WindowKey());
  }

  /** The live key, made on first use. */
  current(): WindowKey {
    return this.key ?? this.create();
  }

  get live(): boolean {
    return this.key !== undefined;
  }

  private create(): WindowKey {
    const key = this.make();
    this.key = key;
    this.watchdog = this.opts.clock.setTimer(this.opts.clock.monoNs() + this.opts.maxLifetimeS * NS_PER_S, () => {
      if (this.key !== key) return;
      this.watchdog = undefined;
      this.expired++;
      this.opts.onExpired();
      this.destroy();
    });
    return key;
  }

  /** Zero the current key (if any) and disarm the watchdog; the next `current()` makes a new key. */
  destroy(): void {
    if (this.watchdog) this.opts.clock.clearTimer(this.watchdog);
    this.watchdog = undefined;
    this.key?.destroy();
    this.key = undefined;
  }
}
