/**
 * Why the outbox could not be opened or written. `code` is for code; the message is for the
 * technician and names the file and what to do.
 * - `corrupt`: the file is not a usable SQLite database (a damaged SD card, a truncated copy).
 * - `locked`: another process holds the database (a second roadside with the same state folder).
 * - `io`: the disk refused (full, read-only, permissions).
 */
export type OutboxErrorCode = "corrupt" | "locked" | "io";

export class OutboxError extends Error {
  constructor(
    readonly code: OutboxErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "OutboxError";
  }
}

/** SQLite result codes (better-sqlite3 puts them in `err.code`) that mean the file is damaged. */
const CORRUPT = new Set([
  "SQLITE_CORRUPT",
  "SQLITE_NOTADB",
  "SQLITE_CORRUPT_INDEX",
  "SQLITE_CORRUPT_SEQUENCE",
  "SQLITE_CORRUPT_VTAB",
  "SQLITE_IOERR_SHORT_READ",
]);
const LOCKED = new Set(["SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_RECOVERY"]);

/** Turn a SQLite error into an `OutboxError` with a message a technician can act on. */
export function classify(err: unknown, path: string, doing: string): OutboxError {
  if (err instanceof OutboxError) return err;
  const code = String((err as { code?: unknown }).code ?? "");
  const what = err instanceof Error ? err.message : String(err);
  if (CORRUPT.has(code)) {
    return new OutboxError(
      "corrupt",
      path,
      `the outbox ${path} is damaged (${what}) while ${doing}; move it aside (mv ${path} ${path}.bad) and start again, or set outbox.onCorrupt: recover`,
      { cause: err },
    );
  }
  if (LOCKED.has(code)) {
    return new OutboxError(
      "locked",
      path,
      `the outbox ${path} is locked by another process (${what}) while ${doing}; is another roadside running with the same state folder? Check \`systemctl status roadside\` and \`fuser ${path}\``,
      { cause: err },
    );
  }
  return new OutboxError(
    "io",
    path,
    `cannot use the outbox ${path} while ${doing}: ${what}; check free space (df -h) and that the folder is writable by this user`,
    { cause: err },
  );
}
