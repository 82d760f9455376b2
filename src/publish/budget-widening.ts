import type { WindowScheduler } from "../clock/index.js";
import type { Logger } from "../log/logger.js";
import { widenLadder } from "./budget.js";

/**
 * What the monthly byte budget (budget.ts) does to a device's windows: the window schedulers it may
 * widen, and the widening step in force (docs/delivery.md "Monthly byte budget").
 */
export class BudgetWidening {
  /** Window schedulers the budget may widen, by configured length. */
  private readonly widenable = new Map<number, WindowScheduler>();
  /** Widening steps applied to them (-1: none yet). */
  private level = -1;

  constructor(private readonly log: Logger) {}

  /**
   * Take the schedulers whose length is not in `fixed` (a window's key lifetime is a published
   * privacy parameter: identifier-derived streams, and streams sharing their window length, keep
   * their windows whatever the budget). Returns the highest step their ladders allow.
   */
  take(schedulers: ReadonlyMap<number, WindowScheduler>, fixed: ReadonlySet<number>): number {
    for (const [l, s] of schedulers) if (!fixed.has(l)) this.widenable.set(l, s);
    return Math.max(0, ...[...this.widenable.keys()].map((l) => widenLadder(l).length - 1));
  }

  /** Each widenable configured length (s) → the length in force from its next aligned boundary. */
  windows(): Record<string, number> {
    return Object.fromEntries([...this.widenable].map(([l, s]) => [String(l), s.widenedS]));
  }

  /** Widen the routine windows to `level` steps of their ladders, from each one's next aligned boundary. */
  apply(level: number): void {
    if (level === this.level) return;
    const before = this.level;
    this.level = level;
    const to: string[] = [];
    for (const [l, s] of this.widenable) {
      const steps = widenLadder(l).slice(1, level + 1);
      const target = steps.at(-1) ?? l;
      if (target !== s.widenedS) to.push(`${l}s → ${target}s`);
      s.widen(steps);
    }
    if (to.length === 0) return;
    if (level > before && before >= 0)
      this.log.warn(
        `the monthly byte budget would run out: routine windows widen from their next aligned boundary (${to.join(", ")}); alarms are not affected`,
      );
    else this.log.info(`byte budget: routine windows ${to.join(", ")}`);
  }
}
