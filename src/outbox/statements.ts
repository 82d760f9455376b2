import type Database from "better-sqlite3";
import type { CheckpointRow, DropRow, MetaKey, Row } from "./schema.js";
import { COLS, DROP_COLS } from "./schema.js";

type St<P extends unknown[], R = unknown> = Database.Statement<P, R>;

/** A row as `insert` takes it. */
export type InsertRow = Omit<Row, "crc" | "tcrc"> & { crc: number; tcrc: number };

/** A topic's losses not yet reported. */
export interface LostRow {
  count: number;
  from_ms: number;
  to_ms: number;
  causes: number;
}

/**
 * Every statement the outbox runs, prepared once when it opens, each typed with its parameters and
 * result, so a changed query fails the type check rather than a device in the field.
 */
export interface Statements {
  getMeta: St<[MetaKey], number>;
  setMeta: St<[number, MetaKey]>;
  addMeta: St<[number, MetaKey]>;
  insert: St<[InsertRow]>;
  /** Delete one message; returns its priority and the bytes it counted (payload and topic). */
  del: St<[number], { priority: number; size: number }>;
  bySeq: St<[number], Row>;
  range: St<[after: number, before: number, limit: number], Row>;
  rangePrio: St<[after: number, before: number, priority: number, limit: number], Row>;
  oldest: St<[priority: number, after: number, before: number], DropRow>;
  expired: St<[nowMs: number], DropRow>;
  delPlain: St<[number]>;
  survivor: St<[topic: string, after: number], Row>;
  annotate: St<[payload: Buffer, count: number, fromMs: number, toMs: number, causes: number, crc: number, seq: number]>;
  getLost: St<[string], LostRow>;
  delLost: St<[string]>;
  addLost: St<[topic: string, count: number, fromMs: number, toMs: number, causes: number]>;
  unreported: St<[], number>;
  setOpen: St<[topic: string, fromMs: number]>;
  delOpen: St<[string]>;
  allOpen: St<[], { topic: string; from_ms: number }>;
  summary: St<[], { n: number; o: number | null }>;
  putCheckpoint: St<[CheckpointRow]>;
  /** Checkpoints of a topic's windows that started before the given wall time (ms). */
  delCheckpoints: St<[topic: string, beforeMs: number]>;
  allCheckpoints: St<[], CheckpointRow>;
  clearCheckpoints: St<[]>;
  clearOpen: St<[]>;
}

export function prepareStatements(db: Database.Database): Statements {
  return {
    getMeta: db.prepare<[MetaKey], number>("SELECT value FROM meta WHERE key = ?").pluck(),
    setMeta: db.prepare<[number, MetaKey]>("UPDATE meta SET value = ? WHERE key = ?"),
    addMeta: db.prepare<[number, MetaKey]>("UPDATE meta SET value = value + ? WHERE key = ?"),
    insert: db.prepare<[InsertRow]>(
      "INSERT INTO outbox (seq, topic, payload, priority, content_type, created_ms, expires_ms, span_from_ms, span_to_ms, lost_count, lost_from_ms, lost_to_ms, lost_causes, crc, tcrc) VALUES (@seq, @topic, @payload, @priority, @content_type, @created_ms, @expires_ms, @span_from_ms, @span_to_ms, @lost_count, @lost_from_ms, @lost_to_ms, @lost_causes, @crc, @tcrc)",
    ),
    del: db.prepare<[number], { priority: number; size: number }>(
      "DELETE FROM outbox WHERE seq = ? RETURNING priority, length(payload) + length(CAST(topic AS BLOB)) AS size",
    ),
    bySeq: db.prepare<[number], Row>(`SELECT ${COLS} FROM outbox WHERE seq = ?`),
    range: db.prepare<[number, number, number], Row>(`SELECT ${COLS} FROM outbox WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?`),
    rangePrio: db.prepare<[number, number, number, number], Row>(
      `SELECT ${COLS} FROM outbox WHERE seq > ? AND seq < ? AND priority = ? ORDER BY seq LIMIT ?`,
    ),
    oldest: db.prepare<[number, number, number], DropRow>(
      `SELECT ${DROP_COLS} FROM outbox WHERE priority = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT 64`,
    ),
    expired: db.prepare<[number], DropRow>(`SELECT ${DROP_COLS} FROM outbox WHERE expires_ms IS NOT NULL AND expires_ms <= ?`),
    delPlain: db.prepare<[number]>("DELETE FROM outbox WHERE seq = ?"),
    survivor: db.prepare<[string, number], Row>(`SELECT ${COLS} FROM outbox WHERE topic = ? AND seq > ? ORDER BY seq LIMIT 64`),
    annotate: db.prepare<[Buffer, number, number, number, number, number, number]>(
      "UPDATE outbox SET payload = ?, lost_count = ?, lost_from_ms = ?, lost_to_ms = ?, lost_causes = ?, crc = ? WHERE seq = ?",
    ),
    getLost: db.prepare<[string], LostRow>("SELECT count, from_ms, to_ms, causes FROM lost WHERE topic = ?"),
    delLost: db.prepare<[string]>("DELETE FROM lost WHERE topic = ?"),
    addLost: db.prepare<[string, number, number, number, number]>(
      "INSERT INTO lost (topic, count, from_ms, to_ms, causes) VALUES (?, ?, ?, ?, ?) ON CONFLICT(topic) DO UPDATE SET count = count + excluded.count, from_ms = min(from_ms, excluded.from_ms), to_ms = max(to_ms, excluded.to_ms), causes = causes | excluded.causes",
    ),
    unreported: db.prepare<[], number>("SELECT COALESCE(SUM(count), 0) FROM lost").pluck(),
    // in `meta`, whose one page every commit rewrites anyway (the counter): no extra page per window
    setOpen: db.prepare<[string, number]>(
      "INSERT INTO meta (key, value) VALUES ('open:' || ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    ),
    delOpen: db.prepare<[string]>("DELETE FROM meta WHERE key = 'open:' || ?"),
    allOpen: db.prepare<[], { topic: string; from_ms: number }>(
      "SELECT substr(key, 6) AS topic, value AS from_ms FROM meta WHERE substr(key, 1, 5) = 'open:'",
    ),
    summary: db.prepare<[], { n: number; o: number | null }>("SELECT COUNT(*) AS n, MIN(created_ms) AS o FROM outbox"),
    putCheckpoint: db.prepare<[CheckpointRow]>(
      "INSERT OR REPLACE INTO checkpoint (topic, window_start_ms, window_s, observed_from_ms, observed_ms, taken_ms, synced, summary, crc) VALUES (@topic, @window_start_ms, @window_s, @observed_from_ms, @observed_ms, @taken_ms, @synced, @summary, @crc)",
    ),
    delCheckpoints: db.prepare<[string, number]>("DELETE FROM checkpoint WHERE topic = ? AND window_start_ms < ?"),
    allCheckpoints: db.prepare<[], CheckpointRow>(
      "SELECT topic, window_start_ms, window_s, observed_from_ms, observed_ms, taken_ms, synced, summary, crc FROM checkpoint ORDER BY topic, window_start_ms",
    ),
    clearCheckpoints: db.prepare<[]>("DELETE FROM checkpoint"),
    clearOpen: db.prepare<[]>("DELETE FROM meta WHERE substr(key, 1, 5) = 'open:'"),
  };
}
