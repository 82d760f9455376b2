import type { Clock } from "../clock/clock.js";
import type { Window, WindowListener } from "../clock/windows.js";
import type { AlarmSink } from "./alarm.js";
import { overlapNs, WindowBuckets } from "./buckets.js";
import type { LevelState } from "./overflow.js";
import { OverflowDetector } from "./overflow.js";
import type { SpillSequence } from "./spill-count.js";
import { SpillCounter } from "./spill-count.js";
import type { Measure, Summary, SummarySink } from "./summary.js";

interface Bucket {
  samples: number;
  min: number;
  max: number;
  /** Σ depth·weight and Σ weight (weight = the sample's interval, s): a time-weighted mean, so fast sampling in a storm does not drag the mean up. */
  sumW: number;
  w: number;
  spillNs: number;
  spills: number;
  coverOpenings: number;
}

export interface LevelAggregatorOptions {
  sensor: string;
  clock: Clock;
  sink: SummarySink;
  alarm: AlarmSink;
  /** Overflow (weir crest) height above the invert, mm. */
  overflowMm: number;
  /** Alert at this share of the overflow height (0–1). */
  alertShare: number;
  hysteresisMm: number;
  confirm: number;
}

const mm = (x: number): number => Math.round(x) / 1000;

/**
 * One manhole's level per window (min / time-weighted mean / max depth, time in spill, spills
 * counted), its alert and spill alarms, and spill counting by the 12/24 rule, per day (UTC) and per
 * spill sequence. Depths in, summaries and alarms out (DESIGN.md: `…/level/{sensor}`, `…/alarm/{sensor}`).
 */
export class LevelAggregator implements WindowListener {
  private readonly buckets = new WindowBuckets<Bucket>(() => ({
    samples: 0,
    min: Infinity,
    max: -Infinity,
    sumW: 0,
    w: 0,
    spillNs: 0,
    spills: 0,
    coverOpenings: 0,
  }));
  readonly detector: OverflowDetector;
  readonly counter: SpillCounter;
  private spillSince = -1;
  private alertSince = -1;
  private peakMm = 0;
  private lastDepth = Number.NaN;
  private lastSampleNs = -1;
  /** Spills counted per UTC day (yyyy-mm-dd), the last few days only. */
  private readonly perDay = new Map<string, number>();
  /** Current sampling interval, s (reported so subscribers see the adaptive rate). */
  intervalS = 0;

  constructor(private readonly o: LevelAggregatorOptions) {
    this.counter = new SpillCounter({
      onSpill: (tNs) => this.counted(tNs),
      onSequenceEnd: (seq) => this.sequenceEnded(seq),
    });
    this.detector = new OverflowDetector(
      { alertMm: o.overflowMm * o.alertShare, spillMm: o.overflowMm, hysteresisMm: o.hysteresisMm, confirm: o.confirm },
      (kind, edge, tNs, confirmedNs) => this.change(kind, edge, tNs, confirmedNs),
    );
  }

  get state(): LevelState {
    return this.detector.state;
  }

  get depthMm(): number {
    return this.lastDepth;
  }

  /**
   * One depth sample (mm above the invert) taken at the sampling interval `intervalS`, weighing
   * `weightS` seconds in the time-weighted mean (the time its readings covered; less than the
   * interval when a window boundary cut it).
   */
  sample(depthMm: number, tNs: number, intervalS: number, weightS = intervalS): void {
    if (tNs < this.lastSampleNs) return; // out of order: never move the state machines back in time
    this.lastSampleNs = tNs;
    this.lastDepth = depthMm;
    this.intervalS = intervalS;
    const b = this.buckets.at(tNs);
    if (b) {
      b.samples++;
      if (depthMm < b.min) b.min = depthMm;
      if (depthMm > b.max) b.max = depthMm;
      b.sumW += depthMm * weightS;
      b.w += weightS;
    }
    if (this.spillSince >= 0 && depthMm > this.peakMm) this.peakMm = depthMm;
    this.counter.advance(tNs);
    this.detector.sample(depthMm, tNs);
  }

  /** The cover was opened (debounced) at `tNs`. */
  coverOpened(tNs: number): void {
    const b = this.buckets.at(tNs);
    if (b) b.coverOpenings++;
  }

  open(w: Window): void {
    this.buckets.open(w);
  }

  rotate(closing: Window, opening: Window): void {
    this.buckets.rotate(closing, opening);
  }

  finalize(closed: Window, nowNs: number): void {
    this.counter.advance(nowNs);
    const b = this.buckets.take(closed);
    if (!b) return;
    if (this.spillSince >= 0) b.spillNs += overlapNs(closed, this.spillSince, closed.endNs);
    this.o.sink([{ kind: "level", name: this.o.sensor, window: closed, measures: this.measures(closed, b) }]);
  }

