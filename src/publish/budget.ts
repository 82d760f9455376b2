import type { AirtimeCount } from "../outbox/outbox.js";

/** Where the month's count is kept across restarts (the outbox's `meta` table). */
export interface BudgetStore {
  airtime?(): AirtimeCount | undefined;
  setAirtime?(count: AirtimeCount): void;
}

export interface BudgetOptions {
  monthlyBytes: number;
  /** Widening steps the device can take (the longest ladder of its widenable window lengths, less one). Default 0. */
  maxLevel?: number;
  /** Window lengths now in force, configured → widened target, s (for health). */
  windows?: () => Record<string, number>;
  /** Day of the month (1–28, UTC midnight) the plan's count starts again. */
  resetDay: number;
  /** Wall time now, ms. */
  wallMs: () => number;
  store: BudgetStore;
}

/** `ok`; `at-risk`: the month's projection exceeds the budget; `spent`: the month's count has reached it. */
export type BudgetState = "ok" | "at-risk" | "spent";

/** The budget in the health heartbeat (docs/payloads.md "Health"). */
export interface BudgetReport {
  monthlyBytes: number;
  /** Bytes counted since the plan's month began (or since the device first counted in it). */
  bytes: number;
  /** Bytes at the month's end if the rate since counting began holds; null in its first hour. */
  projectedBytes: number | null;
  state: BudgetState;
  /** Widening steps taken this month: 0 = windows as configured (docs/delivery.md "Monthly byte budget"). */
  widened: number;
  /** Routine window lengths, configured → now in force (from the next aligned boundary), s. */
  windows: Record<string, number>;
  /** Start of the plan's month, and when the next one starts (ISO 8601 UTC). */
  since: string;
  resets: string;
}

/** A projection from less than this much counting is noise (a connect's manifest alone looks like a month's data). */
const MIN_PROJECTION_MS = 3_600_000;

/**
 * The window lengths a configured length widens through, step by step: each the smallest multiple of
 * it that divides an hour and is at least 3× the one before, the hour last (5 min → 15 min → 1 h; 1 min → 3, 10, 30 min → 1 h).
 */
export function widenLadder(baseS: number): number[] {
  const out = [baseS];
  for (;;) {
    const last = out[out.length - 1]!;
    let next: number | undefined;
    for (let l = Math.ceil((3 * last) / baseS) * baseS; l <= 3600; l += baseS) {
      if (3600 % l === 0) {
        next = l;
        break;
      }
    }
    if (next === undefined && last < 3600) next = 3600; // the hour is the widest window
    if (next === undefined) return out;
    out.push(next);
  }
}

/** Start of the plan's month holding `ms`: the last UTC midnight of day `resetDay` at or before it. */
export function periodStart(ms: number, resetDay: number): number {
  const d = new Date(ms);
  let y = d.getUTCFullYear();
  let m = d.getUTCMonth();
  if (d.getUTCDate() < resetDay) m -= 1;
  if (m < 0) {
    m += 12;
    y -= 1;
  }
  return Date.UTC(y, m, resetDay);
}

/** Start of the plan's month after the one starting at `startMs`. */
export function nextPeriod(startMs: number, resetDay: number): number {
  const d = new Date(startMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, resetDay);
}

/**
 * The monthly byte budget (docs/delivery.md "Monthly byte budget"): counts the bytes the MQTT session
 * puts on the wire and takes off it, by the SIM plan's month, persisted with the outbox so a restart
 * or crash does not start the month over (a crash loses what was counted since the last window
 * commit). The count moves to a new month only forwards: a wall clock that is set back (a Pi without
 * RTC before NTP) keeps counting into the month already started.
 */
export class ByteBudget {
  private count: AirtimeCount;

  constructor(private readonly opts: BudgetOptions) {
    const now = opts.wallMs();
    const stored = opts.store.airtime?.();
    const period = periodStart(now, opts.resetDay);
    this.count = stored && stored.periodMs >= period ? { ...stored } : fresh(period, now);
  }

  /** Set how many widening steps there are (known once the features have made their windows). */
  setMaxLevel(maxLevel: number): void {
    this.opts.maxLevel = maxLevel;
  }

  /** Widening steps in force now. */
  level(): number {
    this.roll();
    return Math.min(this.count.level, this.opts.maxLevel ?? 0);
  }

  /**
   * The widening policy, evaluated at every window commit: one step wider when, at the rate since
   * the last step (measured over at least an hour), the month would end above the budget; every step
   * at once when the budget is spent. Never narrower within the month: the plan's next month starts
   * at the configured windows. Returns the steps in force.
   */
  evaluate(): number {
    this.roll();
    const c = this.count;
    const max = this.opts.maxLevel ?? 0;
    if (c.level >= max) return max;
    const now = this.opts.wallMs();
    if (c.bytes >= this.opts.monthlyBytes) return this.step(max, now);
    const since = now - c.stepMs;
    if (since < MIN_PROJECTION_MS) return c.level;
    const end = nextPeriod(c.periodMs, this.opts.resetDay);
    const projected = c.bytes + ((c.bytes - c.stepBytes) / since) * Math.max(0, end - now);
    return projected > this.opts.monthlyBytes ? this.step(c.level + 1, now) : c.level;
  }

  private step(level: number, now: number): number {
    this.count = { ...this.count, level, stepMs: now, stepBytes: this.count.bytes };
    this.opts.store.setAirtime?.(this.count);
    return level;
  }

  /** Bytes went over the wire. */
  add(bytes: number): void {
    if (!(bytes > 0)) return;
    this.roll();
    this.count.bytes += bytes;
    this.opts.store.setAirtime?.(this.count);
  }

  /** The month's count so far. */
  bytes(): number {
    this.roll();
    return this.count.bytes;
  }

  report(): BudgetReport {
    this.roll();
    const { periodMs, fromMs, bytes } = this.count;
    const now = this.opts.wallMs();
    const end = nextPeriod(periodMs, this.opts.resetDay);
    const counted = now - fromMs;
    const projected = counted >= MIN_PROJECTION_MS ? Math.round(bytes + (bytes / counted) * Math.max(0, end - now)) : null;
    const budget = this.opts.monthlyBytes;
    const state: BudgetState = bytes >= budget ? "spent" : projected !== null && projected > budget ? "at-risk" : "ok";
    return {
      monthlyBytes: budget,
      bytes,
      projectedBytes: projected,
      state,
      widened: this.level(),
      windows: this.opts.windows?.() ?? {},
      since: new Date(periodMs).toISOString(),
      resets: new Date(end).toISOString(),
    };
  }

  private roll(): void {
    const now = this.opts.wallMs();
    const period = periodStart(now, this.opts.resetDay);
    if (period <= this.count.periodMs) return;
    this.count = fresh(period, period);
    this.opts.store.setAirtime?.(this.count);
  }
}

function fresh(periodMs: number, fromMs: number): AirtimeCount {
  return { periodMs, fromMs, bytes: 0, level: 0, stepMs: fromMs, stepBytes: 0 };
}
