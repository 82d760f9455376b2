import type { LossReport, OutboxDraft } from "./outbox.js";
import type { DropRow, Row } from "./schema.js";
import { causeNames, LOSS_CAUSE, ROW_OVERHEAD, rowCrc, rowIntegrity } from "./schema.js";
import type { Statements } from "./statements.js";

export type LossReason = "full" | "expired" | "damaged";

/** A loss on its way to a topic's report: `causes` as `LOSS_CAUSE` bits, `afterSeq` the last message lost. */
interface PendingLoss {
  count: number;
  fromMs: number;
  toMs: number;
  causes: number;
  afterSeq: number;
}

/**
 * What the store knows in memory about its rows, shared by the store and its drop policy: the bytes
 * counted against the bound, the waiting alarms, and which messages may be at the broker already.
 */
export class Ledger {
  bytes = 0;
  /** Waiting alarms' sequence numbers, ascending (alarms are rare; this spares an index). */
  alarms: number[] = [];
  /**
   * Messages handed to the MQTT session and not yet acknowledged. They may be at the broker already:
   * never dropped (they would be reported lost yet arrive) nor rewritten (a redelivery must carry the
   * same bytes under the same seq). One handed out only when already expired was not sent (the session
   * never sends a stale message): that one may still expire.
   */
  readonly handedOut = new Map<number, boolean>();
  /**
   * Messages below this were stored before this process opened the outbox: the previous process may
   * have sent them without getting the PUBACK, so their bytes are never rewritten (a loss report goes
   * to a later message instead).
   */
  fromThisRun = 0;

  inFlight(seq: number): boolean {
    return this.handedOut.get(seq) === true;
  }

  removeAlarm(seq: number): void {
    const i = this.alarms.indexOf(seq);
    if (i >= 0) this.alarms.splice(i, 1);
  }
}

export interface DropPolicyOptions {
  maxBytes: number;
  minFreeBytes?: number;
  freeBytes?: () => number | undefined;
  now: () => number;
  annotate?: (payload: Buffer, lost: LossReport) => Buffer;
  onDrop?: (loss: { count: number; alarms: number; fromMs: number; toMs: number; reason: LossReason }) => void;
}

/** The public form of a pending loss: causes named only when a crash is among them (docs/payloads.md). */
export function lossReport(count: number, fromMs: number, toMs: number, causes: number): LossReport {
  const r: LossReport = { count, fromMs, toMs };
  if ((causes & LOSS_CAUSE.crash) !== 0) r.causes = causeNames(causes);
  return r;
}

/**
 * The outbox's drop rules (docs/delivery.md "Bounded storage, drops and their accounting"), apart
 * from the storage: which messages make room, how each loss is accounted, and where it is reported.
 * Runs inside the store's transactions.
 */
export class DropPolicy {
  constructor(
    private readonly st: Statements,
    private readonly ledger: Ledger,
    private readonly opts: DropPolicyOptions,
  ) {}

