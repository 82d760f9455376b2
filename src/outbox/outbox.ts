/**
 * Durable store-and-forward between aggregation and MQTT (DESIGN.md "Delivery guarantees").
 * A closed window's messages are committed in one transaction before anything is published, and
 * deleted only after the broker's PUBACK. Sequence numbers are assigned inside that transaction, so
 * they are gap-free and continue across restarts.
 *
 * The store is bounded by bytes. When a commit would exceed the bound, the oldest routine summaries
 * are removed first, then the commit's own routine summaries, and alarms only to make room for an
 * alarm. A message handed to the broker is never removed nor rewritten until its PUBACK. Every removal (for space or
 * because a message outlived its expiry) is counted per topic, and the next message committed on
 * that topic carries the count and the wall-time span lost (`LossReport`), so a subscriber of one
 * stream learns what that stream lost. Totals are kept for the health heartbeat.
 */

export type Priority = "alarm" | "routine";

/** Messages of one topic removed undelivered since the last report, and the wall time they covered. */
export interface LossReport {
  count: number;
  /** Start of the earliest lost message's span, ms since epoch. */
  fromMs: number;
  /** End of the latest lost message's span, ms since epoch. */
  toMs: number;
  /**
   * Why, when part of the loss was not the outbox's own doing (a crash or power cut ended windows
   * before they could be summarised): every cause the report covers. Absent for drops alone.
   */
  causes?: LossCause[];
}

export type LossCause = "full" | "expired" | "damaged" | "crash";

/** A message before it is committed: its payload is encoded once its sequence number is known. */
export interface OutboxDraft {
  topic: string;
  priority: Priority;
  contentType: string;
  /**
   * Wall-time span the message covers, ms since epoch: a summary's window, an alarm's instant.
   * Only used to say what was lost if the message has to be dropped. Default: the commit's time.
   */
  spanFromMs?: number;
  spanToMs?: number;
  /** Wall time after which the message is stale and is discarded undelivered (ms), if any. */
  expiresAtMs?: number;
  /** The payload, given its sequence number and the losses of this topic it must report, if any. */
  encode(seq: number, lost: LossReport | undefined): Uint8Array;
}

/**
 * The window now open on a stream, recorded in the same transaction as the stream's previous window
 * (`fromMs` its wall-time start), or cleared (`fromMs` undefined) when the stream stops cleanly.
 */
export interface OpenWindow {
  topic: string;
  fromMs: number | undefined;
}

/**
 * A stream's open window as it stood at a checkpoint: the summary it would have had, had it closed
 * then (docs/delivery.md "Crashes mid-window"). Never taken of a stream derived from identifiers.
 */
export interface Checkpoint {
  topic: string;
  /** Aligned start of the window (its `bt`), ms since epoch: with `topic`, names the window. */
  windowStartMs: number;
  windowS: number;
  /** Wall time the device began observing this window (after the aligned start if it started inside it), ms. */
  observedFromMs: number;
  /** How much of the window the summary covers, ms. */
  observedMs: number;
  /** Wall time the checkpoint was taken, ms. */
  takenMs: number;
  synced: boolean;
  /** The summary: JSON of `{ kind, name, measures }` (a `Summary` without its window). */
  summary: string;
}

/** What the previous process left when it died: windows recorded open, and checkpoints taken of them. */
export interface CrashRecord {
  open: { topic: string; fromMs: number }[];
  checkpoints: Checkpoint[];
}

/** Windows of one stream lost to a crash: reported on the topic like a drop, naming the cause. */
export interface CrashLoss {
  topic: string;
  /** Windows open at the crash that could not be recovered (0: only time the device was down). */
  count: number;
  fromMs: number;
  toMs: number;
}

export interface OutboxMessage {
  seq: number;
  topic: string;
  payload: Buffer;
  priority: Priority;
  contentType: string;
  createdMs: number;
  expiresAtMs?: number;
}

/** Which waiting messages `next` returns. */
export interface OutboxQuery {
  /** Only messages with a sequence number greater than this. */
  after: number;
  /** Only messages with a sequence number smaller than this. Default: no bound. */
  before?: number;
  /** Only this priority. Default: both. */
  priority?: Priority;
  limit: number;
}

