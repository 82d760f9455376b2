import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { readSeqFile, writeSeqFile } from "./seqfile.js";
import Database from "better-sqlite3";
import { classify, OutboxError } from "./errors.js";
import type {
  DropTotals,
  LossReport,
  OpenWindow,
  Outbox,
  OutboxDraft,
  OutboxMessage,
  OutboxQuery,
  OutboxStats,
  Priority,
} from "./outbox.js";
import type { DropRow, MetaKey, Row } from "./schema.js";
import { COLS, createOrMigrate, DROP_COLS, rowCrc, rowIntegrity, topicCrc, toMessage } from "./schema.js";

export interface SqliteOutboxOptions {
  /** Database file; its folder is created if missing. `:memory:` for tests that need no durability. */
  path: string;
  /** Wall clock for `createdMs` and drop times, ms since epoch. */
  now: () => number;
  /** Bound on what waiting messages may take, bytes. Default 64 MiB (weeks of a busy site's summaries). */
  maxBytes?: number;
  /**
   * Free space to leave on the disk, bytes, checked through `freeBytes` at every commit: below it the
   * outbox stops growing (new messages replace the oldest), whatever `maxBytes` says. Default 0.
   */
  minFreeBytes?: number;
  /** Free bytes on the outbox's disk (statfs), if known. */
  freeBytes?: () => number | undefined;
  /** Sequence number a new outbox starts from (recovery raises it above a damaged store's). Default 1. */
  firstSeq?: number;
  /**
   * Rewrite a stored payload so it carries a loss report (replacing any it has). Given, a drop is
   * reported in the oldest surviving message of the same topic, i.e. right after the gap, where a
   * subscriber looks for it. Without it, the next message committed on the topic carries it.
   */
  annotate?: (payload: Buffer, lost: LossReport) => Buffer;
  /** How long to wait for a lock another process holds before failing with `locked`, ms. Default 5000. */
  busyTimeoutMs?: number;
  /** Told when a commit had to drop messages (count, and whether alarms had to go). */
  onDrop?: (loss: { count: number; alarms: number; fromMs: number; toMs: number; reason: LossReason }) => void;
  /**
   * The high-water mark file beside the outbox: the highest sequence number reserved, written
   * (fsynced) ahead of use in blocks of `SEQ_BLOCK`. A new or replaced outbox starts at or above it,
   * so numbering never restarts below a number already used. Default `{path}.seq`; false: none.
   */
  seqFile?: string | false;
  /**
   * Numbering is unknown (a damaged outbox, no high-water mark): refuse commits until the wall
   * clock is plausible, then continue at the wall clock in seconds.
   */
  seqFloorFromClock?: boolean;
  /**
   * The signed-command counter to carry over into a replaced outbox (read from the damaged one), if
   * it could be read. Without it, a replaced outbox says the counter is unknown.
   */
  commandCounter?: number;
  /** Told (a sentence for the log) when stored messages failed their checksum and were discarded. */
  onDamaged?: (message: string) => void;
}

/** Earliest plausible wall time (2024-01-01): a Pi without RTC that has not synced yet says 1970. */
export const PLAUSIBLE_WALL_MS = Date.UTC(2024, 0, 1);

export type LossReason = "full" | "expired" | "damaged";

/**
 * Sequence numbers reserved per write of the high-water mark file. A 4-lane site with a manhole and
 * a bin sends about 9,000 messages a day: one extra small fsynced write a day, against one per window.
 */
export const SEQ_BLOCK = 10_000;
/** Largest commit the mark's slack allows for (one window of every stream, plus held-back alarms). */
const MAX_BATCH = 10_000;

/** What a row counts against the bound beyond payload and topic: key, columns, b-tree cell. */
export const ROW_OVERHEAD = 64;
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

const PRIORITY: Record<Priority, number> = { routine: 0, alarm: 1 };

