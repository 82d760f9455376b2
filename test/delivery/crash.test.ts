import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeMessage } from "../../src/publish/envelope.js";
import { SqliteOutbox } from "../../src/outbox/sqlite.js";
import { Rng } from "../../src/sim/rng.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { hasMosquitto, MOSQUITTO_MISSING, startMosquitto, subscribe } from "../helpers/brokers.js";
import { builtDist, until } from "./rig.js";

const SEED = 20260105;
const KILLS = 50;
const CHILD = new URL("./fixtures/device-child.mjs", import.meta.url).pathname;
// the crash test runs the built device in a child process
builtDist("runtime.js");

interface Run {
  ready: number;
  committed: number[];
  code: number | null;
  signal: string | null;
}

/** Start the device child; resolves once it is connected, with a handle to kill or stop it. */
async function startChild(url: string, db: string, startWall: number): Promise<{ run: Run; kill(sig: NodeJS.Signals): Promise<void> }> {
  const child = spawn(process.execPath, [CHILD, url, db, String(startWall)], { stdio: ["ignore", "pipe", "pipe"] });
  const run: Run = { ready: -1, committed: [], code: null, signal: null };
  let buf = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.stdout.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith("ready ")) run.ready = Number(line.slice(6));
      else if (line.startsWith("committed ")) for (const s of line.slice(10).split(",")) run.committed.push(Number(s));
    }
  });
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      run.code = code;
      run.signal = signal;
      resolve();
    }),
  );
  await until(() => run.ready > 0 || run.code !== null, "the device child to connect", 20_000);
  if (run.ready < 0) throw new Error(`device child exited (${run.code}): ${err}`);
  return {
    run,
    kill: async (sig) => {
      child.kill(sig);
      await exited;
    },
  };
}

const whySkipped = hasMosquitto() ? "" : `: skipped, ${MOSQUITTO_MISSING}`;
describe.skipIf(!hasMosquitto())(`crash safety: ${KILLS} SIGKILLs during writes and publishes (seed ${SEED})${whySkipped}`, () => {
  let mosq: Mosquitto;
  beforeAll(async () => {
    mosq = await startMosquitto();
  });
  afterAll(async () => {
    await mosq?.stop();
  });

  it("loses no committed window or alarm, opens cleanly after every kill, and never reuses a sequence number", async () => {
    const rng = new Rng(SEED);
    const db = join(mkdtempSync(join(tmpdir(), "roadside-crash-")), "outbox.db");
    const sub = await subscribe(mosq.url, "roadside/crash-1/#");
    const received = new Map<number, Buffer>();
    let redelivered = 0;
    let waitingAtKills = 0;
    sub.client.on("message", (topic, payload) => {
      if (!topic.includes("/traffic/") && !topic.includes("/alarm/")) return;
      const seq = decodeMessage(payload).seq;
      const prev = received.get(seq);
      if (prev) redelivered++;
      // a redelivery after a crash must be the very same message, never a new one under an old number
      if (prev && !prev.equals(payload)) throw new Error(`seq ${seq} reused for different content (seed ${SEED})`);
      received.set(seq, payload);
    });
    const committed = new Set<number>();
    let expectedNext = 1;
    for (let i = 0; i < KILLS; i++) {
      const child = await startChild(mosq.url, db, Date.UTC(2026, 0, 5) + i * 86_400_000);
      // numbering continues exactly where the killed process's last committed transaction left it
      expect(child.run.ready, `run ${i}: first seq (seed ${SEED})`).toBe(expectedNext);
      await new Promise((r) => setTimeout(r, rng.int(30, 400)));
      await child.kill("SIGKILL");
      expect(child.run.signal).toBe("SIGKILL");
      for (const s of child.run.committed) committed.add(s);

      // the outbox opens cleanly (integrity check inside) and holds every committed, undelivered message
      const o = SqliteOutbox.open({ path: db, now: () => 0 });
      const waiting = new Set(o.next({ after: 0, limit: 1_000_000 }).map((m) => m.seq));
      expectedNext = o.stats().nextSeq;
      waitingAtKills += waiting.size;
      o.close();
      const check = new Database(db, { readonly: true });
      expect(check.pragma("integrity_check", { simple: true })).toBe("ok");
      check.close();
      for (const s of child.run.committed) {
        if (!waiting.has(s) && !received.has(s)) {
          // delivered but the PUBACK's delete raced the subscriber's copy: give it a moment
          await until(
            () => received.has(s) || waiting.has(s),
            `committed seq ${s} (run ${i}, seed ${SEED}) in the outbox or at the subscriber`,
            5000,
          );
        }
      }
      // a commit the kill interrupted is all or nothing: nothing above the counter exists
      expect(Math.max(0, ...waiting)).toBeLessThan(expectedNext);
    }
    // a last, clean run drains everything
    const last = await startChild(mosq.url, db, Date.UTC(2026, 0, 5) + KILLS * 86_400_000);
    await new Promise((r) => setTimeout(r, 500));
    await last.kill("SIGTERM");
    for (const s of last.run.committed) committed.add(s);
    const o = SqliteOutbox.open({ path: db, now: () => 0 });
    const finalNext = o.stats().nextSeq;
    expect(o.stats().depth).toBe(0);
    o.close();
    await until(() => received.size >= finalNext - 1, `all ${finalNext - 1} messages at the subscriber`, 30_000);
    await sub.close();

    // every number ever assigned arrived, once each; and everything reported committed is among them
    expect([...received.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: finalNext - 1 }, (_, i) => i + 1));
    for (const s of committed) expect(received.has(s)).toBe(true);
    expect(committed.size).toBeGreaterThan(KILLS * 5);
    const kinds = new Set([...received.values()].map((p) => decodeMessage(p).kind));
    expect(kinds).toEqual(new Set(["traffic", "alarm"]));
    console.info(
      `crash test (seed ${SEED}): ${KILLS} kills, ${finalNext - 1} messages committed, ${waitingAtKills} undelivered in the outbox across the kills (all delivered later), ${redelivered} same-seq redeliveries, 0 lost`,
    );
  }, 600_000);
});