  /**
   * Make room for the drafts: the oldest stored routine messages first, then this commit's own
   * routine drafts (newest data, but still routine), and stored alarms only to fit an incoming alarm.
   * Messages handed to the broker are never touched. Returns the indexes of drafts refused; if only
   * messages in flight are left, alarms are stored beyond the bound rather than lost.
   */
  makeRoom(drafts: readonly OutboxDraft[], sizes: readonly number[], below: number): Set<number> {
    const refused = new Set<number>();
    let limit = this.opts.maxBytes;
    const min = this.opts.minFreeBytes ?? 0;
    if (min > 0) {
      const free = this.opts.freeBytes?.();
      // freed SQLite pages are reused, not returned to the file system: stop growing, keep the newest
      if (free !== undefined && free < min) limit = Math.min(limit, this.ledger.bytes);
    }
    let need = this.ledger.bytes + sizes.reduce((a, b) => a + b, 0) - limit;
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
        lost_causes: 0,
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
      const rows = this.st.oldest.all(prio, after, below);
      if (rows.length === 0) break;
      for (const r of rows) {
        after = r.seq;
        if (this.ledger.inFlight(r.seq)) continue;
        victims.push(r);
        need -= r.size + ROW_OVERHEAD;
        this.st.delPlain.run(r.seq);
        if (need <= 0) break;
      }
    }
    return need;
  }

  /** Account for removed rows (and delete them unless already deleted): reports per topic, totals. */
  drop(rows: readonly DropRow[], reason: LossReason, deleted = false, stored = true): void {
    if (rows.length === 0) return;
    let count = 0;
    let alarms = 0;
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    const byTopic = new Map<string, PendingLoss>();
    for (const r of rows) {
      if (!deleted) this.st.delPlain.run(r.seq);
      if (stored) this.ledger.bytes -= r.size + ROW_OVERHEAD;
      if (r.priority === 1) {
        alarms++;
        this.ledger.removeAlarm(r.seq);
      }
      count++;
      from = Math.min(from, r.span_from_ms);
      to = Math.max(to, r.span_to_ms);
      if (r.topic === "") continue; // a damaged row whose topic cannot be trusted: counted in health only
      // the row's own report was never delivered: it travels on with the row's loss
      const t = byTopic.get(r.topic) ?? {
        count: 0,
        fromMs: Number.POSITIVE_INFINITY,
        toMs: Number.NEGATIVE_INFINITY,
        causes: 0,
        afterSeq: 0,
      };
      merge(t, r);
      t.causes |= LOSS_CAUSE[reason];
      t.afterSeq = Math.max(t.afterSeq, r.seq);
      byTopic.set(r.topic, t);
    }
    for (const [topic, loss] of byTopic) this.report(topic, loss);
    if (reason === "expired") this.st.addMeta.run(count, "expired");
    else if (reason === "damaged") this.st.addMeta.run(count, "damaged");
    else {
      this.st.addMeta.run(count - alarms, "dropped_routine");
      this.st.addMeta.run(alarms, "dropped_alarms");
    }
    if (!Number.isFinite(from)) from = to = Math.round(this.opts.now());
    this.lastLoss(count, from, to);
    this.opts.onDrop?.({ count, alarms, fromMs: from, toMs: to, reason });
  }

  /** Record the most recent loss for health. */
  lastLoss(count: number, fromMs: number, toMs: number): void {
    this.st.setMeta.run(count, "last_loss_count");
    this.st.setMeta.run(fromMs, "last_loss_from");
    this.st.setMeta.run(toMs, "last_loss_to");
    this.st.setMeta.run(Math.round(this.opts.now()), "last_loss_at");
  }

  /**
   * Put a loss where the subscriber meets the gap: into the oldest message of the topic that is still
   * waiting after the lost ones and was never handed to the broker by this process nor stored by an
   * earlier one (merged with any report it already carries, which covers the losses just before
   * those). A message already handed out keeps its bytes; if no such message waits, the next message
   * committed on the topic carries the loss.
   */
  report(topic: string, loss: PendingLoss): void {
    const annotate = this.opts.annotate;
    if (annotate) {
      let after = loss.afterSeq;
      for (;;) {
        const rows = this.st.survivor.all(topic, after);
        if (rows.length === 0) break;
        for (const s of rows) {
          after = s.seq;
          if (this.ledger.inFlight(s.seq) || s.seq < this.ledger.fromThisRun) continue;
          if (rowIntegrity(s) === "ok" && this.annotateRow(s, loss, annotate)) return;
          // damaged: never sent; its loss joins this one and the search goes on
          this.quarantine([s]);
          merge(loss, s);
        }
      }
    }
    this.st.addLost.run(topic, loss.count, loss.fromMs, loss.toMs, loss.causes);
  }

  /** Rewrite a waiting message so it carries `loss` merged with its own report; false if it cannot be decoded. */
  private annotateRow(s: Row, loss: PendingLoss, annotate: NonNullable<DropPolicyOptions["annotate"]>): boolean {
    const merged: PendingLoss = { ...loss, count: loss.count };
    if (s.lost_count > 0 || s.lost_causes !== 0) {
      merged.count += s.lost_count;
      merged.fromMs = Math.min(loss.fromMs, s.lost_from_ms);
      merged.toMs = Math.max(loss.toMs, s.lost_to_ms);
      merged.causes |= s.lost_causes;
    }
    let payload: Buffer;
    try {
      payload = annotate(s.payload, lossReport(merged.count, merged.fromMs, merged.toMs, merged.causes));
    } catch {
      return false; // undecodable: a row damaged before checksums existed
    }
    const row = {
      ...s,
      payload,
      lost_count: merged.count,
      lost_from_ms: merged.fromMs,
      lost_to_ms: merged.toMs,
      lost_causes: merged.causes,
    };
    this.st.annotate.run(payload, merged.count, merged.fromMs, merged.toMs, merged.causes, rowCrc(row), s.seq);
    this.ledger.bytes += payload.length - s.payload.length;
    return true;
  }

  /** Delete damaged rows and count them (totals only: the caller reports their loss). */
  quarantine(rows: readonly Row[]): void {
    for (const r of rows) {
      this.st.delPlain.run(r.seq);
      this.ledger.bytes -= r.payload.length + Buffer.byteLength(r.topic) + ROW_OVERHEAD;
      if (r.priority === 1) this.ledger.removeAlarm(r.seq);
    }
    this.st.addMeta.run(rows.length, "damaged");
  }
}

/** Add a lost row (and the report it carried, which was never delivered either) to a pending loss. */
function merge(
  t: PendingLoss,
  r: Pick<DropRow, "span_from_ms" | "span_to_ms" | "lost_count" | "lost_from_ms" | "lost_to_ms" | "lost_causes">,
): void {
  const carried = r.lost_count > 0 || r.lost_causes !== 0;
  t.count += 1 + r.lost_count;
  t.fromMs = Math.min(t.fromMs, r.span_from_ms, carried ? r.lost_from_ms : Number.POSITIVE_INFINITY);
  t.toMs = Math.max(t.toMs, r.span_to_ms, carried ? r.lost_to_ms : Number.NEGATIVE_INFINITY);
  t.causes |= r.lost_causes;
}
