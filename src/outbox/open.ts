import { existsSync, renameSync } from "node:fs";
import Database from "better-sqlite3";
import type { Logger } from "../log/logger.js";
import { OutboxError } from "./errors.js";
import type { SqliteOutboxOptions } from "./sqlite.js";
import { SqliteOutbox } from "./sqlite.js";

export interface OpenOutboxOptions extends SqliteOutboxOptions {
  /**
   * What to do with a damaged outbox file. `recover` (default): move it aside (kept for a look with
   * the sqlite3 tool), start a new one, and number new messages above anything the old one may have
   * used. `stop`: refuse to start, so a person decides.
   */
  onCorrupt?: "recover" | "stop";
  logger: Logger;
}

/** What `openOutbox` had to do to a damaged file. */
export interface OutboxRecovery {
  /** Where the damaged file now is. */
  movedTo: string;
  reason: string;
  /** The sequence number the new outbox starts from. */
  firstSeq: number;
  /** Whether the old next sequence number could be read (if not, numbering jumps to wall-clock seconds). */
  salvaged: boolean;
}

/** Earliest plausible wall time (2024-01-01): a Pi without RTC that has not synced yet says 1970. */
const PLAUSIBLE_WALL_MS = Date.UTC(2024, 0, 1);

/**
 * Open the outbox at `opts.path`, recovering from a damaged file if allowed. A locked or unwritable
 * outbox is never "recovered": that would run two writers or hide a disk problem.
 *
 * Numbering continues from the damaged file's counter when it can still be read. Otherwise it
 * jumps, because subscribers drop a repeated sequence number as a duplicate: the new outbox starts at the wall clock in seconds (~1.8e9), above any
 * count a device reaches in centuries, so no new message reuses an old number; the gap tells
 * subscribers that an unknown number of messages was lost.
 */
export function openOutbox(opts: OpenOutboxOptions): { outbox: SqliteOutbox; recovery?: OutboxRecovery } {
  try {
    return { outbox: new SqliteOutbox(opts) };
  } catch (err) {
    if (!(err instanceof OutboxError) || err.code !== "corrupt" || opts.onCorrupt === "stop" || opts.path === ":memory:") throw err;
    const old = salvageNextSeq(opts.path);
    const wall = opts.now();
    const floor = wall >= PLAUSIBLE_WALL_MS ? Math.floor(wall / 1000) : 0;
    // the old counter read back is exact (it is written in the same transaction as the rows)
    const firstSeq = Math.max(old ?? floor, opts.firstSeq ?? 1, 1);
    const stamp = new Date(wall).toISOString().replace(/[:.]/g, "-");
    const movedTo = `${opts.path}.corrupt-${stamp}`;
    for (const suffix of ["", "-wal", "-shm"]) {
      if (existsSync(opts.path + suffix)) renameSync(opts.path + suffix, movedTo + suffix);
    }
    opts.logger.error(
      `the outbox ${opts.path} was damaged (${err.message.split(" while ")[0]}); moved it to ${movedTo} and started a new one at sequence ${firstSeq}. Messages still in the old file were not sent; check the SD card (dmesg, fsck).`,
    );
    const outbox = new SqliteOutbox({ ...opts, firstSeq });
    return { outbox, recovery: { movedTo, reason: err.message, firstSeq, salvaged: old !== undefined } };
  }
}

/** The next sequence number a damaged outbox would have used, if its counter can still be read. */
function salvageNextSeq(path: string): number | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const next = db.prepare("SELECT value FROM meta WHERE key = 'next_seq'").pluck().get() as number | undefined;
    let max: number | undefined;
    try {
      max = db.prepare("SELECT MAX(seq) FROM outbox").pluck().get() as number | undefined;
    } catch {
      max = undefined;
    }
    const v = Math.max(next ?? 0, (max ?? 0) + 1);
    return v > 0 ? v : undefined;
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}
