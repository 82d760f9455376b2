import type Database from "better-sqlite3";
import { classify } from "./errors.js";
import type { Checkpoint, CrashLoss, CrashRecord, OutboxDraft, OutboxMessage } from "./outbox.js";
import type { DropPolicy } from "./policy.js";
import { checkpointCrc, LOSS_CAUSE } from "./schema.js";
import type { Statements } from "./statements.js";

/**
 * What the outbox keeps so a crash never leaves a silent hole (docs/delivery.md "Crashes
 * mid-window"): checkpoints of open windows, read back at the next start, and the transaction that
 * settles what the crash left. The open-window records themselves are written by the window commits.
 */
export class CrashRecords {
  private readonly saveTx: Database.Transaction<(cps: readonly Checkpoint[]) => void>;
  private readonly settleTx: Database.Transaction<(losses: readonly CrashLoss[], drafts: readonly OutboxDraft[]) => OutboxMessage[]>;

  constructor(
    private readonly db: Database.Database,
    private readonly st: Statements,
    policy: DropPolicy,
    /** Commit drafts inside the current transaction (the store's numbering and drop rules). */
    commit: (drafts: readonly OutboxDraft[]) => OutboxMessage[],
    private readonly path: string,
  ) {
    this.saveTx = db.transaction((cps: readonly Checkpoint[]) => {
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
        // windows before the previous one were committed since; the previous one may still be in its
        // grace (a checkpoint taken just after a boundary) and keeps its checkpoint until the next
        st.delCheckpoints.run(row.topic, row.window_start_ms - row.window_s * 1000);
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
        policy.lastLoss(count, Math.round(from), Math.round(to));
      }
      const out = drafts.length > 0 ? commit(drafts) : [];
      st.clearOpen.run();
      st.clearCheckpoints.run();
      return out;
    });
  }

  /**
   * Store checkpoints without waiting for the disk, like acknowledgements: a checkpoint lost to a
   * power cut leaves the one before it (a shorter recovered window), and an fsync per checkpoint
   * would wear the card.
   */
  save(checkpoints: readonly Checkpoint[]): void {
    if (checkpoints.length === 0) return;
    try {
      this.db.pragma("synchronous = NORMAL");
      this.saveTx.immediate(checkpoints);
    } catch (err) {
      throw classify(err, this.path, `saving ${checkpoints.length} checkpoint(s)`);
    } finally {
      this.db.pragma("synchronous = FULL");
    }
  }

  /** The windows recorded open and the checkpoints that pass their checksum (a damaged one counts as none). */
  record(): CrashRecord {
    try {
      const open = this.st.allOpen.all().map((r) => ({ topic: r.topic, fromMs: r.from_ms }));
      const checkpoints: Checkpoint[] = [];
      for (const r of this.st.allCheckpoints.all()) {
        if (checkpointCrc(r) !== r.crc) continue;
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

  /** Account for the losses, commit the recovered windows and clear every record, in one transaction. */
  settle(losses: readonly CrashLoss[], drafts: readonly OutboxDraft[]): OutboxMessage[] {
    try {
      return this.settleTx.immediate(losses, drafts);
    } catch (err) {
      throw classify(err, this.path, "accounting for windows open at the last crash");
    }
  }
}
