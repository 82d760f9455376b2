import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { readSeqFile, writeSeqFile } from "./seqfile.js";
import Database from "better-sqlite3";
import { classify, OutboxError } from "./errors.js";
import type {
  AirtimeCount,
  Checkpoint,
  CrashLoss,
  CrashRecord,
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
import type { SqliteOutboxOptions } from "./options.js";
import { DEFAULT_MAX_BYTES, MAX_BATCH, PLAUSIBLE_WALL_MS, SEQ_BLOCK } from "./options.js";
import { DropPolicy, Ledger, lossReport } from "./policy.js";
import type { DropRow, MetaKey, Row } from "./schema.js";
import { CrashRecords } from "./crash.js";
import { createOrMigrate, ROW_OVERHEAD, rowCrc, rowIntegrity, topicCrc, toMessage } from "./schema.js";
import type { Statements } from "./statements.js";
import { prepareStatements } from "./statements.js";

export type { SqliteOutboxOptions } from "./options.js";
export { DEFAULT_MAX_BYTES, PLAUSIBLE_WALL_MS, SEQ_BLOCK } from "./options.js";
export type { LossReason } from "./policy.js";
export { ROW_OVERHEAD } from "./schema.js";

const PRIORITY: Record<Priority, number> = { routine: 0, alarm: 1 };

/** What `SqliteOutbox.open` read from the file before the store is built. */
interface OpenedState {
  seqFile: string | undefined;
  /** Highest sequence number the high-water mark file has reserved (exclusive). */
  reserved: number;
  waitForClock: boolean;
}

/**
 * The outbox in SQLite (better-sqlite3), WAL mode, `synchronous=FULL`: once `commit` returns, the
 * window is on the disk and survives `kill -9` and power loss (SQLite's WAL is atomic and fsynced at
 * every commit). One transaction per window, never per event, keeps SD-card writes low.
 *
 * Deleting acknowledged messages is batched and written with `synchronous=NORMAL`: losing a delete
 * to a power cut only means that message is sent again with its same sequence number, which
 * at-least-once delivery allows, and it saves an fsync per message while a backlog drains.
 *
 * Open one with `SqliteOutbox.open` (the constructor does no I/O). What to drop when full, and where
 * each loss is reported, is `DropPolicy`'s (policy.ts); this class stores, numbers and reads.
 */
export class SqliteOutbox implements Outbox {
  readonly path: string;
  private readonly maxBytes: number;
  private readonly ledger: Ledger;
  private readonly policy: DropPolicy;
  private readonly commitTx: Database.Transaction<(drafts: readonly OutboxDraft[], windows: readonly OpenWindow[]) => OutboxMessage[]>;
  private readonly ackTx: Database.Transaction<(seqs: readonly number[]) => void>;
  private readonly expireTx: Database.Transaction<(nowMs: number) => number>;
  private readonly damagedTx: Database.Transaction<(rows: readonly DropRow[]) => void>;
  private readonly crash: CrashRecords;
  private acked = new Set<number>();
  private ackQueue: number[] = [];
  private ackTimer: NodeJS.Immediate | undefined;
  private airtimeStaged: AirtimeCount | undefined;
  private readonly seqFile: string | undefined;
  private reserved: number;
  private waitForClock: boolean;

  /**
   * Open the outbox at `opts.path`: create its folder and file, check it (quick_check), migrate its
   * tables, and continue numbering at the high-water mark if the file is new or an old copy. Throws
   * an `OutboxError` (`corrupt`, `locked`, `io`) naming the file and what to do.
   */
  static open(opts: SqliteOutboxOptions): SqliteOutbox {
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
      const st = prepareStatements(db);
      if (fresh && opts.seqFloorFromClock === true) st.setMeta.run(0, "next_seq");
      // a new database where numbers were used before (the mark says so) replaces a lost or damaged
      // outbox: the signed-command counter it kept is unknown unless it was salvaged (-1 = unknown)
      if (fresh && (mark !== undefined || opts.seqFloorFromClock === true || opts.commandCounter !== undefined)) {
        st.setMeta.run(opts.commandCounter ?? -1, "cmd_counter");
      }
      const next = st.getMeta.get("next_seq")!;
      // A new database beside an existing mark is a lost or replaced outbox, and one whose counter is
      // more than a block below the mark is an old copy put back: either way continue at the mark.
      // (An intact outbox is always within a block of it: the mark is written one block ahead.)
      if (mark !== undefined && next < mark && (fresh || next === 0 || next + SEQ_BLOCK + MAX_BATCH < mark)) {
        st.setMeta.run(mark, "next_seq");
      }
      const ledger = new Ledger();
      ledger.fromThisRun = (db.prepare("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox").pluck().get() as number) ?? 1;
      ledger.bytes =
        (db
          .prepare(`SELECT COALESCE(SUM(length(payload) + length(CAST(topic AS BLOB)) + ${ROW_OVERHEAD}), 0) FROM outbox`)
          .pluck()
          .get() as number) ?? 0;
      ledger.alarms = db.prepare("SELECT seq FROM outbox WHERE priority = 1 ORDER BY seq").pluck().all() as number[];
      const state: OpenedState = { seqFile, reserved: mark ?? 0, waitForClock: st.getMeta.get("next_seq") === 0 };
      return new SqliteOutbox(db, st, ledger, opts, state);
    } catch (err) {
      db?.close();
      throw classify(err, opts.path, "opening it");
    }
  }

  /** Use `SqliteOutbox.open`: this only wires what it opened. */
  private constructor(
    private readonly db: Database.Database,
    private readonly st: Statements,
    ledger: Ledger,
    private readonly opts: SqliteOutboxOptions,
    state: OpenedState,
  ) {
    this.path = opts.path;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.ledger = ledger;
    this.seqFile = state.seqFile;
    this.reserved = state.reserved;
    this.waitForClock = state.waitForClock;
    this.policy = new DropPolicy(st, ledger, {
      maxBytes: this.maxBytes,
      now: opts.now,
      ...(opts.minFreeBytes !== undefined ? { minFreeBytes: opts.minFreeBytes } : {}),
      ...(opts.freeBytes ? { freeBytes: opts.freeBytes } : {}),
      ...(opts.annotate ? { annotate: opts.annotate } : {}),
      ...(opts.onDrop ? { onDrop: opts.onDrop } : {}),
    });
    this.commitTx = db.transaction((drafts: readonly OutboxDraft[], windows: readonly OpenWindow[]) => {
      const out = drafts.length > 0 ? this.doCommit(drafts) : [];
      this.writeAirtime();
      // a committed window's checkpoints are left alone here (deleting them would write a page per
      // window): the open-window record says they are obsolete, and the next checkpoint removes them
      for (const w of windows) {
        if (w.fromMs === undefined) st.delOpen.run(w.topic);
        else st.setOpen.run(w.topic, Math.round(w.fromMs));
      }
      return out;
    });
    this.ackTx = db.transaction((seqs: readonly number[]) => {
      for (const seq of seqs) {
        const r = st.del.get(seq);
        if (!r) continue;
        this.ledger.bytes -= r.size + ROW_OVERHEAD;
        if (r.priority === 1) this.ledger.removeAlarm(seq);
      }
    });
    this.damagedTx = db.transaction((rows: readonly DropRow[]) => this.policy.drop(rows, "damaged"));
    this.expireTx = db.transaction((nowMs: number) => {
      const rows = st.expired.all(Math.round(nowMs)).filter((r) => !this.ledger.inFlight(r.seq));
      if (rows.length > 0) this.policy.drop(rows, "expired");
      return rows.length;
    });
    this.crash = new CrashRecords(db, st, this.policy, (drafts) => this.doCommit(drafts), opts.path);
  }

  airtime(): AirtimeCount | undefined {
    const periodMs = this.meta("airtime_period");
    if (periodMs <= 0) return undefined;
    return {
      periodMs,
      fromMs: this.meta("airtime_from"),
      bytes: this.meta("airtime_bytes"),
      level: this.meta("airtime_level"),
      stepMs: this.meta("airtime_step_ms"),
      stepBytes: this.meta("airtime_step_bytes"),
    };
  }

  setAirtime(count: AirtimeCount): void {
    this.airtimeStaged = { ...count };
  }

  /** Write the staged byte count (inside a transaction). */
  private writeAirtime(): void {
    const a = this.airtimeStaged;
    if (!a) return;
    this.airtimeStaged = undefined;
    this.st.setMeta.run(Math.round(a.periodMs), "airtime_period");
    this.st.setMeta.run(Math.round(a.fromMs), "airtime_from");
    this.st.setMeta.run(Math.round(a.bytes), "airtime_bytes");
    this.st.setMeta.run(Math.round(a.level), "airtime_level");
    this.st.setMeta.run(Math.round(a.stepMs), "airtime_step_ms");
    this.st.setMeta.run(Math.round(a.stepBytes), "airtime_step_bytes");
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
      this.st.setMeta.run(Math.max(this.meta("next_seq"), Math.floor(created / 1000)), "next_seq");
      this.waitForClock = false;
    }
    const first = this.meta("next_seq");
    this.reserve(first + drafts.length);
    // encode once to learn the size, make room, then re-encode only drafts that must report a loss
    const plain = drafts.map((d, i) => Buffer.from(d.encode(first + i, undefined)));
    const sizes = drafts.map((d, i) => plain[i]!.length + Buffer.byteLength(d.topic) + ROW_OVERHEAD);
    const refused = this.policy.makeRoom(drafts, sizes, first);
    const out: OutboxMessage[] = [];
    drafts.forEach((d, i) => {
      if (refused.has(i)) return; // its number stays unused: a gap, reported on its topic
      const seq = first + i;
      const lost = this.takeLoss(d.topic);
      const payload = lost ? Buffer.from(d.encode(seq, lost.report)) : plain[i]!;
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
        lost_count: lost?.report.count ?? 0,
        lost_from_ms: lost?.report.fromMs ?? 0,
        lost_to_ms: lost?.report.toMs ?? 0,
        lost_causes: lost?.causes ?? 0,
      };
      this.st.insert.run({ ...row, crc: rowCrc(row), tcrc: topicCrc(row) });
      this.ledger.bytes += payload.length + Buffer.byteLength(d.topic) + ROW_OVERHEAD;
      if (d.priority === "alarm") this.ledger.alarms.push(seq);
      const m: OutboxMessage = { seq, topic: d.topic, payload, priority: d.priority, contentType: d.contentType, createdMs: created };
      if (d.expiresAtMs !== undefined) m.expiresAtMs = d.expiresAtMs;
      out.push(m);
    });
    this.st.setMeta.run(first + drafts.length, "next_seq");
    return out;
  }

  saveCheckpoints(checkpoints: readonly Checkpoint[]): void {
    this.crash.save(checkpoints);
  }

  crashRecord(): CrashRecord {
    return this.crash.record();
  }

  settleCrash(losses: readonly CrashLoss[], recovered: readonly OutboxDraft[]): OutboxMessage[] {
    this.flushAcks();
    return this.crash.settle(losses, recovered);
  }

  /** The last accepted signed command's issuedAt (0: none yet), or undefined when it was lost with a replaced outbox. */
  commandCounter(): number | undefined {
    const v = this.meta("cmd_counter");
    return v < 0 ? undefined : v;
  }

  /** Record the signed-command counter, fsynced before this returns (it guards against replays). */
  setCommandCounter(value: number): void {
    try {
      this.db.transaction(() => this.st.setMeta.run(Math.max(0, Math.round(value)), "cmd_counter")).immediate();
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
          lost_causes: attributable ? r.lost_causes : 0,
        };
      }),
    );
    const names = rows.map((r) => r.seq).join(", ");
    this.opts.onDamaged?.(
      `${rows.length} damaged message(s) in the outbox ${this.path} (seq ${names}) failed their checksum; they were not sent and are reported lost. Check the SD card (dmesg).`,
    );
  }

  private takeLoss(topic: string): { report: LossReport; causes: number } | undefined {
    const r = this.st.getLost.get(topic);
    if (!r) return undefined;
    this.st.delLost.run(topic);
    return { report: lossReport(r.count, r.from_ms, r.to_ms, r.causes), causes: r.causes };
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
        const handed = this.ledger.handedOut;
        for (const m of out) {
          const stale = m.expiresAtMs !== undefined && m.expiresAtMs <= now;
          handed.set(m.seq, handed.get(m.seq) === true || !stale);
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
      for (const seq of this.ledger.alarms) {
        if (out.length >= q.limit) break;
        if (seq <= q.after || seq >= before || this.acked.has(seq)) continue;
        const r = this.st.bySeq.get(seq);
        if (r) take(r);
      }
      return out;
    }
    const rows =
      q.priority === undefined
        ? this.st.range.all(q.after, before, q.limit + this.acked.size)
        : this.st.rangePrio.all(q.after, before, PRIORITY[q.priority], q.limit + this.acked.size);
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
    this.ledger.handedOut.delete(seq);
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
    const row = this.st.summary.get()!;
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
      bytes: this.ledger.bytes,
      maxBytes: this.maxBytes,
      oldestMs: row.o ?? undefined,
      nextSeq: this.meta("next_seq"),
      drops,
      unreported: this.st.unreported.get()!,
    };
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.flushAcks();
      if (this.airtimeStaged) this.db.transaction(() => this.writeAirtime())();
    } finally {
      this.db.close();
    }
  }

  private meta(key: MetaKey): number {
    return this.st.getMeta.get(key)!;
  }
}

export { OutboxError };
