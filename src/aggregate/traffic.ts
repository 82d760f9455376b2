import type { Window, WindowListener } from "../clock/windows.js";
import type { ResolvedDiagnostics } from "../config/sections/detectors.js";
import type { HealthSection } from "./health-section.js";
import type { Logger } from "../log/logger.js";
import type { LoopDriver, LoopListener } from "../sensors/loop.js";
import type { PassageListener } from "../sensors/loop-pairing.js";
import { TrapPairing } from "../sensors/loop-pairing.js";
import type { Alarm, AlarmSink } from "./alarm.js";
import type { Summary, SummarySink } from "./summary.js";
import { TrapCalibration } from "./trap-calibration.js";
import type { TrafficBucket } from "./traffic-bucket.js";
import { LaneWindows, overlap } from "./traffic-bucket.js";
import type { DetectorFault, DiagnosticsHost } from "./traffic-diagnostics.js";
import { DETECTOR_FAULTS, LaneDiagnostics } from "./traffic-diagnostics.js";
import type { LaneShape } from "./traffic-measures.js";
import { classIndex, trafficMeasures } from "./traffic-measures.js";

export interface TrafficAggregatorOptions extends LaneShape {
  detector: string;
  /** Input names of the loops, upstream first (for alarms and logs). */
  inputs: readonly string[];
  /** Speed traps: distance between the loops' leading edges, m. */
  spacingM: number;
  /** Loop length along the lane, m. */
  loopLengthM: number;
  diagnostics: ResolvedDiagnostics;
  /** Speed traps: latency calibration (docs/traffic.md "Calibration"). Default report, 10 ms. */
  calibration?: "report" | "auto";
  calibrationAlarmMs?: number;
  sink: SummarySink;
  alarm?: AlarmSink;
  logger?: Logger;
  /** Every measured trap vehicle as it completes (for tests and tools): speed NaN when invalid. */
  onPassage?: (tEndNs: number, speedMs: number, lengthM: number) => void;
}

/**
 * One lane: per-window traffic measures (DOMAIN.md §1), the pairing of a speed trap's loops, and the
 * detector diagnostics, fed by the lane's `LoopDriver`.
 *
 * Window membership: a vehicle counts in the window of its first detection (leading edge); on-time
 * is clipped to the window, so a vehicle spanning a boundary adds on-time to both and counts once;
 * headways and gaps belong to the window of the leading edge that ends them; a trap vehicle's speed
 * and length belong to the window in which its passage completed (trailing edge off the downstream
 * loop), because only then is it measured. A loop in fault is taken out: its on-time and vehicles
 * are not traffic, a trap counts on its healthy loop alone, and the window's quality says so.
 */
export class TrafficAggregator implements WindowListener, LoopListener, PassageListener, DiagnosticsHost {
  private readonly win: LaneWindows;
  private readonly n: number;
  private readonly pairing: TrapPairing | undefined;
  private readonly diag: LaneDiagnostics;
  private readonly cal: TrapCalibration | undefined;
  private readonly presence: boolean;
  private readonly heldNs: number;
  private driver: LoopDriver | undefined;
  private readonly onSince = [-1, -1];
  private readonly lastOn = [-1, -1];
  private readonly lastOff = [-1, -1];
  private readonly faultSince = [-1, -1];
  private readonly faultEnd = [-1, -1];
  private allFaultSince = -1;
  private lastGlitches = 0;
  private lastDropped = 0;
  private vehicles = 0;
  private wrongWays = 0;
  private unpairedTotal = 0;

  constructor(private readonly opts: TrafficAggregatorOptions) {
    this.n = opts.loops;
    this.presence = opts.mode === "presence";
    this.win = new LaneWindows(opts.classes.length);
    this.pairing = this.n === 2 && this.presence ? new TrapPairing(opts.spacingM, opts.loopLengthM, this) : undefined;
    this.diag = new LaneDiagnostics(this.n, this.presence, opts.diagnostics, this);
    this.cal =
      this.pairing !== undefined
        ? new TrapCalibration({
            detector: opts.detector,
            downstream: opts.inputs[1] ?? "downstream",
            spacingM: opts.spacingM,
            loopLengthM: opts.loopLengthM,
            mode: opts.calibration ?? "report",
            alarmMs: opts.calibrationAlarmMs ?? 10,
            ...(opts.alarm ? { alarm: opts.alarm } : {}),
          })
        : undefined;
    this.heldNs = opts.diagnostics.heldPresenceS * 1e9;
  }

  /** The driver whose pending changes must be settled before a window is finalised. */
  attach(driver: LoopDriver): void {
    this.driver = driver;
    this.cal?.attach(driver);
  }

  /** Start diagnostics at `nowNs` with the loops' levels as read when the inputs opened. */
  start(nowNs: number, levels: readonly number[]): void {
    this.diag.start(nowNs, levels);
    for (let k = 0; k < this.n; k++) this.onSince[k] = levels[k] === 1 && this.presence ? nowNs : -1;
  }

