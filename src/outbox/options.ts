import type { LossReport } from "./outbox.js";
import type { LossReason } from "./policy.js";

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

/**
 * Sequence numbers reserved per write of the high-water mark file. A 4-lane site with a manhole and
 * a bin sends about 9,000 messages a day: one extra small fsynced write a day, against one per window.
 */
export const SEQ_BLOCK = 10_000;
/** Largest commit the mark's slack allows for (one window of every stream, plus held-back alarms). */
export const MAX_BATCH = 10_000;

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