/** Drops since the store was created (they survive restarts). */
export interface DropTotals {
  /** Routine summaries removed because the store was full. */
  routine: number;
  /** Alarms removed because the store was full (only after every routine message was gone). */
  alarms: number;
  /** Messages removed because they outlived their expiry. */
  expired: number;
  /** Messages removed because they failed their checksum (a damaged disk): never sent. */
  damaged: number;
  /** Windows open when the process died (crash, power cut): their summaries were never made. */
  interrupted: number;
  /** The most recent loss: how many at once, the wall-time span they covered, and when. */
  last?: { count: number; fromMs: number; toMs: number; atMs: number };
}

export interface OutboxStats {
  /** Messages waiting for a PUBACK. */
  depth: number;
  /** Bytes the waiting messages count against the bound (payload, topic and a per-row allowance). */
  bytes: number;
  /** The bound, bytes. */
  maxBytes: number;
  /** Creation time of the oldest waiting message (ms), or undefined when empty. */
  oldestMs: number | undefined;
  /** Next sequence number to be assigned. */
  nextSeq: number;
  drops: DropTotals;
  /** Losses committed but not yet reported in a message (their topic has had no message since). */
  unreported: number;
}

/** Bytes on the wire counted in one month of the SIM plan (publish/budget.ts). */
export interface AirtimeCount {
  /** Start of the plan's month, ms since epoch. */
  periodMs: number;
  /** When counting began in that month (its start, or the first start of the device in it), ms. */
  fromMs: number;
  bytes: number;
  /** Widening steps taken this month (0: windows as configured), and when the last began, with the count then. */
  level: number;
  stepMs: number;
  stepBytes: number;
}

export interface Outbox {
  /**
   * Commit drafts atomically with consecutive sequence numbers, making room first if the bound
   * requires it. Once this returns, the messages survive a crash or power loss. Throws
   * `OutboxError` if the store cannot write.
   */
  commit(drafts: readonly OutboxDraft[], windows?: readonly OpenWindow[]): OutboxMessage[];
  /**
   * Store checkpoints of open windows (one per stream and window, replacing older ones of that
   * window). Written without waiting for the disk: a checkpoint lost to a power cut leaves the one
   * before it. Checkpoints of a stream's windows before the previous one are deleted with it. Those of a window
   * committed since stay until then, obsolete: the open-window record is past them, and recovery
   * (aggregate/checkpoint.ts `planRecovery`) uses only windows from the one recorded open on.
   */
  saveCheckpoints?(checkpoints: readonly Checkpoint[]): void;
  /** At start: the windows recorded open (the previous process died with them) and their checkpoints. */
  crashRecord?(): CrashRecord;
  /**
   * At start, in one transaction: account for `losses` (reported on each topic's next message with the
   * cause `crash`, counted in `interrupted`), commit the summaries recovered from checkpoints, and
   * clear the open-window records and checkpoints, so a crash during this start is not counted twice.
   */
  settleCrash?(losses: readonly CrashLoss[], recovered: readonly OutboxDraft[]): OutboxMessage[];
  /** The byte budget's count as last written (publish/budget.ts), or undefined when none was. */
  airtime?(): AirtimeCount | undefined;
  /**
   * Stage the byte budget's count: written with the next commit (on the page the sequence counter
   * rewrites anyway, so no extra write per window) and at close. A crash loses what was counted since.
   */
  setAirtime?(count: AirtimeCount): void;
  /** Waiting messages matching `q`, in sequence order (acknowledged ones excluded). */
  next(q: OutboxQuery): OutboxMessage[];
  /** Up to `limit` waiting messages in sequence order, skipping those in `exclude` (in flight). */
  pending(limit: number, exclude: ReadonlySet<number>): OutboxMessage[];
  /**
   * The broker has it: delete. Deletions are batched (one transaction per event-loop turn), so a
   * crash right after a PUBACK may send that message again, with its same sequence number.
   * Unknown sequence numbers are ignored (a redelivered PUBACK, or a message dropped meanwhile).
   */
  ack(seq: number): void;
  /** Remove messages whose expiry is before `nowMs`, counting them as lost. Returns how many. */
  expire(nowMs: number): number;
  stats(): OutboxStats;
  /** Write pending acknowledgements and close. */
  close(): void;
}