/**
 * The outbox in SQLite (better-sqlite3), WAL mode, `synchronous=FULL`: once `commit` returns, the
 * window is on the disk and survives `kill -9` and power loss (SQLite's WAL is atomic and fsynced at
 * every commit). One transaction per window, never per event, keeps SD-card writes low.
 *
 * Deleting acknowledged messages is batched and written with `synchronous=NORMAL`: losing a delete
 * to a power cut only means that message is sent again with its same sequence number, which
 * at-least-once delivery allows, and it saves an fsync per message while a backlog drains.
 */
export class SqliteOutbox implements Outbox {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly opts: SqliteOutboxOptions;
  private readonly maxBytes: number;
  private readonly st: Record<string, Database.Statement>;
  private readonly commitTx: Database.Transaction<(drafts: readonly OutboxDraft[], windows: readonly OpenWindow[]) => OutboxMessage[]>;
  private readonly ackTx: (seqs: readonly number[]) => void;
  private readonly expireTx: (nowMs: number) => number;
  private readonly damagedTx: (rows: readonly DropRow[]) => void;
  private bytes = 0;
  /** Waiting alarms' sequence numbers, ascending (alarms are rare; this spares an index). */
  private alarms: number[] = [];
  private acked = new Set<number>();
  private ackQueue: number[] = [];
  private ackTimer: NodeJS.Immediate | undefined;
  /**
   * Messages handed to the MQTT session (by `next`) and not yet acknowledged. They may be at the
   * broker already: never dropped (they would be reported lost yet arrive) nor rewritten (a
   * redelivery must carry the same bytes under the same seq). One handed out only when already
   * expired was not sent (the session never sends a stale message): that one may still expire.
   */
  private readonly handedOut = new Map<number, boolean>();
  private readonly seqFile: string | undefined;
  /** Highest sequence number the high-water mark file has reserved (exclusive). */
  private reserved = 0;
  /**
   * Messages below this were stored before this process opened the outbox: the previous process may
   * have sent them without getting the PUBACK, so their bytes are never rewritten (a loss report
   * goes to a later message instead).
   */
  private fromThisRun = 0;
  private waitForClock: boolean;

