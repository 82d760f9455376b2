import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The sequence high-water mark beside the outbox: one decimal number, the lowest sequence number
 * not yet reserved. Written to a temporary file, fsynced, renamed over the old one and the folder
 * fsynced, so after a power cut it holds either the old or the new mark, never a torn one.
 * Separate from the database on purpose: a damaged or deleted outbox must not take the numbering
 * with it.
 */
export function readSeqFile(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const n = Number(text.trim());
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export function writeSeqFile(path: string, next: number): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, `${next}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  try {
    const dir = openSync(dirname(path), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // some file systems refuse fsync on a directory; the rename is then as durable as they make it
  }
}
