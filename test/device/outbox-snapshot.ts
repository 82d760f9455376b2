import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

/**
 * What a power cut left on the guest's disk: the outbox read from the VM's qcow2 overlay on the host,
 * after QEMU was killed and before the guest boots again. The overlay is converted to a raw image,
 * ext4's journal is replayed (e2fsck, as the next boot would), the outbox and its write-ahead log are
 * copied out with debugfs (no mount), and SQLite opens them (replaying the WAL, as the service would).
 */
export interface OutboxSnapshot {
  /** seq → payload of every message waiting in the outbox. */
  waiting: Map<number, Buffer>;
  /** The next sequence number the outbox would use. */
  nextSeq: number;
  integrity: string;
}

function sh(cmd: string, args: string[], what: string, okStatus: number[] = [0]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 300_000, maxBuffer: 16 << 20 });
  if (r.error || r.status === null || !okStatus.includes(r.status))
    throw new Error(`${what}: ${cmd} ${args.join(" ")} exited ${r.status ?? r.signal}: ${r.stderr}${r.error ?? ""}`);
  return r.stdout + r.stderr;
}

export function readOutboxFromDisk(overlay: string, work: string, stateDir = "/var/lib/roadside"): OutboxSnapshot | undefined {
  mkdirSync(work, { recursive: true });
  const raw = join(work, "snapshot.raw");
  const out = join(work, "outbox");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  try {
    sh("qemu-img", ["convert", "-O", "raw", overlay, raw], "copy the overlay");
    // replay the journal only (exit 1 = "errors corrected", normal after a cut)
    sh("e2fsck", ["-E", "journal_only", "-y", raw], "replay the ext4 journal", [0, 1]);
    for (const f of ["outbox.db", "outbox.db-wal"]) {
      spawnSync("debugfs", ["-R", `dump -p ${stateDir}/${f} ${join(out, f)}`, raw], { encoding: "utf8" });
    }
    if (!existsSync(join(out, "outbox.db"))) return undefined;
    const db = new Database(join(out, "outbox.db"));
    try {
      const integrity = (db.pragma("integrity_check", { simple: true }) as string) ?? "";
      const waiting = new Map<number, Buffer>();
      for (const r of db.prepare("SELECT seq, payload FROM outbox").all() as { seq: number; payload: Buffer }[])
        waiting.set(r.seq, Buffer.from(r.payload));
      const nextSeq = db.prepare("SELECT value FROM meta WHERE key = 'next_seq'").pluck().get() as number;
      return { waiting, nextSeq, integrity };
    } finally {
      db.close();
    }
  } finally {
    rmSync(raw, { force: true });
  }
}
