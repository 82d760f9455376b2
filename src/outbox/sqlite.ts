import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { readSeqFile, writeSeqFile } from "./seqfile.js";
import Database from "better-sqlite3";
import { classify, OutboxError } from "./errors.js";
import type {
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
import type { LossReason } from "./policy.js";
import { DropPolicy, Ledger, lossReport } from "./policy.js";
import type { DropRow, MetaKey, Row } from "./schema.js";
import { checkpointCrc, createOrMigrate, LOSS_CAUSE, ROW_OVERHEAD, rowCrc, rowIntegrity, topicCrc, toMessage } from "./schema.js";
import type { Statements } from "./statements.js";
import { prepareStatements } from "./statements.js";

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

export type { LossReason } from "./policy.js";

/**
 * Sequence numbers reserved per write of the high-water mark file. A 4-lane site with a manhole and
 * a bin sends about 9,000 messages a day: one extra small fsynced write a day, against one per window.
 */
export const SEQ_BLOCK = 10_000;
/** Largest commit the mark's slack allows for (one window of every stream, plus held-back alarms). */
const MAX_BATCH = 10_000;

export { ROW_OVERHEAD } from "./schema.js";
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

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
  private readonly checkpointTx: Database.Transaction<(cps: readonly Checkpoint[]) => void>;
  private readonly settleTx: Database.Transaction<(losses: readonly CrashLoss[], drafts: readonly OutboxDraft[]) => OutboxMessage[]>;
  private acked = new Set<number>();
  private ackQueue: number[] = [];
  private ackTimer: NodeJS.Immediate | undefined;
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
    this.checkpointTx = db.transaction((cps: readonly Checkpoint[]) => {
      for (const c of cps) {
        const row = {
          topic: c.topic,
          window_start_ms: Math.round(c.windowStartMs),
          window_s: c.windowS,
          observed_from_ms: Math.round(c.observedFromMs),
          observed_ms: Math.round(c.observedMs),
          taken_ms: Math.round(c.takenMs),
          synced: c.synced ? 1 : 0,
          summary: c.summary,
        };
        st.delCheckpoints.run(row.topic, row.window_start_ms); // earlier windows: committed since
        st.putCheckpoint.run({ ...row, crc: checkpointCrc(row) });
      }
    });
    this.settleTx = db.transaction((losses: readonly CrashLoss[], drafts: readonly OutboxDraft[]) => {
      let count = 0;
      let from = Number.POSITIVE_INFINITY;
      let to = Number.NEGATIVE_INFINITY;
      for (const l of losses) {
        // never rewrites a message the previous process may have sent: the next one committed carries it
        st.addLost.run(l.topic, l.count, Math.round(l.fromMs), Math.round(l.toMs), LOSS_CAUSE.crash);
        count += l.count;
        from = Math.min(from, l.fromMs);
        to = Math.max(to, l.toMs);
      }
      if (losses.length > 0) {
        st.addMeta.run(count, "interrupted");
        this.policy.lastLoss(count, Math.round(from), Math.round(to));
      }
      const out = drafts.length > 0 ? this.doCommit(drafts) : [];
      st.clearOpen.run();
      st.clearCheckpoints.run();
      return out;
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
    if (checkpoints.length === 0) return;
    try {
      // like acknowledgements, without waiting for the disk: a checkpoint lost to a power cut leaves
      // the one before it (a shorter recovered window), and an fsync per checkpoint would wear the card
      this.db.pragma("synchronous = NORMAL");
      this.checkpointTx.immediate(checkpoints);
    } catch (err) {
      throw classify(err, this.path, `saving ${checkpoints.length} checkpoint(s)`);
    } finally {
      this.db.pragma("synchronous = FULL");
    }
  }

  crashRecord(): CrashRecord {
    try {
      const open = this.st.allOpen.all().map((r) => ({ topic: r.topic, fromMs: r.from_ms }));
      const checkpoints: Checkpoint[] = [];
      for (const r of this.st.allCheckpoints.all()) {
        if (checkpointCrc(r) !== r.crc) continue; // damaged: its window counts as lost
        checkpoints.push({
          topic: r.topic,
          windowStartMs: r.window_start_ms,
          windowS: r.window_s,
          observedFromMs: r.observed_from_ms,
          observedMs: r.observed_ms,
          takenMs: r.taken_ms,
          synced: r.synced === 1,
          summary: r.summary,
        });
      }
      return { open, checkpoints };
    } catch (err) {
      throw classify(err, this.path, "reading the windows open at the last stop");
    }
  }

  settleCrash(losses: readonly CrashLoss[], recovered: readonly OutboxDraft[]): OutboxMessage[] {
    try {
      this.flushAcks();
      return this.settleTx.immediate(losses, recovered);
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
    } finally {
      this.db.close();
    }
  }

  private meta(key: MetaKey): number {
    return this.st.getMeta.get(key)!;
  }
}

export { OutboxError };
