import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * One process per state folder. Two roadside processes on one folder would take each other's broker
 * session over (same client id) and publish two different summaries for one window; SQLite's lock
 * only keeps them from sharing a sequence number. So `run` holds `roadside.lock` in the folder: the
 * holder's PID, created exclusively (O_EXCL). A second process finds it, names the holder and stops.
 * A lock whose PID is no longer a running roadside (a crash, a power cut, a PID reused after a
 * reboot) is stale and taken over.
 */
export class StateLockError extends Error {
  constructor(
    readonly path: string,
    readonly holderPid: number,
  ) {
    super(
      `the state folder ${join(path, "..")} is in use by another roadside process (PID ${holderPid}, lock ${path}); stop it first (systemctl stop roadside, or kill ${holderPid}), or give this one its own folder with --state-dir`,
    );
    this.name = "StateLockError";
  }
}

export interface StateLock {
  readonly path: string;
  release(): void;
}

export const LOCK_FILE = "roadside.lock";

/** Take the state folder's lock, or throw `StateLockError` naming the process that holds it. */
export function lockStateDir(dir: string, opts: { pid?: number; isRoadside?: (pid: number) => boolean } = {}): StateLock {
  const pid = opts.pid ?? process.pid;
  const alive = opts.isRoadside ?? isRoadsideProcess;
  const path = join(dir, LOCK_FILE);
  mkdirSync(dir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 3) throw err;
      const holder = readPid(path);
      if (holder !== undefined && holder !== pid && alive(holder)) throw new StateLockError(path, holder);
      // stale (its process is gone) or unreadable (a crash between create and write): take it over
      try {
        unlinkSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
      continue;
    }
    try {
      writeSync(fd, `${pid}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return {
      path,
      release: () => {
        // only our own: a lock taken over after we were presumed dead is not ours to remove
        if (readPid(path) === pid) {
          try {
            unlinkSync(path);
          } catch {
            // already gone
          }
        }
      },
    };
  }
}

function readPid(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, "utf8").trim());
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a running process that may be roadside: alive (signal 0 succeeds or is refused
 * for permissions), and on Linux its command line names node or roadside — so a PID reused by
 * another program after a reboot does not keep the lock.
 */
export function isRoadsideProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return /node|roadside/.test(cmd);
  } catch {
    return true; // no /proc to ask: alive is all we know
  }
}