  // --- LoopListener: filtered transitions (hot path) ---

  on(loop: number, t: number): void {
    this.diag.on(loop, t);
    this.onSince[loop] = t;
    const healthy = this.faultSince[loop]! < 0;
    if (healthy) {
      const last = this.lastOn[loop]!;
      if (last >= 0) {
        const b = this.win.at(t);
        b.addHeadway(loop, t - last);
        if (this.presence && this.lastOff[loop]! >= last) b.addGap(loop, t - this.lastOff[loop]!);
      }
      this.lastOn[loop] = t;
    }
    if (this.pairing !== undefined) this.pairing.on(loop, t);
    else if (healthy) this.count(t);
  }

  off(loop: number, t: number): void {
    const since = this.onSince[loop]!;
    this.onSince[loop] = -1;
    this.diag.off(loop, t);
    if (this.faultSince[loop]! < 0 && since >= 0 && this.presence) {
      const end = this.faultEnd[loop]!;
      const from = Math.max(since, end);
      this.win.spread("onNs", loop, from, t);
    }
    this.lastOff[loop] = t;
    if (this.pairing !== undefined) this.pairing.off(loop, t);
  }

  // --- PassageListener: vehicles from the pairing ---

  count(t: number): void {
    this.win.at(t).volume++;
    this.vehicles++;
  }

  measured(tEnd: number, speedMs: number, lengthM: number): void {
    const b = this.win.at(tEnd);
    this.diag.paired(tEnd);
    if (!Number.isNaN(speedMs)) b.addSpeed(speedMs);
    if (!Number.isNaN(lengthM)) {
      b.lengthSum += lengthM;
      b.lengthN++;
      const c = classIndex(this.opts.classes, lengthM);
      if (c >= 0) b.classCounts[c]!++;
      this.cal?.vehicle(speedMs, lengthM);
    }
    this.opts.onPassage?.(tEnd, speedMs, lengthM);
  }

  unpaired(loop: number, t: number): void {
    this.win.at(t).unpaired++;
    this.unpairedTotal++;
    this.diag.unpaired(loop, t);
  }

  wrongWay(t: number, speedMs: number): void {
    this.win.at(t).wrongWay++;
    this.wrongWays++;
    const unit = this.opts.speedUnit;
    const v = Math.round(speedMs * (unit === "km/h" ? 3.6 : 1) * 10) / 10;
    this.opts.logger?.warn(`wrong-way vehicle on ${this.opts.detector} at about ${v} ${unit}`, { detector: this.opts.detector });
    this.opts.alarm?.({
      source: this.opts.detector,
      kind: "wrong-way",
      state: "event",
      tNs: t,
      message: `a vehicle crossed ${this.opts.detector} the wrong way (downstream loop first)`,
      measures: [{ n: "speed", u: unit, v }],
    });
  }

  // --- DiagnosticsHost ---

  loopFault(loop: number, inFault: boolean, since: number, now: number): void {
    const w = this.win;
    if (inFault) {
      this.faultSince[loop] = since;
      if (w.curB !== undefined) w.curB.faulted[loop] = 1;
      if (w.prev !== undefined && since < w.prev.endNs) w.prevB!.faulted[loop] = 1;
      let all = true;
      let latest = since;
      for (let k = 0; k < this.n; k++) {
        if (this.faultSince[k]! < 0) all = false;
        else if (this.faultSince[k]! > latest) latest = this.faultSince[k]!;
      }
      if (all) this.allFaultSince = latest;
    } else {
      const s = this.faultSince[loop]!;
      w.spread("faultNs", loop, s, now);
      if (this.allFaultSince >= 0) {
        w.spreadCountFault(this.allFaultSince, now);
        this.allFaultSince = -1;
      }
      this.faultSince[loop] = -1;
      this.faultEnd[loop] = now;
    }
    // headways and gaps never span a fault
    this.lastOn[loop] = -1;
    this.pairing?.setEnabled(loop, !inFault);
  }

  fault(loop: number, kind: DetectorFault, state: "start" | "end", tNs: number, now: number): void {
    const f = DETECTOR_FAULTS[kind];
    const input = this.opts.inputs[loop] ?? `loop ${loop}`;
    const d = this.opts.detector;
    const message =
      state === "start"
        ? `${input} (${d}): ${f.what}${f.disables ? "; its data is left out until it recovers" : ""}; ${f.check}`
        : `${input} (${d}): ${f.what} cleared`;
    if (state === "start") this.opts.logger?.warn(message, { detector: d, input, fault: kind, code: f.code });
    else this.opts.logger?.info(message, { detector: d, input, fault: kind });
    const alarm: Alarm = {
      source: d,
      kind: "detector-fault",
      state,
      tNs,
      code: f.code,
      message,
      measures: [
        { n: "input", vs: input },
        { n: "fault", vs: kind },
      ],
    };
    // always on a start, 0 included: subscribers read the record's presence, not a special case
    if (state === "start") alarm.measures!.push({ n: "delay", u: "s", v: Math.round(Math.max(0, now - tNs) / 1e6) / 1e3 });
    this.opts.alarm?.(alarm);
  }