  /**
   * The summary of the open window as if it closed at `nowNs`, for a checkpoint
   * (aggregate/checkpoint.ts): the window, its bucket and the state machines go on untouched.
   */
  peek(nowNs: number): Summary | undefined {
    const cur = this.buckets.current();
    if (!cur || nowNs <= cur.w.startNs) return undefined;
    const w: Window = { ...cur.w, endNs: Math.min(nowNs, cur.w.endNs), partial: true };
    const b = { ...cur.b };
    if (this.spillSince >= 0) b.spillNs += overlapNs(w, this.spillSince, w.endNs);
    return { kind: "level", name: this.o.sensor, window: w, measures: this.measures(w, b) };
  }

  private measures(closed: Window, b: Bucket): Measure[] {
    const measures: Measure[] = [{ n: "samples", u: "count", v: b.samples }];
    if (b.samples > 0) {
      measures.push(
        { n: "depthMin", u: "m", v: mm(b.min) },
        { n: "depthMean", u: "m", v: mm(b.w > 0 ? b.sumW / b.w : b.min) },
        { n: "depthMax", u: "m", v: mm(b.max) },
      );
    }
    measures.push(
      { n: "state", vs: this.state },
      { n: "spillDuration", u: "s", v: Math.round(b.spillNs / 1e6) / 1000 },
      { n: "spills", u: "count", v: b.spills },
      { n: "spillsDay", u: "count", v: this.perDay.get(utcDay(closed.endWallMs - 1)) ?? 0 },
      { n: "sequenceSpills", u: "count", v: this.counter.sequenceSpills },
      { n: "coverOpenings", u: "count", v: b.coverOpenings },
    );
    if (this.intervalS > 0) measures.push({ n: "sampleInterval", u: "s", v: this.intervalS });
    return measures;
  }

  private change(kind: "alert" | "spill", edge: "start" | "end", tNs: number, confirmedNs: number): void {
    const src = this.o.sensor;
    const depth = { n: "depth", u: "m", v: mm(this.lastDepth) };
    if (kind === "alert") {
      if (edge === "start") {
        this.alertSince = tNs;
        this.o.alarm({
          source: src,
          kind: "high-level",
          state: "start",
          tNs,
          message: `level at ${Math.round(this.o.alertShare * 100)} % of the overflow height`,
          measures: [depth],
        });
      } else {
        const dur = this.alertSince >= 0 ? tNs - this.alertSince : 0;
        this.alertSince = -1;
        this.o.alarm({
          source: src,
          kind: "high-level",
          state: "end",
          tNs,
          measures: [depth, { n: "duration", u: "s", v: Math.round(dur / 1e6) / 1000 }],
        });
      }
      return;
    }
    if (edge === "start") {
      this.spillSince = tNs;
      this.peakMm = this.lastDepth;
      this.counter.start(tNs);
      this.o.alarm({
        source: src,
        kind: "spill",
        state: "start",
        tNs,
        message: "level at the overflow: spilling",
        measures: [
          depth,
          { n: "confirmDelay", u: "s", v: Math.round((confirmedNs - tNs) / 1e6) / 1000 },
          { n: "sequenceSpills", u: "count", v: this.counter.sequenceSpills },
        ],
      });
      return;
    }
    const since = this.spillSince;
    this.spillSince = -1;
    // time in spill, clipped to each open window (earlier windows are already published)
    this.buckets.forEachOpen((w, b) => {
      b.spillNs += overlapNs(w, since, tNs);
    });
    this.counter.end(tNs);
    this.o.alarm({
      source: src,
      kind: "spill",
      state: "end",
      tNs,
      measures: [
        { n: "duration", u: "s", v: Math.round((tNs - since) / 1e6) / 1000 },
        { n: "peak", u: "m", v: mm(this.peakMm) },
        { n: "sequenceSpills", u: "count", v: this.counter.sequenceSpills },
      ],
    });
  }

  private counted(tNs: number): void {
    const b = this.buckets.at(Math.max(tNs, this.lastSampleNs));
    if (b) b.spills++;
    const day = utcDay(this.o.clock.toWallMs(tNs));
    this.perDay.set(day, (this.perDay.get(day) ?? 0) + 1);
    if (this.perDay.size > 3) this.perDay.delete(this.perDay.keys().next().value!);
  }

  private sequenceEnded(seq: SpillSequence): void {
    this.o.alarm({
      source: this.o.sensor,
      kind: "spill-sequence",
      state: "end",
      tNs: seq.endNs,
      message: `spill sequence ended after a 24 h block without discharge: ${seq.spills} spill(s) by the 12/24 rule`,
      measures: [
        { n: "spills", u: "count", v: seq.spills },
        { n: "sequenceStart", v: Math.round(this.o.clock.toWallMs(seq.startNs)) / 1000 },
        { n: "discharge", u: "s", v: Math.round(seq.dischargeNs / 1e6) / 1000 },
      ],
    });
  }
}

function utcDay(wallMs: number): string {
  return new Date(wallMs).toISOString().slice(0, 10);
}
