import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { MeasureValue } from "../watch/index.js";

/** One stored message: a window summary or an alarm of one device. */
export interface HistoryRow {
  device: string;
  seq: number;
  kind: string;
  stream: string;
  /** Window start (data) or event time (alarm), ms since epoch. */
  tMs: number;
  /** Window length, s (0 for alarms). */
  windowS: number;
  observedS: number;
  measures: Record<string, MeasureValue>;
}

export interface HistoryOptions {
  /** Database file (its folder is created), or `:memory:`. */
  path: string;
  /** Rows older than this (by their window start) are deleted, s. */
  retentionS: number;
  /** At most this many rows; the oldest go first. Default 2,000,000 (~1,000 devices × 2 streams × a day of minutes is 2.9 M). */
  maxRows?: number;
}

interface Stored {
  device: string;
  seq: number;
  kind: string;
  stream: string;
  t_ms: number;
  window_s: number;
  observed_s: number;
  measures: string;
}

/**
 * The web view's memory: every summary and alarm a watcher received, so a restart keeps its charts.
 * Keyed by (device, seq): a redelivery (same number, same stream and window) is stored once; the
 * same number for another stream or window is a device whose counter restarted (its state was
 * wiped), and replaces the old row, as docs/subscribing.md "Gaps and duplicates" says to treat it.
 * Bounded by age and by rows, pruned on `prune()`.
 */
export class HistoryStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly maxRows: number;

  constructor(private readonly opts: HistoryOptions) {
    if (opts.path !== ":memory:") mkdirSync(dirname(opts.path), { recursive: true });
    this.db = new Database(opts.path);
    // WAL + NORMAL: a watcher's history is a cache of what the broker delivered, not the record
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(`CREATE TABLE IF NOT EXISTS msg (
      device TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, stream TEXT NOT NULL,
      t_ms INTEGER NOT NULL, window_s REAL NOT NULL, observed_s REAL NOT NULL, measures TEXT NOT NULL,
      PRIMARY KEY (device, seq)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS msg_dev_t ON msg (device, t_ms);
      CREATE INDEX IF NOT EXISTS msg_t ON msg (t_ms);
      CREATE TABLE IF NOT EXISTS doc (device TEXT NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (device, name)) WITHOUT ROWID;`);
    this.insert = this.db.prepare(`INSERT INTO msg VALUES (@device, @seq, @kind, @stream, @t_ms, @window_s, @observed_s, @measures)
      ON CONFLICT (device, seq) DO UPDATE SET kind = excluded.kind, stream = excluded.stream, t_ms = excluded.t_ms,
        window_s = excluded.window_s, observed_s = excluded.observed_s, measures = excluded.measures
      WHERE kind <> excluded.kind OR stream <> excluded.stream OR t_ms <> excluded.t_ms`);
    this.maxRows = opts.maxRows ?? 2_000_000;
  }

  get retentionS(): number {
    return this.opts.retentionS;
  }

  /** Store one message; false when it was a redelivery already stored. */
  add(row: HistoryRow): boolean {
    const r = this.insert.run({
      device: row.device,
      seq: row.seq,
      kind: row.kind,
      stream: row.stream,
      t_ms: Math.round(row.tMs),
      window_s: row.windowS,
      observed_s: row.observedS,
      measures: JSON.stringify(row.measures),
    });
    return r.changes > 0;
  }

  /** A device's latest manifest or heartbeat (JSON documents), kept across restarts. */
  putDoc(device: string, name: "manifest" | "health", doc: unknown): void {
    this.db.prepare("INSERT OR REPLACE INTO doc VALUES (?, ?, ?)").run(device, name, JSON.stringify(doc));
  }

  docs(name: "manifest" | "health"): Map<string, unknown> {
    const rows = this.db.prepare("SELECT device, json FROM doc WHERE name = ?").all(name) as { device: string; json: string }[];
    return new Map(rows.map((r) => [r.device, JSON.parse(r.json) as unknown]));
  }

  /** A device's rows with `fromMs <= t < toMs`, oldest first. */
  range(device: string, fromMs: number, toMs: number): HistoryRow[] {
    const rows = this.db
      .prepare("SELECT * FROM msg WHERE device = ? AND t_ms >= ? AND t_ms < ? ORDER BY t_ms, seq")
      .all(device, fromMs, toMs) as Stored[];
    return rows.map(toRow);
  }

  /** Whether anything of the device is stored. */
  has(device: string): boolean {
    return this.db.prepare("SELECT 1 FROM msg WHERE device = ? LIMIT 1").get(device) !== undefined;
  }

  /** Every alarm row, oldest first (to rebuild which alarms are open after a restart). */
  alarms(sinceMs: number): HistoryRow[] {
    const rows = this.db.prepare("SELECT * FROM msg WHERE kind = 'alarm' AND t_ms >= ? ORDER BY t_ms, seq").all(sinceMs) as Stored[];
    return rows.map(toRow);
  }

  /** Delete what is older than the retention, then the oldest beyond maxRows. Returns rows deleted. */
  prune(nowMs: number): number {
    let n = this.db.prepare("DELETE FROM msg WHERE t_ms < ?").run(nowMs - this.opts.retentionS * 1000).changes;
    const count = (this.db.prepare("SELECT count(*) AS c FROM msg").get() as { c: number }).c;
    if (count > this.maxRows) {
      const cut = this.db.prepare("SELECT t_ms FROM msg ORDER BY t_ms LIMIT 1 OFFSET ?").get(count - this.maxRows) as { t_ms: number };
      n += this.db.prepare("DELETE FROM msg WHERE t_ms < ?").run(cut.t_ms).changes;
    }
    return n;
  }

  count(): number {
    return (this.db.prepare("SELECT count(*) AS c FROM msg").get() as { c: number }).c;
  }

  close(): void {
    this.db.close();
  }
}

function toRow(r: Stored): HistoryRow {
  return {
    device: r.device,
    seq: r.seq,
    kind: r.kind,
    stream: r.stream,
    tMs: r.t_ms,
    windowS: r.window_s,
    observedS: r.observed_s,
    measures: JSON.parse(r.measures) as Record<string, MeasureValue>,
  };
}
