import type { Clock } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import type { Window, WindowListener } from "../clock/windows.js";
import type { AlarmSink } from "./alarm.js";
import { WindowBuckets } from "./buckets.js";
import type { FireOptions } from "./fire.js";
import { FireDetector } from "./fire.js";
import { FillingSpeed, fillPercent, PickupDetector } from "./fill.js";
import type { Measure, Summary, SummarySink } from "./summary.js";

interface Bucket {
  samples: number;
  pickups: number;
  lidOpenings: number;
  tempMax: number;
  events: number;
}

export interface BinAggregatorOptions {
  bin: string;
  clock: Clock;
  sink: SummarySink;
  alarm: AlarmSink;
  /** Distance to the bottom of the empty bin (H_empty), mm. */
  emptyMm: number;
  /** Distance at which the bin counts as 100 % full (d_full), mm. */
  fullMm: number;
  /** Full above this fill, %; empty below `lowPct`. */
  highPct: number;
  lowPct: number;
  /** A drop of this many points to below `lowPct` is a pickup candidate. */
  pickupDropPct: number;
  /** Report at once when the distance changes by more than this between readings, mm. */
  changeMm: number;
  /** Publish a window only on change (≥ changeMm since the last published one), an event, or after `heartbeatS`. */
  onlyOnChange: boolean;
  heartbeatS: number;
  fire: FireOptions;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * One bin: fill % from geometry, full/empty flags, pickups, filling speed and forecast full time,
 * fire by absolute temperature and rate of rise, tilt and cover state. Measure names follow the
 * LwM2M object 3435 ("Filling level", uCIFI) resource names in camelCase where one fits.
 *
 * Reporting like commercial bin sensors (DOMAIN.md §3): a summary per window (periodic); a
 * `fill-change` event at once when the level moves more than `changeMm` between readings; with
 * `onlyOnChange`, quiet windows are skipped except one every `heartbeatS`.
 */
export class BinAggregator implements WindowListener {
  private readonly buckets = new WindowBuckets<Bucket>(() => ({ samples: 0, pickups: 0, lidOpenings: 0, tempMax: -Infinity, events: 0 }));
  readonly pickups: PickupDetector;
  readonly speed = new FillingSpeed();
  readonly fire: FireDetector;
  private lastDistance = Number.NaN;
  private lastFill = Number.NaN;
  private lastTemp = Number.NaN;
  private publishedDistance = Number.NaN;
  private publishedNs = -Infinity;
  private outOfPosition = false;
  private coverOpen = false;
  private full = false;

  constructor(private readonly o: BinAggregatorOptions) {
    this.pickups = new PickupDetector(o.pickupDropPct, o.lowPct, (tNs, before, after, confirmedNs) =>
      this.pickedUp(tNs, before, after, confirmedNs),
    );
    this.fire = new FireDetector(o.fire, (start, tNs, tempC, riseC, cause) => this.fireChange(start, tNs, tempC, riseC, cause));
  }

  get fillPct(): number {
    return this.lastFill;
  }

  /** A valid distance sample (lid closed, bin upright), mm. */
  distance(mm: number, tNs: number): void {
    const o = this.o;
    const fill = fillPercent(o.emptyMm, o.fullMm, mm);
    const prev = this.lastDistance;
    this.lastDistance = mm;
    this.lastFill = fill;
    const b = this.buckets.at(tNs);
    if (b) b.samples++;
    this.speed.reading(fill, tNs);
    this.pickups.reading(fill, tNs);
    if (!Number.isNaN(prev) && Math.abs(mm - prev) > o.changeMm) {
      if (b) b.events++;
      o.alarm({
        source: o.bin,
        kind: "fill-change",
        state: "event",
        tNs,
        measures: [
          { n: "actualFillingPercentage", u: "%", v: r1(fill) },
          { n: "distanceChange", u: "m", v: Math.round(mm - prev) / 1000 },
        ],
      });
    }
    const isFull = fill >= o.highPct;
    if (isFull !== this.full) {
      this.full = isFull;
      if (b) b.events++;
      o.alarm({
        source: o.bin,
        kind: "container-full",
        state: isFull ? "start" : "end",
        tNs,
        measures: [{ n: "actualFillingPercentage", u: "%", v: r1(fill) }],
      });
    }
  }

  temperature(c: number, tNs: number): void {
    this.lastTemp = c;
    const b = this.buckets.at(tNs);
    if (b && c > b.tempMax) b.tempMax = c;
    this.fire.sample(c, tNs);
  }

  /** The lid was opened (a deposit, usually). */
  lidOpened(tNs: number): void {
    const b = this.buckets.at(tNs);
    if (b) b.lidOpenings++;
  }

  /** Tilt alarm state changed (the feature confirms it over time). */
  setOutOfPosition(on: boolean, tNs: number): void {
    this.outOfPosition = on;
    const b = this.buckets.at(tNs);
    if (b) b.events++;
  }