  /** End of the run: settle the glitch filters and pairings, before the last windows are finalised. */
  end(nowNs: number): void {
    this.driver?.end();
    this.pairing?.poll(nowNs);
  }

  /** End of a 30 s diagnostics sample. */
  tick(nowNs: number): void {
    this.driver?.flush(nowNs);
    this.pairing?.poll(nowNs);
    this.diag.tick(nowNs);
  }

  // --- WindowListener ---

  open(w: Window): void {
    this.win.open(w);
  }

  rotate(closing: Window, opening: Window): void {
    this.win.rotate(closing, opening);
    for (let k = 0; k < this.n; k++) if (this.faultSince[k]! >= 0) this.win.curB!.faulted[k] = 1;
  }

  finalize(closed: Window, nowNs: number): void {
    this.driver?.flush(nowNs);
    this.pairing?.poll(nowNs);
    const b = this.win.take(closed);
    if (!b) return;
    this.addOngoing(b, closed);
    if (this.driver) {
      this.lastGlitches += b.glitches;
      this.lastDropped += b.dropped;
    }
    const measures = trafficMeasures(closed, b, this.opts);
    this.win.release(b);
    if (this.cal !== undefined) {
      measures.push(...this.cal.measures());
      this.cal.review(nowNs, this.onSince[0]! < 0 && this.onSince[1]! < 0);
    }
    this.opts.sink([{ kind: "traffic", name: this.opts.detector, window: closed, measures }]);
  }

  /**
   * Add to a window's bucket what is still going on at its end (on-time, fault time) and the driver's
   * glitches and lost edges since the last window; the aggregator's state is left as it was.
   */
  private addOngoing(b: TrafficBucket, w: Window): void {
    const end = w.endNs;
    for (let k = 0; k < this.n; k++) {
      const fs = this.faultSince[k]!;
      const since = this.onSince[k]!;
      if (fs >= 0) {
        b.faultNs[k]! += overlap(w, fs, end);
        b.faulted[k] = 1;
      } else if (since >= 0 && this.presence) {
        const fe = this.faultEnd[k]!;
        const from = Math.max(since, fe);
        // a presence held this long may be a loop locking on: not traffic until it ends
        if (end - since >= this.heldNs) b.heldNs[k]! += overlap(w, from, end);
        else b.onNs[k]! += overlap(w, from, end);
      }
    }
    if (this.allFaultSince >= 0) b.countFaultNs += overlap(w, this.allFaultSince, end);
    if (this.driver) {
      let g = 0;
      let d = 0;
      for (let k = 0; k < this.n; k++) {
        g += this.driver.glitches(k);
        d += this.driver.droppedEdges(k);
      }
      b.glitches = g - this.lastGlitches;
      b.dropped = d - this.lastDropped;
    }
  }

  /**
   * The summary of the open window as if it closed at `nowNs`, for a checkpoint
   * (aggregate/checkpoint.ts): the window, its bucket and the lane's state go on untouched.
   */
  peek(nowNs: number): Summary | undefined {
    const cur = this.win.cur;
    const src = this.win.curB;
    if (cur === undefined || src === undefined || nowNs <= cur.startNs) return undefined;
    this.driver?.flush(nowNs);
    this.pairing?.poll(nowNs);
    const w: Window = { ...cur, endNs: Math.min(nowNs, cur.endNs), partial: true };
    const b = src.clone();
    this.addOngoing(b, w);
    const measures = trafficMeasures(w, b, this.opts);
    if (this.cal !== undefined) measures.push(...this.cal.measures()); // as finalize: the estimate so far
    return { kind: "traffic", name: this.opts.detector, window: w, measures };
  }

  /** For the health heartbeat. */
  health(): HealthSection {
    const faults: string[] = [];
    for (let k = 0; k < this.n; k++) for (const f of this.diag.faults(k)) faults.push(`${this.opts.inputs[k] ?? k}:${f}`);
    return {
      vehicles: this.vehicles,
      faults: faults.join(","),
      inFault: faults.length > 0,
      wrongWay: this.wrongWays,
      unpaired: this.unpairedTotal,
      glitches: this.driver?.glitches() ?? 0,
      late: this.win.late,
      pending: this.pairing?.pending() ?? 0,
      ...(this.cal?.health() ?? {}),
    };
  }

  /** Active faults per loop (for tests and tools). */
  faults(loop: number): DetectorFault[] {
    return this.diag.faults(loop);
  }
}
