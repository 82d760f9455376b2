import type { AirtimeCount } from "../outbox/outbox.js";

/** Where the month's count is kept across restarts (the outbox's `meta` table). */
export interface BudgetStore {
  airtime?(): AirtimeCount | undefined;
  setAirtime?(count: AirtimeCount): void;
}

export interface BudgetOptions {
  monthlyBytes: number;
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
  /** Start of the plan's month, and when the next one starts (ISO 8601 UTC). */
  since: string;
  resets: string;
}

/** A projection from less than this much counting is noise (a connect's manifest alone looks like a month's data). */
const MIN_PROJECTION_MS = 3_600_000;

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
    this.count = stored && stored.periodMs >= period ? { ...stored } : { periodMs: period, fromMs: now, bytes: 0 };
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
      since: new Date(periodMs).toISOString(),
      resets: new Date(end).toISOString(),
    };
  }

  private roll(): void {
    const now = this.opts.wallMs();
    const period = periodStart(now, this.opts.resetDay);
    if (period <= this.count.periodMs) return;
    this.count = { periodMs: period, fromMs: period, bytes: 0 };
    this.opts.store.setAirtime?.(this.count);
  }
}
