import { existsSync, renameSync } from "node:fs";
import Database from "better-sqlite3";
import type { Logger } from "../log/logger.js";
import { OutboxError } from "./errors.js";
import { readSeqFile } from "./seqfile.js";
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

import { PLAUSIBLE_WALL_MS } from "./sqlite.js";

/**
 * Open the outbox at `opts.path`, recovering from a damaged file if allowed. A locked or unwritable
 * outbox is never "recovered": that would run two writers or hide a disk problem.
 *
 * Numbering never restarts below a number already used, because subscribers drop a repeated
 * sequence number as a duplicate. It continues from the higher of the damaged file's counter (if it
 * can still be read) and the high-water mark file beside it (`outbox.db.seq`, reserved ahead of
 * use). With neither, it jumps to the wall clock in seconds (~1.8e9, above any count a device
 * reaches in centuries); if the clock has never been synchronised either, the new outbox refuses
 * commits until it is (the publisher keeps summaries in memory meanwhile). The gap tells
 * subscribers that an unknown number of messages was lost.
 */
export function openOutbox(opts: OpenOutboxOptions): { outbox: SqliteOutbox; recovery?: OutboxRecovery } {
  try {
    return { outbox: SqliteOutbox.open(opts) };
  } catch (err) {
    if (!(err instanceof OutboxError) || err.code !== "corrupt" || opts.onCorrupt === "stop" || opts.path === ":memory:") throw err;
    const { next: old, commandCounter } = salvage(opts.path);
    const seqFile = opts.seqFile === false ? undefined : (opts.seqFile ?? `${opts.path}.seq`);
    const mark = seqFile !== undefined ? readSeqFile(seqFile) : undefined;
    const wall = opts.now();
    const floor = wall >= PLAUSIBLE_WALL_MS ? Math.floor(wall / 1000) : 0;
    // the old counter read back is exact (it is written in the same transaction as the rows); the
    // high-water mark file is at or above every number used; the wall clock only when neither is left
    const known = old !== undefined || mark !== undefined;
    const base = Math.max(old ?? 0, mark ?? 0);
    const firstSeq = Math.max(known ? base : floor, opts.firstSeq ?? 1, 1);
    // nothing says which numbers were used and the clock cannot tell either: commits wait for the clock
    const waitForClock = !known && floor === 0;
    const stamp = new Date(wall).toISOString().replace(/[:.]/g, "-");
    const movedTo = `${opts.path}.corrupt-${stamp}`;
    for (const suffix of ["", "-wal", "-shm"]) {
      if (existsSync(opts.path + suffix)) renameSync(opts.path + suffix, movedTo + suffix);
    }
    const outbox = SqliteOutbox.open({
      ...opts,
      firstSeq,
      ...(waitForClock ? { seqFloorFromClock: true } : {}),
      ...(commandCounter !== undefined ? { commandCounter } : {}),
    });
    const next = outbox.stats().nextSeq;
    opts.logger.error(
      `the outbox ${opts.path} was damaged (${err.message.split(" while ")[0]}); moved it to ${movedTo} and started a new one at sequence ${waitForClock ? "(the wall clock in seconds, once it is synchronised: neither the old counter nor the high-water mark file could be read)" : next}. Messages still in the old file were not sent; check the SD card (dmesg, fsck).`,
    );
    return { outbox, recovery: { movedTo, reason: err.message, firstSeq: next, salvaged: old !== undefined || mark !== undefined } };
  }
}

/** What a damaged outbox's counters still say: the next sequence number, the signed-command counter. */
function salvage(path: string): { next: number | undefined; commandCounter: number | undefined } {
  let commandCounter: number | undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const c = db.prepare("SELECT value FROM meta WHERE key = 'cmd_counter'").pluck().get() as number | undefined;
      commandCounter = typeof c === "number" && c >= 0 ? c : undefined;
    } catch {
      commandCounter = undefined;
    }
    const next = db.prepare("SELECT value FROM meta WHERE key = 'next_seq'").pluck().get() as number | undefined;
    let max: number | undefined;
    try {
      max = db.prepare("SELECT MAX(seq) FROM outbox").pluck().get() as number | undefined;
    } catch {
      max = undefined;
    }
    const v = Math.max(next ?? 0, (max ?? 0) + 1);
    return { next: v > 0 ? v : undefined, commandCounter };
  } catch {
    return { next: undefined, commandCounter };
  } finally {
    db?.close();
  }
}
