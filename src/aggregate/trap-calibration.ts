import type { LoopDriver } from "../sensors/loop.js";
import { TrapLatencyEstimator } from "../sensors/trap-latency.js";
import type { Alarm } from "./alarm.js";
import type { Measure } from "./summary.js";

/** An estimate is applied (calibration: auto) only once it is this sure, ms (1 σ). */
export const APPLY_MAX_SE_MS = 1.5;
/** …from at least this many cars. */
export const APPLY_MIN_CARS = 300;
/** Larger differences are never applied: no card is that slow; the loops are miswired or one is failing. */
export const APPLY_MAX_MS = 60;

export interface TrapCalibrationOptions {
  detector: string;
  /** Downstream input name (the correction is applied to it). */
  downstream: string;
  spacingM: number;
  loopLengthM: number;
  mode: "report" | "auto";
  alarmMs: number;
  alarm?: (a: Alarm) => void;
}

/**
 * Automatic latency calibration of one speed trap (docs/traffic.md "Calibration"): feeds every
 * measured car to a `TrapLatencyEstimator`, reports the estimate, applies it to the downstream
 * loop's latency when the config says `calibration: auto`, and alarms when the loops disagree by
 * more than the bound after every correction.
 */
export class TrapCalibration {
  readonly estimator: TrapLatencyEstimator;
  /** Correction applied on top of the configured latencies, ns (auto only). */
  appliedNs = 0;
  private baseNs = 0;
  private alarmed = false;
  private driver: LoopDriver | undefined;

  constructor(private readonly o: TrapCalibrationOptions) {
    this.estimator = new TrapLatencyEstimator({ spacingM: o.spacingM, loopLengthM: o.loopLengthM });
  }

  attach(driver: LoopDriver): void {
    this.driver = driver;
    this.baseNs = driver.latencyNs(1);
  }

  /** A measured trap vehicle (speed after every correction in force, m/s; length, m). */
  vehicle(speedMs: number, lengthM: number): void {
    if (!(speedMs > 0) || Number.isNaN(lengthM)) return;
    const transitNs = (this.o.spacingM / speedMs) * 1e9 + this.appliedNs;
    const onNs = ((lengthM + this.o.loopLengthM) / speedMs) * 1e9;
    this.estimator.add(transitNs, onNs);
  }

  /** At a window's end: apply (auto) and judge the alarm. `idle`: no loop holds a presence now. */
  review(tNs: number, idle: boolean): void {
    const e = this.estimator.estimate();
    if (Number.isNaN(e.seMs)) return;
    const enough = e.n >= APPLY_MIN_CARS;
    const sure = enough && e.seMs <= APPLY_MAX_SE_MS;
    // not yet sure but clearly not zero: apply the estimate shrunk towards 0 by its uncertainty
    // (δ̂·(1 − se²/δ̂²), the least-squares shrinkage), so a large difference is mostly corrected
    // within the first hour and a small one is not replaced by noise
    const significant = enough && Math.abs(e.deltaMs) >= 2 * e.seMs;
    if (this.o.mode === "auto" && (sure || significant) && idle && Math.abs(e.deltaMs) <= APPLY_MAX_MS && this.driver) {
      const ms = sure ? e.deltaMs : e.deltaMs * (1 - (e.seMs * e.seMs) / (e.deltaMs * e.deltaMs));
      const target = Math.round(ms * 1e4) * 100; // 0.1 µs steps
      if (Math.abs(target - this.appliedNs) >= 0.1e6) {
        this.appliedNs = target;
        this.driver.setLatencyNs(1, this.baseNs + target);
      }
    }
    const residual = e.deltaMs - this.appliedNs / 1e6;
    // above the bound, and clearly not zero (three standard errors)
    const over = Math.abs(residual) > this.o.alarmMs && Math.abs(residual) > 3 * e.seMs;
    // from as many cars as an applied estimate needs: with ~100 the standard error is itself too
    // uncertain, and a fleet of healthy traps raised false alarms (seen: 77 ± 19 ms from 104 cars)
    if (over && !this.alarmed && enough) {
      this.alarmed = true;
      this.o.alarm?.({
        source: this.o.detector,
        kind: "trap-latency",
        state: "start",
        tNs,
        message: `${this.o.detector}: the downstream loop (${this.o.downstream}) reports ${residual.toFixed(1)} ± ${e.seMs.toFixed(1)} ms later than the upstream one after the configured corrections; speeds are biased by about ${(-residual / 2.4).toFixed(1)} % at 90 km/h. Check whether a card was replaced or the loops are wired to the wrong inputs; then set inputs.${this.o.downstream}.latencyMs, run roadside calibrate, or set calibration: auto`,
        measures: this.measures(),
      });
    } else if (this.alarmed && Math.abs(residual) <= this.o.alarmMs) {
      this.alarmed = false;
      this.o.alarm?.({ source: this.o.detector, kind: "trap-latency", state: "end", tNs, measures: this.measures() });
    }
  }

  /** Summary quality and alarm measures: the estimate (relative to the configured latencies) and what is applied. */
  measures(): Measure[] {
    const e = this.estimator.estimate();
    const out: Measure[] = [];
    if (!Number.isNaN(e.deltaMs)) {
      out.push(
        { n: "quality.latencyDiff", u: "s", v: Math.round(e.deltaMs * 100) / 1e5 },
        { n: "quality.latencySe", u: "s", v: Math.round(e.seMs * 100) / 1e5 },
      );
    }
    out.push({ n: "quality.latencyApplied", u: "s", v: Math.round(this.appliedNs / 1e4) / 1e5 });
    return out;
  }

  health(): Record<string, number | string | null> {
    const e = this.estimator.estimate();
    const r = (x: number) => (!Number.isNaN(x) ? Math.round(x * 100) / 100 : null);
    return {
      calibration: this.o.mode,
      latencyDiffMs: r(e.deltaMs),
      latencySeMs: r(e.seMs),
      latencyCars: Math.round(e.n),
      latencyAppliedMs: r(this.appliedNs / 1e6),
    };
  }
}
