import type Database from "better-sqlite3";
import { crc32 } from "node:zlib";
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
 * - `meta` keys `open:{topic}`: per stream, the start of the window open when its previous window
 *   was committed, written in that same transaction on the page the counter dirties anyway, so it
 *   costs no extra write. Left behind by a crash, it becomes a loss of that topic at the next start.
 * - `lost_causes` / `lost.causes` (layout 4): why the losses a report covers happened, as `LOSS_CAUSE`
 *   bits, so the report can name a crash (the outbox's own drops need no name: they are the default).
 * - `checkpoint` (layout 4): per stream, the summary of its open window as it stood at the last
 *   checkpoint (docs/delivery.md "Crashes mid-window"); one row per stream and window, rows of windows before
 *   the previous one deleted by the stream's next checkpoint, all of them at start. Rows of a window committed
 *   since are obsolete by the `open:` record. Never a stream derived from identifiers.
 * - `crc` / `tcrc` (layout 3): CRC-32 of the whole row, and of its topic and span alone. SQLite's
 *   quick_check sees only the b-tree structure, so random bytes inside a record pass it; a damaged
 *   row must never be published, and `tcrc` says whether the topic can still be trusted to report
 *   the loss on. Rows written before layout 3 have none and are sent unchecked.
 *
 * There is deliberately no secondary index: every index is one more page written per window, and
 * SD cards wear out. Lanes are read by primary key ranges; waiting alarms are few and kept in memory.
 */
export const LAYOUT_VERSION = 4;

/** What a row counts against the bound beyond payload and topic: key, columns, b-tree cell. */
export const ROW_OVERHEAD = 64;

export const META_KEYS = [
  "next_seq",
  "dropped_routine",
  "dropped_alarms",
  "expired",
  "last_loss_count",
  "last_loss_from",
  "last_loss_to",
  "last_loss_at",
  "damaged",
  "interrupted",
  "cmd_counter",
  // the monthly byte budget (publish/budget.ts): start of the plan's month, when counting began in it, bytes counted, widening
  "airtime_period",
  "airtime_from",
  "airtime_bytes",
  "airtime_level",
  "airtime_step_ms",
  "airtime_step_bytes",
] as const;
export type MetaKey = (typeof META_KEYS)[number];

/** Creates or migrates the tables; returns whether the file had no sequence counter yet (a new outbox). */
export function createOrMigrate(db: Database.Database, firstSeq: number): boolean {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > LAYOUT_VERSION) {
    throw new Error(
      `the outbox was written by a newer roadside (layout ${version}, this one knows ${LAYOUT_VERSION}); install that version again or move the outbox aside`,
    );
  }
  let fresh = false;
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
      CREATE TABLE IF NOT EXISTS checkpoint (
        topic TEXT NOT NULL,
        window_start_ms INTEGER NOT NULL,
        window_s INTEGER NOT NULL,
        observed_from_ms INTEGER NOT NULL,
        observed_ms INTEGER NOT NULL,
        taken_ms INTEGER NOT NULL,
        synced INTEGER NOT NULL,
        summary TEXT NOT NULL,
        crc INTEGER NOT NULL,
        PRIMARY KEY (topic, window_start_ms)
      ) WITHOUT ROWID;
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
    if (version < 3) {
      const cols = new Set((db.prepare("PRAGMA table_info(outbox)").all() as { name: string }[]).map((c) => c.name));
      if (!cols.has("crc")) db.exec("ALTER TABLE outbox ADD COLUMN crc INTEGER");
      if (!cols.has("tcrc")) db.exec("ALTER TABLE outbox ADD COLUMN tcrc INTEGER");
    }
    if (version < 4) {
      const cols = new Set((db.prepare("PRAGMA table_info(outbox)").all() as { name: string }[]).map((c) => c.name));
      if (!cols.has("lost_causes")) db.exec("ALTER TABLE outbox ADD COLUMN lost_causes INTEGER NOT NULL DEFAULT 0");
      const lost = new Set((db.prepare("PRAGMA table_info(lost)").all() as { name: string }[]).map((c) => c.name));
      if (!lost.has("causes")) db.exec("ALTER TABLE lost ADD COLUMN causes INTEGER NOT NULL DEFAULT 0");
    }
    fresh = db.prepare("SELECT value FROM meta WHERE key = 'next_seq'").get() === undefined;
    const insert = db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)");
    for (const k of META_KEYS) insert.run(k, k === "next_seq" ? firstSeq : 0);
    // a recovered outbox starts above every number the damaged one may have used
    // (0 = numbering unknown until the clock is synchronised: see SqliteOutbox's seqFloorFromClock)
    db.prepare("UPDATE meta SET value = ? WHERE key = 'next_seq' AND value < ? AND value > 0").run(firstSeq, firstSeq);
    db.pragma(`user_version = ${LAYOUT_VERSION}`);
  })();
  return fresh;
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
  span_from_ms: number;
  span_to_ms: number;
  lost_count: number;
  lost_from_ms: number;
  lost_to_ms: number;
  /** `LOSS_CAUSE` bits of the report the message carries (0: the outbox's own drops only). */
  lost_causes: number;
  crc: number | null;
  tcrc: number | null;
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
  lost_causes: number;
}

