import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lockStateDir, StateLockError } from "../../src/outbox/lock.js";
import { startCli } from "../helpers/cli.js";
import { until } from "./rig.js";

// One process per state folder (issue 12): two on one folder took each other's broker session over
// and published two different summaries for one window. And `run -d` must end on a signal.

/** A PID that certainly belongs to no running process: a child that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(r.stdout.toString());
}

describe("the state folder lock", () => {
  it("a second roadside run on the same folder names the first one's PID and exits 2; SIGINT ends run -d 1h", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-lock-"));
    const first = startCli(["run", "--state-dir", dir, "-d", "1h", "--lines"]);
    await until(
      () => first.stdout().includes("publishing to") || existsSync(join(dir, "outbox.db")),
      `the first run to start (${first.stderr()})`,
      30_000,
    );
    await until(() => existsSync(join(dir, "roadside.lock")), "the lock file", 10_000);
    expect(readFileSync(join(dir, "roadside.lock"), "utf8").trim()).toBe(String(first.child.pid));

    const second = startCli(["run", "--state-dir", dir, "-d", "1h", "--lines"]);
    const code = await second.exited;
    expect(code).toBe(2);
    expect(second.stderr()).toContain(`PID ${first.child.pid}`);
    expect(second.stderr()).toContain("--state-dir");
    expect(second.stderr()).not.toMatch(/\n\s+at /);

    // run -d 1h stops on SIGINT (its duration timer used to keep it alive for the hour)
    first.child.kill("SIGINT");
    const firstCode = await Promise.race([
      first.exited,
      new Promise<string>((r) => setTimeout(() => r("still running 30 s after SIGINT"), 30_000)),
    ]);
    if (firstCode === "still running 30 s after SIGINT") first.child.kill("SIGKILL");
    expect(firstCode).toBe(0);
    expect(existsSync(join(dir, "roadside.lock"))).toBe(false);
  }, 90_000);

  it("a lock left by a dead process is taken over; a live holder is named", () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-lock-"));
    writeFileSync(join(dir, "roadside.lock"), `${deadPid()}\n`);
    const lock = lockStateDir(dir);
    expect(readFileSync(lock.path, "utf8").trim()).toBe(String(process.pid));
    // this (vitest, a node process) holds it now: another PID is refused and told who holds it
    let err: unknown;
    try {
      lockStateDir(dir, { pid: process.pid + 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateLockError);
    expect((err as StateLockError).holderPid).toBe(process.pid);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    // garbage in the file (a crash between create and write) is stale too
    writeFileSync(join(dir, "roadside.lock"), "");
    lockStateDir(dir).release();
  });
});