  constructor(opts: SqliteOutboxOptions) {
    this.opts = opts;
    this.path = opts.path;
    this.waitForClock = false;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    let db: Database.Database | undefined;
    try {
      if (opts.path !== ":memory:") mkdirSync(dirname(opts.path), { recursive: true });
      db = new Database(opts.path, { timeout: opts.busyTimeoutMs ?? 5000 });
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.pragma("secure_delete = ON"); // delivered summaries are overwritten, not left in free pages and the WAL (issue 14)
      const check = db.pragma("quick_check", { simple: true });
      if (check !== "ok") throw Object.assign(new Error(`integrity check: ${String(check)}`), { code: "SQLITE_CORRUPT" });
      const seqFile = opts.seqFile === false || opts.path === ":memory:" ? undefined : (opts.seqFile ?? `${opts.path}.seq`);
      const mark = seqFile !== undefined ? readSeqFile(seqFile) : undefined;
      const fresh = createOrMigrate(db, Math.max(1, Math.floor(opts.firstSeq ?? 1)));
      if (fresh && opts.seqFloorFromClock === true) db.prepare("UPDATE meta SET value = 0 WHERE key = 'next_seq'").run();
      // a new database where numbers were used before (the mark says so) replaces a lost or damaged
      // outbox: the signed-command counter it kept is unknown unless it was salvaged (-1 = unknown)
      if (fresh && (mark !== undefined || opts.seqFloorFromClock === true || opts.commandCounter !== undefined)) {
        db.prepare("UPDATE meta SET value = ? WHERE key = 'cmd_counter'").run(opts.commandCounter ?? -1);
      }
      const next = db.prepare("SELECT value FROM meta WHERE key = 'next_seq'").pluck().get() as number;
      // A new database beside an existing mark is a lost or replaced outbox, and one whose counter is
      // more than a block below the mark is an old copy put back: either way continue at the mark.
      // (An intact outbox is always within a block of it: the mark is written one block ahead.)
      if (mark !== undefined && next < mark && (fresh || next === 0 || next + SEQ_BLOCK + MAX_BATCH < mark)) {
        db.prepare("UPDATE meta SET value = ? WHERE key = 'next_seq'").run(mark);
      }
      this.reserved = mark ?? 0;
      this.fromThisRun = (db.prepare("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox").pluck().get() as number) ?? 1;
      this.waitForClock = (db.prepare("SELECT value FROM meta WHERE key = 'next_seq'").pluck().get() as number) === 0;
      this.seqFile = seqFile;
    } catch (err) {
      db?.close();
      throw classify(err, opts.path, "opening it");
    }
    this.db = db;
    const p = (sql: string): Database.Statement => db.prepare(sql);
    this.st = {
      getMeta: p("SELECT value FROM meta WHERE key = ?").pluck(),
      setMeta: p("UPDATE meta SET value = ? WHERE key = ?"),
      addMeta: p("UPDATE meta SET value = value + ? WHERE key = ?"),
      insert: p(
        "INSERT INTO outbox (seq, topic, payload, priority, content_type, created_ms, expires_ms, span_from_ms, span_to_ms, lost_count, lost_from_ms, lost_to_ms, crc, tcrc) VALUES (@seq, @topic, @payload, @priority, @content_type, @created_ms, @expires_ms, @span_from_ms, @span_to_ms, @lost_count, @lost_from_ms, @lost_to_ms, @crc, @tcrc)",
      ),
      del: p("DELETE FROM outbox WHERE seq = ? RETURNING priority, length(payload) + length(CAST(topic AS BLOB)) AS size"),
      bySeq: p(`SELECT ${COLS} FROM outbox WHERE seq = ?`),
      range: p(`SELECT ${COLS} FROM outbox WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?`),
      rangePrio: p(`SELECT ${COLS} FROM outbox WHERE seq > ? AND seq < ? AND priority = ? ORDER BY seq LIMIT ?`),
      oldest: p(`SELECT ${DROP_COLS} FROM outbox WHERE priority = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT 64`),
      expired: p(`SELECT ${DROP_COLS} FROM outbox WHERE expires_ms IS NOT NULL AND expires_ms <= ?`),
      delPlain: p("DELETE FROM outbox WHERE seq = ?"),
      survivor: p(`SELECT ${COLS} FROM outbox WHERE topic = ? AND seq > ? ORDER BY seq LIMIT 64`),
      annotate: p("UPDATE outbox SET payload = ?, lost_count = ?, lost_from_ms = ?, lost_to_ms = ?, crc = ? WHERE seq = ?"),
      getLost: p("SELECT count, from_ms, to_ms FROM lost WHERE topic = ?"),
      delLost: p("DELETE FROM lost WHERE topic = ?"),
      addLost: p(
        "INSERT INTO lost (topic, count, from_ms, to_ms) VALUES (?, ?, ?, ?) ON CONFLICT(topic) DO UPDATE SET count = count + excluded.count, from_ms = min(from_ms, excluded.from_ms), to_ms = max(to_ms, excluded.to_ms)",
      ),
      unreported: p("SELECT COALESCE(SUM(count), 0) FROM lost").pluck(),
      // in `meta`, whose one page every commit rewrites anyway (the counter): no extra page per window
      setOpen: p("INSERT INTO meta (key, value) VALUES ('open:' || ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
      delOpen: p("DELETE FROM meta WHERE key = 'open:' || ?"),
      allOpen: p("SELECT substr(key, 6) AS topic, value AS from_ms FROM meta WHERE substr(key, 1, 5) = 'open:'"),
      summary: p("SELECT COUNT(*) AS n, MIN(created_ms) AS o FROM outbox"),
    };
    this.bytes =
      (db
        .prepare(`SELECT COALESCE(SUM(length(payload) + length(CAST(topic AS BLOB)) + ${ROW_OVERHEAD}), 0) FROM outbox`)
        .pluck()
        .get() as number) ?? 0;
    this.alarms = db.prepare("SELECT seq FROM outbox WHERE priority = 1 ORDER BY seq").pluck().all() as number[];
    this.commitTx = db.transaction((drafts: readonly OutboxDraft[], windows: readonly OpenWindow[]) => {
      const out = drafts.length > 0 ? this.doCommit(drafts) : [];
      for (const w of windows) {
        if (w.fromMs === undefined) this.st["delOpen"]!.run(w.topic);
        else this.st["setOpen"]!.run(w.topic, Math.round(w.fromMs));
      }
      return out;
    });
    this.ackTx = db.transaction((seqs: readonly number[]) => {
      for (const seq of seqs) {
        const r = this.st["del"]!.get(seq) as { priority: number; size: number } | undefined;
        if (!r) continue;
        this.bytes -= r.size + ROW_OVERHEAD;
        if (r.priority === 1) this.removeAlarm(seq);
      }
    });
    this.damagedTx = db.transaction((rows: readonly DropRow[]) => this.drop(rows, "damaged"));
    this.expireTx = db.transaction((nowMs: number) => {
      const rows = (this.st["expired"]!.all(Math.round(nowMs)) as DropRow[]).filter((r) => !this.inFlight(r.seq));
      if (rows.length > 0) this.drop(rows, "expired");
      return rows.length;
    });
  }

  commit(drafts: readonly OutboxDraft[], windows: readonly OpenWindow[] = []): OutboxMessage[] {
    if (drafts.length === 0 && windows.length === 0) return [];
    try {
      this.flushAcks(); // so room is made among messages still waiting
      // IMMEDIATE: take the write lock before reading next_seq, so two writers can never share a number
      return this.commitTx.immediate(drafts, windows);
    } catch (err) {
      throw classify(err, this.path, `committing ${drafts.length} message(s)`);
    }
  }

  private doCommit(drafts: readonly OutboxDraft[]): OutboxMessage[] {
    const created = Math.round(this.opts.now());
    if (this.waitForClock) {
      if (created < PLAUSIBLE_WALL_MS) {
        throw new OutboxError(
          "io",
          this.path,
          `the outbox ${this.path} was replaced after damage and no record of the sequence numbers used survived; numbering continues at the wall clock in seconds once the clock is synchronised (check NTP: timedatectl)`,
        );
      }
      this.st["setMeta"]!.run(Math.max(this.meta("next_seq"), Math.floor(created / 1000)), "next_seq");
      this.waitForClock = false;
    }
    const first = this.meta("next_seq");
    this.reserve(first + drafts.length);
    // encode once to learn the size, make room, then re-encode only drafts that must report a loss
    const plain = drafts.map((d, i) => Buffer.from(d.encode(first + i, undefined)));
    const sizes = drafts.map((d, i) => plain[i]!.length + Buffer.byteLength(d.topic) + ROW_OVERHEAD);
    const refused = this.makeRoom(drafts, sizes, first);
    const out: OutboxMessage[] = [];
    drafts.forEach((d, i) => {
      if (refused.has(i)) return; // its number stays unused: a gap, reported on its topic
      const seq = first + i;
      const lost = this.takeLoss(d.topic);
      const payload = lost ? Buffer.from(d.encode(seq, lost)) : plain[i]!;
      const row = {
        seq,
        topic: d.topic,
        payload,
        priority: PRIORITY[d.priority],
        content_type: d.contentType,
        created_ms: created,
        expires_ms: d.expiresAtMs === undefined ? null : Math.round(d.expiresAtMs),
        span_from_ms: Math.round(d.spanFromMs ?? created),
        span_to_ms: Math.round(d.spanToMs ?? d.spanFromMs ?? created),
        lost_count: lost?.count ?? 0,
        lost_from_ms: lost?.fromMs ?? 0,
        lost_to_ms: lost?.toMs ?? 0,
      };
      this.st["insert"]!.run({ ...row, crc: rowCrc(row), tcrc: topicCrc(row) });
      this.bytes += payload.length + Buffer.byteLength(d.topic) + ROW_OVERHEAD;
      if (d.priority === "alarm") this.alarms.push(seq);
      const m: OutboxMessage = { seq, topic: d.topic, payload, priority: d.priority, contentType: d.contentType, createdMs: created };
      if (d.expiresAtMs !== undefined) m.expiresAtMs = d.expiresAtMs;
      out.push(m);
    });
    this.st["setMeta"]!.run(first + drafts.length, "next_seq");
    return out;
  }

  recoverInterrupted(nowMs: number): number {
    const now = Math.round(nowMs);
    try {
      return this.db
        .transaction(() => {
          const rows = this.st["allOpen"]!.all() as { topic: string; from_ms: number }[];
          if (rows.length === 0) return 0;
          let from = Number.POSITIVE_INFINITY;
          for (const r of rows) {
            // to the restart: windows that would have started while the device was down are inside the span too
            this.st["addLost"]!.run(r.topic, 1, r.from_ms, Math.max(now, r.from_ms));
            this.st["delOpen"]!.run(r.topic);
            from = Math.min(from, r.from_ms);
          }
          this.st["addMeta"]!.run(rows.length, "interrupted");
          this.st["setMeta"]!.run(rows.length, "last_loss_count");
          this.st["setMeta"]!.run(from, "last_loss_from");
          this.st["setMeta"]!.run(Math.max(now, from), "last_loss_to");
          this.st["setMeta"]!.run(now, "last_loss_at");
          return rows.length;
        })
        .immediate();
    } catch (err) {
      throw classify(err, this.path, "accounting for windows open at the last crash");
    }
  }

  /** The last accepted signed command's issuedAt (0: none yet), or undefined when it was lost with a replaced outbox. */
  commandCounter(): number | undefined {
    const v = this.meta("cmd_counter");
    return v < 0 ? undefined : v;
  }

  /** Record the signed-command counter, fsynced before this returns (it guards against replays). */
  setCommandCounter(value: number): void {
    try {
      this.db.transaction(() => this.st["setMeta"]!.run(Math.max(0, Math.round(value)), "cmd_counter")).immediate();
    } catch (err) {
      throw classify(err, this.path, "recording the signed-command counter");
    }
  }

  /** Write the high-water mark a block ahead before numbers up to `upTo` (exclusive) are used. */
  private reserve(upTo: number): void {
    if (this.seqFile === undefined || upTo <= this.reserved) return;
    const mark = upTo + SEQ_BLOCK;
    writeSeqFile(this.seqFile, mark);
    this.reserved = mark;
  }

  /**
   * Make room for the drafts (docs/delivery.md "Bounded storage"): the oldest stored routine
   * messages first, then this commit's own routine drafts (newest data, but still routine), and
   * stored alarms only to fit an incoming alarm. Messages handed to the broker are never touched.
   * Returns the indexes of drafts refused; if only messages in flight are left, alarms are stored
   * beyond the bound rather than lost.
   */
  private makeRoom(drafts: readonly OutboxDraft[], sizes: readonly number[], below: number): Set<number> {
    const refused = new Set<number>();
    let limit = this.maxBytes;
    const min = this.opts.minFreeBytes ?? 0;
    if (min > 0) {
      const free = this.opts.freeBytes?.();
      // freed SQLite pages are reused, not returned to the file system: stop growing, keep the newest
      if (free !== undefined && free < min) limit = Math.min(limit, this.bytes);
    }
    let need = this.bytes + sizes.reduce((a, b) => a + b, 0) - limit;
    if (need <= 0) return refused;
    const victims: DropRow[] = [];
    need = this.takeOldest(0, need, below, victims);
    const unstored: DropRow[] = [];
    drafts.forEach((d, i) => {
      if (need <= 0 || d.priority !== "routine") return;
      refused.add(i);
      need -= sizes[i]!;
      const from = Math.round(d.spanFromMs ?? this.opts.now());
      unstored.push({
        seq: below + i,
        topic: d.topic,
        priority: 0,
        size: sizes[i]! - ROW_OVERHEAD,
        span_from_ms: from,
        span_to_ms: Math.round(d.spanToMs ?? from),
        lost_count: 0,
        lost_from_ms: 0,
        lost_to_ms: 0,
      });
    });
    if (need > 0 && drafts.some((d) => d.priority === "alarm")) need = this.takeOldest(1, need, below, victims);
    this.drop(victims, "full", true);
    this.drop(unstored, "full", true, false);
    return refused;
  }

  /** Delete the oldest messages of one priority not in flight until `need` bytes are free; returns what is still needed. */
  private takeOldest(prio: number, need: number, below: number, victims: DropRow[]): number {
    let after = 0;
    while (need > 0) {
      const rows = this.st["oldest"]!.all(prio, after, below) as DropRow[];
      if (rows.length === 0) break;
      for (const r of rows) {
        after = r.seq;
        if (this.inFlight(r.seq)) continue;
        victims.push(r);
        need -= r.size + ROW_OVERHEAD;
        this.st["delPlain"]!.run(r.seq);
        if (need <= 0) break;
      }
    }
    return need;
  }

  /** Account for removed rows (and delete them unless already deleted): reports per topic, totals. */
  private drop(rows: readonly DropRow[], reason: LossReason, deleted = false, stored = true): void {
    if (rows.length === 0) return;
    let count = 0;
    let alarms = 0;
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    const byTopic = new Map<string, LossReport & { afterSeq: number }>();
    for (const r of rows) {
      if (!deleted) this.st["delPlain"]!.run(r.seq);
      if (stored) this.bytes -= r.size + ROW_OVERHEAD;
      if (r.priority === 1) {
        alarms++;
        this.removeAlarm(r.seq);
      }
      count++;
      from = Math.min(from, r.span_from_ms);
      to = Math.max(to, r.span_to_ms);
      if (r.topic === "") continue; // a damaged row whose topic cannot be trusted: counted in health only
      // the row's own report was never delivered: it travels on with the row's loss
      const t = byTopic.get(r.topic) ?? { count: 0, fromMs: Number.POSITIVE_INFINITY, toMs: Number.NEGATIVE_INFINITY, afterSeq: 0 };
      t.count += 1 + r.lost_count;
      t.fromMs = Math.min(t.fromMs, r.span_from_ms, r.lost_count > 0 ? r.lost_from_ms : Number.POSITIVE_INFINITY);
      t.toMs = Math.max(t.toMs, r.span_to_ms, r.lost_count > 0 ? r.lost_to_ms : Number.NEGATIVE_INFINITY);
      t.afterSeq = Math.max(t.afterSeq, r.seq);
      byTopic.set(r.topic, t);
    }
    for (const [topic, loss] of byTopic) this.report(topic, loss);
    if (reason === "expired") this.st["addMeta"]!.run(count, "expired");
    else if (reason === "damaged") this.st["addMeta"]!.run(count, "damaged");
    else {
      this.st["addMeta"]!.run(count - alarms, "dropped_routine");
      this.st["addMeta"]!.run(alarms, "dropped_alarms");
    }
    if (!Number.isFinite(from)) from = to = Math.round(this.opts.now());
    this.st["setMeta"]!.run(count, "last_loss_count");
    this.st["setMeta"]!.run(from, "last_loss_from");
    this.st["setMeta"]!.run(to, "last_loss_to");
    this.st["setMeta"]!.run(Math.round(this.opts.now()), "last_loss_at");
    this.opts.onDrop?.({ count, alarms, fromMs: from, toMs: to, reason });
  }

  /**
   * Put a loss where the subscriber meets the gap: into the oldest message of the topic that is still
   * waiting after the dropped ones and was never handed to the broker by this process nor stored
   * by an earlier one (merged with any report it
   * already carries, which covers the losses just before those). A message already handed out keeps
   * its bytes; if no such message waits, the next message committed on the topic carries the loss.
   */
  private report(topic: string, loss: LossReport & { afterSeq: number }): void {
    const annotate = this.opts.annotate;
    if (annotate) {
      let after = loss.afterSeq;
      for (;;) {
        const rows = this.st["survivor"]!.all(topic, after) as Row[];
        if (rows.length === 0) break;
        for (const s of rows) {
          after = s.seq;
          if (this.inFlight(s.seq) || s.seq < this.fromThisRun) continue;
          let payload: Buffer | undefined;
          if (rowIntegrity(s) === "ok") {
            const merged: LossReport =
              s.lost_count > 0
                ? {
                    count: loss.count + s.lost_count,
                    fromMs: Math.min(loss.fromMs, s.lost_from_ms),
                    toMs: Math.max(loss.toMs, s.lost_to_ms),
                  }
                : { count: loss.count, fromMs: loss.fromMs, toMs: loss.toMs };
            try {
              payload = annotate(s.payload, merged);
            } catch {
              payload = undefined; // undecodable: a row damaged before checksums existed
            }
            if (payload) {
              const row = { ...s, payload, lost_count: merged.count, lost_from_ms: merged.fromMs, lost_to_ms: merged.toMs };
              this.st["annotate"]!.run(payload, merged.count, merged.fromMs, merged.toMs, rowCrc(row), s.seq);
              this.bytes += payload.length - s.payload.length;
              return;
            }
          }
          // damaged: never sent; its loss joins this one and the search goes on
          this.quarantine([s]);
          loss.count += 1 + s.lost_count;
          loss.fromMs = Math.min(loss.fromMs, s.span_from_ms, s.lost_count > 0 ? s.lost_from_ms : Number.POSITIVE_INFINITY);
          loss.toMs = Math.max(loss.toMs, s.span_to_ms, s.lost_count > 0 ? s.lost_to_ms : Number.NEGATIVE_INFINITY);
        }
      }
    }
    this.st["addLost"]!.run(topic, loss.count, loss.fromMs, loss.toMs);
  }

  /** Delete damaged rows and count them (totals only: the caller reports their loss). */
  private quarantine(rows: readonly Row[]): void {
    for (const r of rows) {
      this.st["delPlain"]!.run(r.seq);
      this.bytes -= r.payload.length + Buffer.byteLength(r.topic) + ROW_OVERHEAD;
      if (r.priority === 1) this.removeAlarm(r.seq);
    }
    this.st["addMeta"]!.run(rows.length, "damaged");
  }

  /** Rows that fail their checksum: removed, never sent, and reported lost on their topic like drops. */
  private discardDamaged(rows: readonly Row[]): void {
    this.damagedTx(
      rows.map((r): DropRow => {
        const attributable = rowIntegrity(r) === "row";
        return {
          seq: r.seq,
          topic: attributable ? r.topic : "",
          priority: r.priority === 1 ? 1 : 0,
          size: r.payload.length + Buffer.byteLength(r.topic),
          span_from_ms: attributable ? r.span_from_ms : Number.POSITIVE_INFINITY,
          span_to_ms: attributable ? r.span_to_ms : Number.NEGATIVE_INFINITY,
          lost_count: attributable ? r.lost_count : 0,
          lost_from_ms: r.lost_from_ms,
          lost_to_ms: r.lost_to_ms,
        };
      }),
    );
    const names = rows.map((r) => r.seq).join(", ");
    this.opts.onDamaged?.(
      `${rows.length} damaged message(s) in the outbox ${this.path} (seq ${names}) failed their checksum; they were not sent and are reported lost. Check the SD card (dmesg).`,
    );
  }

  private takeLoss(topic: string): LossReport | undefined {
    const r = this.st["getLost"]!.get(topic) as { count: number; from_ms: number; to_ms: number } | undefined;
    if (!r) return undefined;
    this.st["delLost"]!.run(topic);
    return { count: r.count, fromMs: r.from_ms, toMs: r.to_ms };
  }

  /**
   * Waiting messages in sequence order, each checked against its checksum first (a damaged one is
   * removed and reported lost, never returned). What this returns is taken as handed to the broker.
   */
  next(q: OutboxQuery): OutboxMessage[] {
    for (;;) {
      const damaged: Row[] = [];
      const out = this.read(q, damaged);
      if (damaged.length === 0) {
        const now = this.opts.now();
        for (const m of out) {
          const stale = m.expiresAtMs !== undefined && m.expiresAtMs <= now;
          this.handedOut.set(m.seq, this.handedOut.get(m.seq) === true || !stale);
        }
        return out;
      }
      this.discardDamaged(damaged);
    }
  }

  private read(q: OutboxQuery, damaged: Row[]): OutboxMessage[] {
    const before = q.before ?? Number.MAX_SAFE_INTEGER;
    const out: OutboxMessage[] = [];
    const take = (r: Row): void => {
      if (rowIntegrity(r) === "ok") out.push(toMessage(r));
      else damaged.push(r);
    };
    if (q.priority === "alarm") {
      for (const seq of this.alarms) {
        if (out.length >= q.limit) break;
        if (seq <= q.after || seq >= before || this.acked.has(seq)) continue;
        const r = this.st["bySeq"]!.get(seq) as Row | undefined;
        if (r) take(r);
      }
      return out;
    }
    const rows = (
      q.priority === undefined
        ? this.st["range"]!.all(q.after, before, q.limit + this.acked.size)
        : this.st["rangePrio"]!.all(q.after, before, PRIORITY[q.priority], q.limit + this.acked.size)
    ) as Row[];
    for (const r of rows) {
      if (this.acked.has(r.seq)) continue;
      take(r);
      if (out.length >= q.limit) break;
    }
    return out;
  }

  pending(limit: number, exclude: ReadonlySet<number>): OutboxMessage[] {
    const out: OutboxMessage[] = [];
    let after = 0;
    while (out.length < limit) {
      const batch = this.next({ after, limit: limit + exclude.size });
      if (batch.length === 0) break;
      for (const m of batch) {
        after = m.seq;
        if (!exclude.has(m.seq)) out.push(m);
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  ack(seq: number): void {
    this.handedOut.delete(seq);
    if (this.acked.has(seq)) return;
    this.acked.add(seq);
    this.ackQueue.push(seq);
    // every PUBACK that arrives in one event-loop turn is deleted in one transaction
    this.ackTimer ??= setImmediate(() => this.flushAcks());
  }

  /** Delete acknowledged messages now. */
  flushAcks(): void {
    if (this.ackTimer) clearImmediate(this.ackTimer);
    this.ackTimer = undefined;
    if (this.ackQueue.length === 0 || !this.db.open) return;
    const seqs = this.ackQueue;
    this.ackQueue = [];
    try {
      this.db.pragma("synchronous = NORMAL");
      this.ackTx(seqs);
    } catch (err) {
      // the rows stay and are sent again after a restart (same sequence numbers): nothing is lost
      throw classify(err, this.path, `deleting ${seqs.length} delivered message(s)`);
    } finally {
      this.db.pragma("synchronous = FULL");
      for (const s of seqs) this.acked.delete(s);
    }
  }

  expire(nowMs: number): number {
    try {
      this.flushAcks();
      return this.expireTx(nowMs);
    } catch (err) {
      throw classify(err, this.path, "removing expired messages");
    }
  }

  stats(): OutboxStats {
    this.flushAcks();
    const row = this.st["summary"]!.get() as { n: number; o: number | null };
    const drops: DropTotals = {
      routine: this.meta("dropped_routine"),
      alarms: this.meta("dropped_alarms"),
      expired: this.meta("expired"),
      damaged: this.meta("damaged"),
      interrupted: this.meta("interrupted"),
    };
    const lastAt = this.meta("last_loss_at");
    if (lastAt > 0)
      drops.last = {
        count: this.meta("last_loss_count"),
        fromMs: this.meta("last_loss_from"),
        toMs: this.meta("last_loss_to"),
        atMs: lastAt,
      };
    return {
      depth: row.n,
      bytes: this.bytes,
      maxBytes: this.maxBytes,
      oldestMs: row.o ?? undefined,
      nextSeq: this.meta("next_seq"),
      drops,
      unreported: this.st["unreported"]!.get() as number,
    };
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.flushAcks();
    } finally {
      this.db.close();
    }
  }

  /** Whether a message may be at the broker already (handed out fresh, not yet acknowledged). */
  private inFlight(seq: number): boolean {
    return this.handedOut.get(seq) === true;
  }

  private meta(key: MetaKey): number {
    return this.st["getMeta"]!.get(key) as number;
  }

  private removeAlarm(seq: number): void {
    const i = this.alarms.indexOf(seq);
    if (i >= 0) this.alarms.splice(i, 1);
  }
}

export { OutboxError };