/** Columns of a message to send. */
export const COLS =
  "seq, topic, payload, priority, content_type, created_ms, expires_ms, span_from_ms, span_to_ms, lost_count, lost_from_ms, lost_to_ms, lost_causes, crc, tcrc";
/** Columns a drop needs; `size` counts as `bytes` does: payload plus the topic in UTF-8 bytes. */
export const DROP_COLS =
  "seq, topic, priority, length(payload) + length(CAST(topic AS BLOB)) AS size, span_from_ms, span_to_ms, lost_count, lost_from_ms, lost_to_ms, lost_causes";

/** CRC-32 of everything a row says, payload included (zlib's, IEEE 802.3 polynomial). */
export function rowCrc(r: Omit<Row, "crc" | "tcrc">): number {
  const head = [
    r.seq,
    r.topic,
    r.priority,
    r.content_type,
    r.created_ms,
    r.expires_ms ?? "",
    r.span_from_ms,
    r.span_to_ms,
    r.lost_count,
    r.lost_from_ms,
    r.lost_to_ms,
  ].join("\n");
  // causes only when there are any: rows written before layout 4 (none) keep their checksum
  return crc32(r.payload, crc32(r.lost_causes ? `${head}\n${r.lost_causes}` : head));
}

/** CRC-32 of what names and dates a loss: topic and span. */
export function topicCrc(r: Pick<Row, "topic" | "span_from_ms" | "span_to_ms">): number {
  return crc32(`${r.topic}\n${r.span_from_ms}\n${r.span_to_ms}`);
}

/** Whether a stored row is as it was written: "ok", "row" (damaged, topic and span intact) or "topic" (cannot be attributed). */
export function rowIntegrity(r: Row): "ok" | "row" | "topic" {
  if (r.crc === null || r.crc === undefined) return "ok"; // written before layout 3: nothing to check against
  if (rowCrc(r) === r.crc) return "ok";
  return r.tcrc !== null && topicCrc(r) === r.tcrc ? "row" : "topic";
}

/** Why messages of a topic were lost, as bits (`lost_causes`). */
export const LOSS_CAUSE = { full: 1, expired: 2, damaged: 4, crash: 8 } as const;
export type LossCauseName = keyof typeof LOSS_CAUSE;

/** The cause names of `bits`, in a fixed order. */
export function causeNames(bits: number): LossCauseName[] {
  return (Object.keys(LOSS_CAUSE) as LossCauseName[]).filter((k) => (bits & LOSS_CAUSE[k]) !== 0);
}

/** A stream's checkpoint as stored (see `checkpoint` above). */
export interface CheckpointRow {
  topic: string;
  window_start_ms: number;
  window_s: number;
  observed_from_ms: number;
  observed_ms: number;
  taken_ms: number;
  synced: number;
  summary: string;
  crc: number;
}

/** CRC-32 of a checkpoint row (a damaged one is ignored: its window is then reported lost). */
export function checkpointCrc(r: Omit<CheckpointRow, "crc">): number {
  return crc32([r.topic, r.window_start_ms, r.window_s, r.observed_from_ms, r.observed_ms, r.taken_ms, r.synced, r.summary].join("\n"));
}

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
