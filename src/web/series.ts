import type { MeasureValue } from "../watch/index.js";
import type { HistoryRow } from "./history.js";

/** One line of a chart: values in display units, null where nothing is known (drawn as a gap). */
export interface ChartSeries {
  label: string;
  unit: string;
  /** uPlot scale: series of one unit share an axis. */
  scale: string;
  values: (number | null)[];
}

/** A shaded time span: a detector fault, a spill, a fire, a tilt, a suppressed count. */
export interface ChartBand {
  from: number;
  to: number;
  kind: "fault" | "spill" | "fire" | "tilt" | "suppressed" | "cover";
  label: string;
}

export interface Chart {
  id: string;
  title: string;
  /** x: seconds since the epoch (window starts), ascending. */
  x: number[];
  series: ChartSeries[];
  bands: ChartBand[];
  /** Instants (pickups, spill starts…), seconds. */
  events: { t: number; label: string }[];
  /** Horizontal lines (overflow, alert), in the first series' unit. */
  lines: { y: number; label: string }[];
}

export interface StreamCharts {
  kind: string;
  stream: string;
  windowS: number;
  charts: Chart[];
  /** The newest window's measures as published (SenML units), for the values table. */
  latest: { tMs: number; seq: number; measures: Record<string, MeasureValue> } | undefined;
}

export interface TimelineEntry {
  tMs: number;
  seq: number;
  source: string;
  alarm: string;
  state: string;
  code?: number;
  message?: string;
}

/** What a device page draws for one time range. */
export interface DeviceSeries {
  fromMs: number;
  toMs: number;
  streams: StreamCharts[];
  alarms: TimelineEntry[];
}

type Conv = (m: MeasureValue | undefined) => number | null;
const raw: Conv = (m) => (m?.v === undefined ? null : m.v);
/** Per second to per hour: flows are read in veh/h on a roadside. */
const perHour: Conv = (m) => (m?.v === undefined ? null : m.v * 3600);
const percent: Conv = (m) => (m?.v === undefined ? null : m.v * 100);
const kmh: Conv = (m) => (m?.v === undefined ? null : m.u === "m/s" ? m.v * 3.6 : m.v);

/** Shape a device's stored rows into charts, one set per stream (docs/web.md says what each shows). */
export function deviceSeries(
  rows: readonly HistoryRow[],
  fromMs: number,
  toMs: number,
  overflowM: Record<string, number> = {},
): DeviceSeries {
  const byStream = new Map<string, HistoryRow[]>();
  const alarms: HistoryRow[] = [];
  for (const r of rows) {
    if (r.kind === "alarm") alarms.push(r);
    else {
      const k = `${r.kind}/${r.stream}`;
      const list = byStream.get(k);
      if (list) list.push(r);
      else byStream.set(k, [r]);
    }
  }
  const spans = alarmSpans(alarms, toMs);
  const streams: StreamCharts[] = [];
  for (const list of byStream.values()) streams.push(streamCharts(list, spans, alarms, overflowM));
  // the road first, then the sewer, the bins, the people: the order the manifest lists them in
  const order = (k: string): number => ["traffic", "level", "bin", "presence"].indexOf(k) >>> 0;
  streams.sort((a, b) => order(a.kind) - order(b.kind) || a.stream.localeCompare(b.stream));
  return {
    fromMs,
    toMs,
    streams,
    alarms: alarms.map((a) => {
      const e: TimelineEntry = {
        tMs: a.tMs,
        seq: a.seq,
        source: a.stream,
        alarm: a.measures["alarm"]?.vs ?? "",
        state: a.measures["state"]?.vs ?? "",
      };
      if (a.measures["code"]?.v !== undefined) e.code = a.measures["code"].v;
      if (a.measures["message"]?.vs !== undefined) e.message = a.measures["message"].vs;
      return e;
    }),
  };
}

interface Span {
  source: string;
  alarm: string;
  from: number;
  to: number;
}

/** Pair start and end alarms per (source, alarm); a start without an end lasts to `toMs`. */
function alarmSpans(alarms: readonly HistoryRow[], toMs: number): Span[] {
  const open = new Map<string, HistoryRow>();
  const out: Span[] = [];
  for (const a of alarms) {
    const alarm = a.measures["alarm"]?.vs ?? "";
    const state = a.measures["state"]?.vs ?? "";
    const input = a.measures["input"]?.vs ?? "";
    const key = `${a.stream}/${alarm}/${input}`;
    if (state === "start") {
      if (!open.has(key)) open.set(key, a);
    } else if (state === "end") {
      const s = open.get(key);
      open.delete(key);
      out.push({ source: a.stream, alarm, from: (s?.tMs ?? a.tMs - (a.measures["duration"]?.v ?? 0) * 1000) / 1000, to: a.tMs / 1000 });
    }
  }
  for (const [key, s] of open) out.push({ source: s.stream, alarm: key.split("/")[1]!, from: s.tMs / 1000, to: toMs / 1000 });
  return out;
}

