import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { Checkpoint, LossReport, OutboxDraft } from "./outbox.js";
import { SqliteOutbox } from "./sqlite.js";

const T0 = Date.UTC(2026, 0, 5, 7, 0, 0);
const MIN = 60_000;
const LANE = "roadside/d/traffic/lane1";

function draft(topic: string, minute: number, size = 200): OutboxDraft {
  return {
    topic,
    priority: "routine",
    contentType: "application/json",
    spanFromMs: T0 + minute * MIN,
    spanToMs: T0 + (minute + 1) * MIN,
    encode: (seq: number, lost: LossReport | undefined) =>
      Buffer.from(JSON.stringify({ seq, minute, lost: lost ?? null }).padEnd(size, " ")),
  };
}
function annotate(payload: Buffer, lost: LossReport): Buffer {
  const b = JSON.parse(payload.toString()) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...b, lost }).padEnd(payload.length, " "));
}
const body = (p: Buffer) => JSON.parse(p.toString()) as { seq: number; minute: number; lost: LossReport | null };

function cp(topic: string, minute: number, observedMs: number): Checkpoint {
  return {
    topic,
    windowStartMs: T0 + minute * MIN,
    windowS: 60,
    observedFromMs: T0 + minute * MIN,
    observedMs,
    takenMs: T0 + minute * MIN + observedMs,
    synced: true,
    summary: JSON.stringify({ kind: "traffic", name: "lane1", measures: [{ n: "volume", v: 3 }] }),
  };
}

const open: SqliteOutbox[] = [];
function outbox(path: string, maxBytes?: number): SqliteOutbox {
  const o = SqliteOutbox.open({ path, now: () => T0, annotate, seqFile: false, ...(maxBytes ? { maxBytes } : {}) });
  open.push(o);
  return o;
}
const tmp = () => join(mkdtempSync(join(tmpdir(), "roadside-ckpt-")), "outbox.db");
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

describe("checkpoints and crash accounting in the outbox", () => {
  it("keeps one checkpoint per stream and window, drops those before the previous window with the next, and survives a reopen", () => {
    const path = tmp();
    const a = outbox(path);
    a.commit([], [{ topic: LANE, fromMs: T0 + 2 * MIN }]);
    a.saveCheckpoints([cp(LANE, 0, 30_000)]);
    a.saveCheckpoints([cp(LANE, 1, 30_000)]);
    a.saveCheckpoints([cp(LANE, 2, 20_000)]);
    a.saveCheckpoints([cp(LANE, 2, 50_000)]);
    a.close();
    const rec = outbox(path).crashRecord();
    expect(rec.open).toEqual([{ topic: LANE, fromMs: T0 + 2 * MIN }]);
    // the previous window's stays (it may be in its grace, not yet committed), older ones go
    expect(rec.checkpoints).toEqual([cp(LANE, 1, 30_000), cp(LANE, 2, 50_000)]);
  });

  it("a window commit writes nothing to the checkpoint table (no extra page per window on the SD card)", () => {
    const path = tmp();
    const a = outbox(path);
    a.saveCheckpoints([cp(LANE, 2, 30_000)]);
    a.commit([draft(LANE, 2)], [{ topic: LANE, fromMs: T0 + 3 * MIN }]);
    // obsolete now (the open record is past it), left for the next checkpoint or start to remove
    expect(a.crashRecord().checkpoints).toHaveLength(1);
  });

  it("a damaged checkpoint is ignored", () => {
    const path = tmp();
    const a = outbox(path);
    a.saveCheckpoints([cp(LANE, 2, 30_000)]);
    a.close();
    const db = new Database(path);
    db.prepare("UPDATE checkpoint SET summary = replace(summary, '3', '9')").run();
    db.close();
    expect(outbox(path).crashRecord().checkpoints).toEqual([]);
  });

  it("settling a crash reports each loss with its cause, commits the recovered windows and clears the records, at once", () => {
    const path = tmp();
    const a = outbox(path);
    a.commit(
      [],
      [
        { topic: LANE, fromMs: T0 + 2 * MIN },
        { topic: "t/presence", fromMs: T0 + 2 * MIN },
      ],
    );
    a.saveCheckpoints([cp(LANE, 2, 30_000)]);
    const msgs = a.settleCrash(
      [
        { topic: LANE, count: 0, fromMs: T0 + 3 * MIN, toMs: T0 + 10 * MIN },
        { topic: "t/presence", count: 1, fromMs: T0 + 2 * MIN, toMs: T0 + 10 * MIN },
      ],
      [draft(LANE, 2)],
    );
    // the recovered window carries the report of the time down after it
    expect(msgs).toHaveLength(1);
    expect(body(msgs[0]!.payload).lost).toEqual({ count: 0, fromMs: T0 + 3 * MIN, toMs: T0 + 10 * MIN, causes: ["crash"] });
    expect(a.crashRecord()).toEqual({ open: [], checkpoints: [] });
    const next = a.commit([draft("t/presence", 10)]);
    expect(body(next[0]!.payload).lost).toEqual({ count: 1, fromMs: T0 + 2 * MIN, toMs: T0 + 10 * MIN, causes: ["crash"] });
    expect(a.stats().drops.interrupted).toBe(1);
  });

  it("a crash loss whose message is dropped for space travels on, naming both causes", () => {
    const path = tmp();
    const a = outbox(path, 3 * (200 + LANE.length + 64));
    a.settleCrash([{ topic: LANE, count: 1, fromMs: T0, toMs: T0 + 5 * MIN }], []);
    const first = a.commit([draft(LANE, 5)]);
    expect(body(first[0]!.payload).lost?.causes).toEqual(["crash"]);
    a.commit([draft(LANE, 6)]);
    a.commit([draft(LANE, 7)]);
    a.commit([draft(LANE, 8)]); // the bound holds three: minute 5 (and its report) is dropped
    const left = a.next({ after: 0, limit: 10 });
    expect(left.map((m) => body(m.payload).minute)).toEqual([6, 7, 8]);
    expect(body(left[0]!.payload).lost).toEqual({ count: 2, fromMs: T0, toMs: T0 + 6 * MIN, causes: ["full", "crash"] });
  });

  it("drops alone name no cause (the payload is as before checkpoints existed)", () => {
    const a = outbox(tmp(), 2 * (200 + LANE.length + 64));
    a.commit([draft(LANE, 0)]);
    a.commit([draft(LANE, 1)]);
    a.commit([draft(LANE, 2)]);
    const left = a.next({ after: 0, limit: 10 });
    expect(body(left[0]!.payload).lost).toEqual({ count: 1, fromMs: T0, toMs: T0 + MIN });
  });
});