  /** Lid-left-open alarm state changed. */
  setCoverOpen(on: boolean, tNs: number): void {
    this.coverOpen = on;
    const b = this.buckets.at(tNs);
    if (b) b.events++;
  }

  open(w: Window): void {
    this.buckets.open(w);
  }

  rotate(closing: Window, opening: Window): void {
    this.buckets.rotate(closing, opening);
  }

  finalize(closed: Window, nowNs: number): void {
    const b = this.buckets.take(closed);
    if (!b) return;
    const o = this.o;
    const changed = Number.isNaN(this.publishedDistance)
      ? !Number.isNaN(this.lastDistance)
      : Math.abs(this.lastDistance - this.publishedDistance) > o.changeMm;
    const heartbeatDue = nowNs - this.publishedNs >= o.heartbeatS * NS_PER_S;
    if (o.onlyOnChange && !changed && b.events === 0 && b.pickups === 0 && !heartbeatDue) return;
    this.publishedDistance = this.lastDistance;
    this.publishedNs = nowNs;
    o.sink([{ kind: "bin", name: o.bin, window: closed, measures: this.measures(closed, b) }]);
  }

  /**
   * The summary of the open window as if it closed at `nowNs`, for a checkpoint
   * (aggregate/checkpoint.ts); nothing changes. Taken whatever `onlyOnChange` says: a recovered
   * window is published because the crash is news.
   */
  peek(nowNs: number): Summary | undefined {
    const cur = this.buckets.current();
    if (!cur || nowNs <= cur.w.startNs) return undefined;
    const w: Window = { ...cur.w, endNs: Math.min(nowNs, cur.w.endNs), partial: true };
    return { kind: "bin", name: this.o.bin, window: w, measures: this.measures(w, cur.b) };
  }

  private measures(closed: Window, b: Bucket): Measure[] {
    const o = this.o;
    const m: Measure[] = [{ n: "samples", u: "count", v: b.samples }];
    if (!Number.isNaN(this.lastFill)) {
      const fill = this.lastFill;
      m.push(
        { n: "actualFillingPercentage", u: "%", v: r1(fill) },
        { n: "actualFillingLevel", u: "m", v: Math.round(o.emptyMm - this.lastDistance) / 1000 },
        { n: "containerFull", vb: fill >= o.highPct },
        { n: "containerEmpty", vb: fill < o.lowPct },
      );
      const speed = this.speed.speed();
      if (!Number.isNaN(speed)) {
        m.push({ n: "averageFillingSpeed", v: r1(speed) });
        const at = this.speed.forecast(fill, closed.endNs, o.highPct);
        if (!Number.isNaN(at)) m.push({ n: "forecastFullDate", v: Math.round(o.clock.toWallMs(at) / 1000) });
      }
    }
    m.push({ n: "pickups", u: "count", v: b.pickups }, { n: "fillingOperations", u: "count", v: b.lidOpenings });
    if (!Number.isNaN(this.lastTemp)) {
      m.push({ n: "temperature", u: "Cel", v: r1(this.lastTemp) });
      if (b.tempMax > -Infinity) m.push({ n: "temperatureMax", u: "Cel", v: r1(b.tempMax) });
    }
    m.push(
      { n: "temperatureAlarm", vb: this.fire.active },
      { n: "containerOutOfPosition", vb: this.outOfPosition },
      { n: "coverOpen", vb: this.coverOpen },
    );
    return m;
  }

  private pickedUp(tNs: number, before: number, after: number, confirmedNs: number): void {
    // dated at the first low reading; if its window was published before the confirming reading
    // came, the pickup counts in the confirming reading's window rather than in none
    const b = this.buckets.at(tNs) ?? this.buckets.at(confirmedNs);
    if (b) b.pickups++;
    this.speed.reset();
    // the readings from the emptied bin start the new cycle
    this.speed.reading(after, tNs);
    this.o.alarm({
      source: this.o.bin,
      kind: "pickup",
      state: "event",
      tNs,
      measures: [
        { n: "fillBefore", u: "%", v: r1(before) },
        { n: "actualFillingPercentage", u: "%", v: r1(after) },
        { n: "pickupsTotal", u: "count", v: this.pickups.count },
      ],
    });
  }

  private fireChange(start: boolean, tNs: number, tempC: number, riseC: number, cause: string): void {
    const b = this.buckets.at(tNs);
    if (b) b.events++;
    const measures: Measure[] = [{ n: "temperature", u: "Cel", v: r1(tempC) }];
    // a rise over one minute is a temperature difference: kelvin, the SenML unit for it
    if (!Number.isNaN(riseC)) measures.push({ n: "temperatureRise", u: "K", v: r1(riseC) });
    if (start) measures.push({ n: "cause", vs: cause });
    this.o.alarm({
      source: this.o.bin,
      kind: "fire",
      state: start ? "start" : "end",
      tNs,
      ...(start
        ? { message: cause === "absolute" ? `temperature ${r1(tempC)} °C above the fire limit` : `temperature rising ${r1(riseC)} °C/min` }
        : {}),
      measures,
    });
  }
}