/** Window starts with a null point after every missing window, so uPlot draws the hole. */
function timeAxis(rows: readonly HistoryRow[]): { x: number[]; at: (HistoryRow | undefined)[] } {
  const x: number[] = [];
  const at: (HistoryRow | undefined)[] = [];
  let prev: HistoryRow | undefined;
  for (const r of rows) {
    // two partial messages of one window (a restart inside it): keep the later one's point
    if (prev && r.tMs === prev.tMs) {
      at[at.length - 1] = r;
      prev = r;
      continue;
    }
    if (prev && r.tMs - prev.tMs > prev.windowS * 1000 * 1.5) {
      x.push((prev.tMs + prev.windowS * 1000) / 1000);
      at.push(undefined);
    }
    x.push(r.tMs / 1000);
    at.push(r);
    prev = r;
  }
  return { x, at };
}

function series(at: readonly (HistoryRow | undefined)[], name: string, label: string, unit: string, conv: Conv): ChartSeries {
  return { label, unit, scale: unit, values: at.map((r) => (r ? conv(r.measures[name]) : null)) };
}

/** Consecutive windows where `pred` holds, as bands. */
function windowBands(rows: readonly HistoryRow[], pred: (r: HistoryRow) => boolean, kind: ChartBand["kind"], label: string): ChartBand[] {
  const out: ChartBand[] = [];
  for (const r of rows) {
    if (!pred(r)) continue;
    const from = r.tMs / 1000;
    const to = from + r.windowS;
    const last = out[out.length - 1];
    if (last && last.to >= from) last.to = to;
    else out.push({ from, to, kind, label });
  }
  return out;
}

function spanBands(spans: readonly Span[], source: string, alarms: readonly string[], kind: ChartBand["kind"]): ChartBand[] {
  return spans
    .filter((s) => s.source === source && alarms.includes(s.alarm))
    .map((s) => ({ from: s.from, to: Math.max(s.to, s.from + 1), kind, label: s.alarm }));
}

