import type Database from "better-sqlite3";
import type { OutboxMessage } from "./outbox.js";

/**
 * The outbox's tables, and the migrations from older layouts. `PRAGMA user_version` says which
 * layout a file has: 0 = new file or the walking skeleton's (no span or loss columns), 2 = now.
 *
 * - `meta`: the next sequence number and the drop totals, one integer per key.
 * - `outbox`: waiting messages. `span_*` is the wall time a message covers (to say what a drop
 *   lost); `lost_*` is the loss report the message carries, put back into `lost` if the message
 *   itself is dropped, so no loss goes unreported.
 * - `lost`: losses per topic not yet reported in a message.
 *
 * There is deliberately no secondary index: every index is one more page written per window, and
 * SD cards wear out. Lanes are read by primary key ranges; waiting alarms are few and kept in memory.
 */
export const LAYOUT_VERSION = 2;

export const META_KEYS = ["next_seq", "dropped_routine", "dropped_alarms", "expired", "last_loss_count", "last_loss_from", "last_loss_to", "last_loss_at"] as const;
export type MetaKey = (typeof META_KEYS)[number];

export function createOrMigrate(db: Database.Database, firstSeq: number): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > LAYOUT_VERSION) {
    throw new Error(`the outbox was written by a newer roadside (layout ${version}, this one knows ${LAYOUT_VERSION}); install that version again or move the outbox aside`);
  }
  db.transaction(() => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY,
        topic TEXT NOT NULL,
        payload BLOB NOT NULL,
        priority INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER
      );
      CREATE TABLE IF NOT EXISTS lost (topic TEXT PRIMARY KEY, count INTEGER NOT NULL, from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL);
    `);
    if (version < 2) {
      const cols = new Set((db.prepare("PRAGMA table_info(outbox)").all() as { name: string }[]).map((c) => c.name));
      for (const [name, def] of [
        ["span_from_ms", "INTEGER NOT NULL DEFAULT 0"],
        ["span_to_ms", "INTEGER NOT NULL DEFAULT 0"],
        ["lost_count", "INTEGER NOT NULL DEFAULT 0"],
        ["lost_from_ms", "INTEGER NOT NULL DEFAULT 0"],
        ["lost_to_ms", "INTEGER NOT NULL DEFAULT 0"],
      ] as const) {
        if (!cols.has(name)) db.exec(`ALTER TABLE outbox ADD COLUMN ${name} ${def}`);
      }
      // skeleton rows knew only their creation time: the best guess of the span they cover
      db.exec("UPDATE outbox SET span_from_ms = created_ms, span_to_ms = created_ms WHERE span_from_ms = 0");
    }
    const insert = db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)");
    for (const k of META_KEYS) insert.run(k, k === "next_seq" ? firstSeq : 0);
    // a recovered outbox starts above every number the damaged one may have used
    db.prepare("UPDATE meta SET value = ? WHERE key = 'next_seq' AND value < ?").run(firstSeq, firstSeq);
    db.pragma(`user_version = ${LAYOUT_VERSION}`);
  })();
}

/** A waiting message as stored. */
export interface Row {
  seq: number;
  topic: string;
  payload: Buffer;
  priority: number;
  content_type: string;
  created_ms: number;
  expires_ms: number | null;
}

/** What dropping a row needs to know: its size, span and any loss report it carries. */
export interface DropRow {
  seq: number;
  topic: string;
  priority: number;
  size: number;
  span_from_ms: number;
  span_to_ms: number;
  lost_count: number;
  lost_from_ms: number;
  lost_to_ms: number;
}

/** Columns of a message to send. */
export const COLS = "seq, topic, payload, priority, content_type, created_ms, expires_ms";
/** Columns a drop needs; `size` counts as `bytes` does: payload plus the topic in UTF-8 bytes. */
export const DROP_COLS = "seq, topic, priority, length(payload) + length(CAST(topic AS BLOB)) AS size, span_from_ms, span_to_ms, lost_count, lost_from_ms, lost_to_ms";

/** A stored row as the session sends it. */
export function toMessage(r: Row): OutboxMessage {
  const m: OutboxMessage = {
    seq: r.seq,
    topic: r.topic,
    payload: r.payload,
    priority: r.priority === 1 ? "alarm" : "routine",
    contentType: r.content_type,
    createdMs: r.created_ms,
  };
  if (r.expires_ms !== null) m.expiresAtMs = r.expires_ms;
  return m;
}
