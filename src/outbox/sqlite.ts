import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { classify, OutboxError } from "./errors.js";
import type { DropTotals, LossReport, Outbox, OutboxDraft, OutboxMessage, OutboxQuery, OutboxStats, Priority } from "./outbox.js";
import type { DropRow, MetaKey, Row } from "./schema.js";
import { COLS, createOrMigrate, DROP_COLS, toMessage } from "./schema.js";

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
  onDrop?: (loss: { count: number; alarms: number; fromMs: number; toMs: number; reason: "full" | "expired" }) => void;
}

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
  private readonly commitTx: Database.Transaction<(drafts: readonly OutboxDraft[]) => OutboxMessage[]>;
  private readonly ackTx: (seqs: readonly number[]) => void;
  private readonly expireTx: (nowMs: number) => number;
  private bytes = 0;
  /** Waiting alarms' sequence numbers, ascending (alarms are rare; this spares an index). */
  private alarms: number[] = [];
  private acked = new Set<number>();
  private ackQueue: number[] = [];
  private ackTimer: NodeJS.Immediate | undefined;

  constructor(opts: SqliteOutboxOptions) {
    this.opts = opts;
    this.path = opts.path;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    let db: Database.Database | undefined;
    try {
      if (opts.path !== ":memory:") mkdirSync(dirname(opts.path), { recursive: true });
      db = new Database(opts.path, { timeout: opts.busyTimeoutMs ?? 5000 });
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      const check = db.pragma("quick_check", { simple: true });
      if (check !== "ok") throw Object.assign(new Error(`integrity check: ${String(check)}`), { code: "SQLITE_CORRUPT" });
      createOrMigrate(db, Math.max(1, Math.floor(opts.firstSeq ?? 1)));
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
        "INSERT INTO outbox (seq, topic, payload, priority, content_type, created_ms, expires_ms, span_from_ms, span_to_ms, lost_count, lost_from_ms, lost_to_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      del: p("DELETE FROM outbox WHERE seq = ? RETURNING priority, length(payload) + length(CAST(topic AS BLOB)) AS size"),
      bySeq: p(`SELECT ${COLS} FROM outbox WHERE seq = ?`),
      range: p(`SELECT ${COLS} FROM outbox WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?`),
      rangePrio: p(`SELECT ${COLS} FROM outbox WHERE seq > ? AND seq < ? AND priority = ? ORDER BY seq LIMIT ?`),
      oldest: p(`SELECT ${DROP_COLS} FROM outbox WHERE priority = ? AND seq < ? ORDER BY seq LIMIT 64`),
      expired: p(`SELECT ${DROP_COLS} FROM outbox WHERE expires_ms IS NOT NULL AND expires_ms <= ?`),
      delPlain: p("DELETE FROM outbox WHERE seq = ?"),
      survivor: p("SELECT seq, payload, lost_count, lost_from_ms, lost_to_ms FROM outbox WHERE topic = ? AND seq > ? ORDER BY seq LIMIT 1"),
      annotate: p("UPDATE outbox SET payload = ?, lost_count = ?, lost_from_ms = ?, lost_to_ms = ? WHERE seq = ?"),
      getLost: p("SELECT count, from_ms, to_ms FROM lost WHERE topic = ?"),
      delLost: p("DELETE FROM lost WHERE topic = ?"),
      addLost: p(
        "INSERT INTO lost (topic, count, from_ms, to_ms) VALUES (?, ?, ?, ?) ON CONFLICT(topic) DO UPDATE SET count = count + excluded.count, from_ms = min(from_ms, excluded.from_ms), to_ms = max(to_ms, excluded.to_ms)",
      ),
      unreported: p("SELECT COALESCE(SUM(count), 0) FROM lost").pluck(),
      summary: p("SELECT COUNT(*) AS n, MIN(created_ms) AS o FROM outbox"),
    };
    this.bytes = (db.prepare(`SELECT COALESCE(SUM(length(payload) + length(CAST(topic AS BLOB)) + ${ROW_OVERHEAD}), 0) FROM outbox`).pluck().get() as number) ?? 0;
    this.alarms = db.prepare("SELECT seq FROM outbox WHERE priority = 1 ORDER BY seq").pluck().all() as number[];
    this.commitTx = db.transaction((drafts: readonly OutboxDraft[]) => this.doCommit(drafts));
    this.ackTx = db.transaction((seqs: readonly number[]) => {
      for (const seq of seqs) {
        const r = this.st["del"]!.get(seq) as { priority: number; size: number } | undefined;
        if (!r) continue;
        this.bytes -= r.size + ROW_OVERHEAD;
        if (r.priority === 1) this.removeAlarm(seq);
      }
    });
    this.expireTx = db.transaction((nowMs: number) => {
      const rows = this.st["expired"]!.all(Math.round(nowMs)) as DropRow[];
      if (rows.length > 0) this.drop(rows, "expired");
      return rows.length;
    });
  }

  commit(drafts: readonly OutboxDraft[]): OutboxMessage[] {
    if (drafts.length === 0) return [];
    try {
      this.flushAcks(); // so room is made among messages still waiting
      // IMMEDIATE: take the write lock before reading next_seq, so two writers can never share a number
      return this.commitTx.immediate(drafts);
    } catch (err) {
      throw classify(err, this.path, `committing ${drafts.length} message(s)`);
    }
  }

  private doCommit(drafts: readonly OutboxDraft[]): OutboxMessage[] {
    const first = this.meta("next_seq");
    const created = Math.round(this.opts.now());
    // encode once to learn the size, make room, then re-encode only drafts that must report a loss
    const plain = drafts.map((d, i) => Buffer.from(d.encode(first + i, undefined)));
    let incoming = 0;
    drafts.forEach((d, i) => (incoming += plain[i]!.length + Buffer.byteLength(d.topic) + ROW_OVERHEAD));
    this.makeRoom(incoming, first);
    const out: OutboxMessage[] = [];
    drafts.forEach((d, i) => {
      const seq = first + i;
      const lost = this.takeLoss(d.topic);
      const payload = lost ? Buffer.from(d.encode(seq, lost)) : plain[i]!;
      this.st["insert"]!.run(
        seq,
        d.topic,
        payload,
        PRIORITY[d.priority],
        d.contentType,
        created,
        d.expiresAtMs === undefined ? null : Math.round(d.expiresAtMs),
        Math.round(d.spanFromMs ?? created),
        Math.round(d.spanToMs ?? d.spanFromMs ?? created),
        lost?.count ?? 0,
        lost?.fromMs ?? 0,
        lost?.toMs ?? 0,
      );
      this.bytes += payload.length + Buffer.byteLength(d.topic) + ROW_OVERHEAD;
      if (d.priority === "alarm") this.alarms.push(seq);
      const m: OutboxMessage = { seq, topic: d.topic, payload, priority: d.priority, contentType: d.contentType, createdMs: created };
      if (d.expiresAtMs !== undefined) m.expiresAtMs = d.expiresAtMs;
      out.push(m);
    });
    this.st["setMeta"]!.run(first + drafts.length, "next_seq");
    return out;
  }

  /** Drop the oldest routine messages, then the oldest alarms, until `incoming` bytes fit. */
  private makeRoom(incoming: number, below: number): void {
    let limit = this.maxBytes;
    const min = this.opts.minFreeBytes ?? 0;
    if (min > 0) {
      const free = this.opts.freeBytes?.();
      // freed SQLite pages are reused, not returned to the file system: stop growing, keep the newest
      if (free !== undefined && free < min) limit = Math.min(limit, this.bytes);
    }
    if (this.bytes + incoming <= limit) return;
    const victims: DropRow[] = [];
    let need = this.bytes + incoming - limit;
    for (const prio of [0, 1]) {
      while (need > 0) {
        const rows = this.st["oldest"]!.all(prio, below) as DropRow[];
        if (rows.length === 0) break;
        for (const r of rows) {
          victims.push(r);
          need -= r.size + ROW_OVERHEAD;
          this.st["delPlain"]!.run(r.seq); // delete as we go so the next page of `oldest` moves on
          if (need <= 0) break;
        }
      }
    }
    this.drop(victims, "full", true);
  }

  /** Account for removed rows (and delete them unless already deleted): reports per topic, totals. */
  private drop(rows: readonly DropRow[], reason: "full" | "expired", deleted = false): void {
    if (rows.length === 0) return;
    let count = 0;
    let alarms = 0;
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    const byTopic = new Map<string, LossReport & { afterSeq: number }>();
    for (const r of rows) {
      if (!deleted) this.st["delPlain"]!.run(r.seq);
      this.bytes -= r.size + ROW_OVERHEAD;
      if (r.priority === 1) {
        alarms++;
        this.removeAlarm(r.seq);
      }
      // the row's own report was never delivered: it travels on with the row's loss
      const t = byTopic.get(r.topic) ?? { count: 0, fromMs: Number.POSITIVE_INFINITY, toMs: Number.NEGATIVE_INFINITY, afterSeq: 0 };
      t.count += 1 + r.lost_count;
      t.fromMs = Math.min(t.fromMs, r.span_from_ms, r.lost_count > 0 ? r.lost_from_ms : Number.POSITIVE_INFINITY);
      t.toMs = Math.max(t.toMs, r.span_to_ms, r.lost_count > 0 ? r.lost_to_ms : Number.NEGATIVE_INFINITY);
      t.afterSeq = Math.max(t.afterSeq, r.seq);
      byTopic.set(r.topic, t);
      count++;
      from = Math.min(from, r.span_from_ms);
      to = Math.max(to, r.span_to_ms);
    }
    for (const [topic, loss] of byTopic) this.report(topic, loss);
    if (reason === "expired") this.st["addMeta"]!.run(count, "expired");
    else {
      this.st["addMeta"]!.run(count - alarms, "dropped_routine");
      this.st["addMeta"]!.run(alarms, "dropped_alarms");
    }
    this.st["setMeta"]!.run(count, "last_loss_count");
    this.st["setMeta"]!.run(from, "last_loss_from");
    this.st["setMeta"]!.run(to, "last_loss_to");
    this.st["setMeta"]!.run(Math.round(this.opts.now()), "last_loss_at");
    this.opts.onDrop?.({ count, alarms, fromMs: from, toMs: to, reason });
  }

  /**
   * Put a loss where the subscriber meets the gap: into the oldest message of the topic that is still
   * waiting after the dropped ones (merged with any report it already carries, which covers the
   * losses just before those). If none waits, the next message committed on the topic carries it.
   */
  private report(topic: string, loss: LossReport & { afterSeq: number }): void {
    const annotate = this.opts.annotate;
    const s = annotate
      ? (this.st["survivor"]!.get(topic, loss.afterSeq) as { seq: number; payload: Buffer; lost_count: number; lost_from_ms: number; lost_to_ms: number } | undefined)
      : undefined;
    if (!annotate || !s) {
      this.st["addLost"]!.run(topic, loss.count, loss.fromMs, loss.toMs);
      return;
    }
    const merged: LossReport =
      s.lost_count > 0
        ? { count: loss.count + s.lost_count, fromMs: Math.min(loss.fromMs, s.lost_from_ms), toMs: Math.max(loss.toMs, s.lost_to_ms) }
        : { count: loss.count, fromMs: loss.fromMs, toMs: loss.toMs };
    const payload = annotate(s.payload, merged);
    this.st["annotate"]!.run(payload, merged.count, merged.fromMs, merged.toMs, s.seq);
    this.bytes += payload.length - s.payload.length;
  }

  private takeLoss(topic: string): LossReport | undefined {
    const r = this.st["getLost"]!.get(topic) as { count: number; from_ms: number; to_ms: number } | undefined;
    if (!r) return undefined;
    this.st["delLost"]!.run(topic);
    return { count: r.count, fromMs: r.from_ms, toMs: r.to_ms };
  }

  next(q: OutboxQuery): OutboxMessage[] {
    const before = q.before ?? Number.MAX_SAFE_INTEGER;
    if (q.priority === "alarm") {
      const out: OutboxMessage[] = [];
      for (const seq of this.alarms) {
        if (out.length >= q.limit) break;
        if (seq <= q.after || seq >= before || this.acked.has(seq)) continue;
        const r = this.st["bySeq"]!.get(seq) as Row | undefined;
        if (r) out.push(toMessage(r));
      }
      return out;
    }
    const rows = (
      q.priority === undefined
        ? this.st["range"]!.all(q.after, before, q.limit + this.acked.size)
        : this.st["rangePrio"]!.all(q.after, before, PRIORITY[q.priority], q.limit + this.acked.size)
    ) as Row[];
    const out: OutboxMessage[] = [];
    for (const r of rows) {
      if (this.acked.has(r.seq)) continue;
      out.push(toMessage(r));
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
    const drops: DropTotals = { routine: this.meta("dropped_routine"), alarms: this.meta("dropped_alarms"), expired: this.meta("expired") };
    const lastAt = this.meta("last_loss_at");
    if (lastAt > 0) drops.last = { count: this.meta("last_loss_count"), fromMs: this.meta("last_loss_from"), toMs: this.meta("last_loss_to"), atMs: lastAt };
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

  private meta(key: MetaKey): number {
    return this.st["getMeta"]!.get(key) as number;
  }

  private removeAlarm(seq: number): void {
    const i = this.alarms.indexOf(seq);
    if (i >= 0) this.alarms.splice(i, 1);
  }
}

export { OutboxError };