function streamCharts(
  rows: readonly HistoryRow[],
  spans: readonly Span[],
  alarms: readonly HistoryRow[],
  overflowM: Record<string, number>,
): StreamCharts {
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  const { x, at } = timeAxis(rows);
  const id = `${first.kind}-${first.stream}`;
  const base = { x, bands: [] as ChartBand[], events: [] as Chart["events"], lines: [] as Chart["lines"] };
  const charts: Chart[] = [];
  const has = (n: string): boolean => rows.some((r) => r.measures[n] !== undefined);
  const events = (alarm: string): Chart["events"] =>
    alarms.filter((a) => a.stream === first.stream && a.measures["alarm"]?.vs === alarm).map((a) => ({ t: a.tMs / 1000, label: alarm }));
  switch (first.kind) {
    case "traffic": {
      const faults = [
        ...windowBands(rows, (r) => (r.measures["quality.faults"]?.v ?? 0) > 0, "fault", "detector fault"),
        ...spanBands(spans, first.stream, ["detector-fault"], "fault"),
      ];
      charts.push({
        ...base,
        id: `${id}-flow`,
        title: "Volume and flow",
        series: [series(at, "volume", "volume", "vehicles", raw), series(at, "flow", "flow", "veh/h", perHour)],
        bands: faults,
      });
      charts.push({
        ...base,
        id: `${id}-occupancy`,
        title: "Occupancy",
        series: [series(at, "occupancy", "occupancy", "%", percent)],
        bands: faults,
      });
      const speeds: ChartSeries[] = [];
      if (has("speed.tms")) speeds.push(series(at, "speed.tms", "mean speed", "km/h", kmh));
      if (has("speed.p85")) speeds.push(series(at, "speed.p85", "p85 speed", "km/h", kmh));
      if (has("speed.est")) speeds.push(series(at, "speed.est", "estimated speed", "km/h", kmh));
      if (speeds.length > 0) charts.push({ ...base, id: `${id}-speed`, title: "Speed", series: speeds, bands: faults });
      break;
    }
    case "level": {
      const overflow = levelLine(alarms, first.stream);
      charts.push({
        ...base,
        id: `${id}-depth`,
        title: "Depth",
        series: [
          series(at, "depthMax", "max", "m", raw),
          series(at, "depthMean", "mean", "m", raw),
          series(at, "depthMin", "min", "m", raw),
        ],
        bands: [
          ...spanBands(spans, first.stream, ["spill"], "spill"),
          ...windowBands(rows, (r) => (r.measures["spillDuration"]?.v ?? 0) > 0, "spill", "spilling"),
        ],
        events: events("spill"),
        lines: [...overflow, ...(overflowM[first.stream] !== undefined ? [{ y: overflowM[first.stream]!, label: "overflow" }] : [])],
      });
      break;
    }
    case "bin": {
      const pickups = events("pickup");
      if (pickups.length === 0)
        for (const r of rows) if ((r.measures["pickups"]?.v ?? 0) > 0) pickups.push({ t: r.tMs / 1000, label: "pickup" });
      charts.push({
        ...base,
        id: `${id}-fill`,
        title: "Fill",
        series: [series(at, "actualFillingPercentage", "fill", "%", raw)],
        bands: [
          ...spanBands(spans, first.stream, ["fire"], "fire"),
          ...windowBands(rows, (r) => r.measures["temperatureAlarm"]?.vb === true, "fire", "fire"),
          ...spanBands(spans, first.stream, ["tilt"], "tilt"),
          ...windowBands(rows, (r) => r.measures["containerOutOfPosition"]?.vb === true, "tilt", "tilt"),
        ],
        events: pickups,
      });
      if (has("temperature"))
        charts.push({ ...base, id: `${id}-temperature`, title: "Temperature", series: [series(at, "temperatureMax", "max", "°C", raw)] });
      break;
    }
    case "presence":
      charts.push(presenceChart(id, rows, x, at));
      break;
    default: {
      const names = [...new Set(rows.flatMap((r) => Object.keys(r.measures).filter((n) => r.measures[n]?.v !== undefined)))].slice(0, 4);
      charts.push({ ...base, id: `${id}-values`, title: "Values", series: names.map((n) => series(at, n, n, "", raw)) });
    }
  }
  return {
    kind: first.kind,
    stream: first.stream,
    windowS: last.windowS,
    charts,
    latest: { tMs: last.tMs, seq: last.seq, measures: last.measures },
  };
}

/**
 * Presence counts: a count below k is published as `{measure}.suppressed` (docs/payloads.md
 * "Presence"). It is drawn as a shaded "suppressed" window and a hole in the line: a zero would be
 * a value the device never said.
 */
function presenceChart(id: string, rows: readonly HistoryRow[], x: number[], at: (HistoryRow | undefined)[]): Chart {
  const names = new Set<string>();
  for (const r of rows)
    for (const [n, m] of Object.entries(r.measures)) {
      const base = n.endsWith(".suppressed") ? n.slice(0, -".suppressed".length) : n;
      if (base === "errors" || base.endsWith("sightings") || base.endsWith(".random")) continue;
      if (m.u === "count" || (n.endsWith(".suppressed") && m.vb === true)) names.add(base);
    }
  const list = [...names].sort();
  const bands: ChartBand[] = [];
  for (const n of list)
    bands.push(...windowBands(rows, (r) => r.measures[`${n}.suppressed`]?.vb === true, "suppressed", `${n} suppressed (fewer than k)`));
  return {
    id: `${id}-counts`,
    title: "Counts",
    x,
    series: list.map((n) => series(at, n, n, "count", raw)),
    bands,
    events: [],
    lines: [],
  };
}

/** The alert line: the depth at which the device raised its high-level alarm (its alertShare of the overflow). */
function levelLine(alarms: readonly HistoryRow[], stream: string): Chart["lines"] {
  const out: Chart["lines"] = [];
  const hl = alarms.find((a) => a.stream === stream && a.measures["alarm"]?.vs === "high-level" && a.measures["state"]?.vs === "start");
  if (hl?.measures["depth"]?.v !== undefined) out.push({ y: hl.measures["depth"].v, label: "alert" });
  return out;
}

/**
 * The overflow height, m, of a manifest's level stream: its `limits`, or from a device that predates
 * them, its description ("overflow at 1500 mm").
 */
export function levelThresholds(stream: { description: string; limits?: unknown }): { overflowM: number } | undefined {
  const limits = stream.limits as { overflowDepthM?: unknown } | undefined;
  if (typeof limits?.overflowDepthM === "number") return { overflowM: limits.overflowDepthM };
  const m = /overflow at (\d+(?:\.\d+)?) mm/.exec(stream.description);
  return m ? { overflowM: Number(m[1]) / 1000 } : undefined;
}
