import { createHash } from "node:crypto";
import type { MeasureValue, WatchEvent } from "../watch/index.js";

/** One window summary, as `roadside.summaries` stores it. */
export interface SummaryRow {
  table: "summaries";
  device: string;
  kind: string;
  stream: string;
  seq: number;
  windowStartMs: number;
  windowS: number;
  observedS: number;
  timeq: string;
  schema: number;
  dropped?: { count: number; fromMs: number; toMs: number };
  measures: Record<string, MeasureValue>;
}

export interface AlarmRow {
  table: "alarms";
  device: string;
  source: string;
  seq: number;
  timeMs: number;
  timeq: string;
  alarm: string;
  state: string;
  code?: number;
  message?: string;
  measures: Record<string, MeasureValue>;
}

export interface HealthRow {
  table: "health";
  device: string;
  timeMs: number;
  health: unknown;
}

export interface ManifestRow {
  table: "manifests";
  device: string;
  /** sha256 of the manifest's JSON as received: a change of any field is a new history entry. */
  hash: string;
  manifest: unknown;
}

export interface StatusRow {
  table: "status";
  device: string;
  status: string;
  atMs: number;
}

export type Row = SummaryRow | AlarmRow | HealthRow | ManifestRow | StatusRow;

/**
 * What the watch decoder's events (src/watch/model.ts) become in the database. One message makes at
 * most one row; a `dropped` event (the device's own loss report) rides on the data row after it.
 * Events about the stream as a whole (gap, reset, silent, catch-up, conflict) are the database's job
 * here, from the rows of every ingest process, so they are not stored from one process's view.
 */
export function rowsOf(events: readonly WatchEvent[], receivedMs: number): Row[] {
  const out: Row[] = [];
  let dropped: SummaryRow["dropped"];
  for (const ev of events) {
    switch (ev.type) {
      case "dropped":
        dropped = { count: ev.count, fromMs: Date.parse(ev.from), toMs: Date.parse(ev.to) };
        break;
      case "data": {
        const row: SummaryRow = {
          table: "summaries",
          device: ev.device,
          kind: ev.kind,
          stream: ev.stream,
          seq: ev.seq,
          windowStartMs: Date.parse(ev.windowStart),
          windowS: ev.windowS,
          observedS: ev.observedS,
          timeq: ev.timeq,
          schema: ev.schema,
          measures: ev.measures,
        };
        if (dropped) row.dropped = dropped;
        out.push(row);
        break;
      }
      case "alarm": {
        const row: AlarmRow = {
          table: "alarms",
          device: ev.device,
          source: ev.source,
          seq: ev.seq,
          timeMs: Date.parse(ev.time),
          timeq: ev.timeq,
          alarm: ev.alarm,
          state: ev.state,
          measures: ev.measures,
        };
        if (ev.code !== undefined) row.code = ev.code;
        if (ev.message !== undefined) row.message = ev.message;
        out.push(row);
        break;
      }
      case "health": {
        const t = typeof ev.health === "object" && ev.health !== null ? (ev.health as { time?: unknown }).time : undefined;
        const timeMs = typeof t === "string" ? Date.parse(t) : Number.NaN;
        out.push({ table: "health", device: ev.device, timeMs: Number.isFinite(timeMs) ? timeMs : receivedMs, health: ev.health });
        break;
      }
      case "manifest": {
        const text = JSON.stringify(ev.manifest);
        out.push({ table: "manifests", device: ev.device, hash: createHash("sha256").update(text).digest("hex"), manifest: ev.manifest });
        break;
      }
      case "status":
        out.push({ table: "status", device: ev.device, status: ev.status, atMs: receivedMs });
        break;
      default:
        break;
    }
  }
  return out;
}

/** The row as one line for `--dry-run`. */
export function describeRow(r: Row): string {
  switch (r.table) {
    case "summaries":
      return `summaries ${r.device} seq ${r.seq} ${r.kind}/${r.stream} ${new Date(r.windowStartMs).toISOString()} ${r.windowS}s${r.dropped ? ` dropped ${r.dropped.count}` : ""} ${JSON.stringify(r.measures)}`;
    case "alarms":
      return `alarms ${r.device} seq ${r.seq} ${r.source} ${r.alarm} ${r.state} ${new Date(r.timeMs).toISOString()}${r.code !== undefined ? ` code ${r.code}` : ""}`;
    case "health":
      return `health ${r.device} ${new Date(r.timeMs).toISOString()}`;
    case "manifests":
      return `manifests ${r.device} ${r.hash.slice(0, 12)}`;
    case "status":
      return `devices ${r.device} status ${r.status}`;
  }
}
