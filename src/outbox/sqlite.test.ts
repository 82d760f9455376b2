import { closeSync, mkdtempSync, openSync, readdirSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../log/logger.js";
import { OutboxError } from "./errors.js";
import { openOutbox } from "./open.js";
import type { LossReport, OutboxDraft, Priority } from "./outbox.js";
import type { SqliteOutboxOptions } from "./sqlite.js";
import { ROW_OVERHEAD, SEQ_BLOCK, SqliteOutbox } from "./sqlite.js";

const T0 = Date.UTC(2026, 0, 5, 7, 0, 0);
const MIN = 60_000;

/** A draft whose payload is JSON of what the outbox passed to encode, padded to `size` bytes. */
function draft(topic: string, minute: number, priority: Priority = "routine", size = 100): OutboxDraft {
  return {
    topic,
    priority,
    contentType: "application/json",
    spanFromMs: T0 + minute * MIN,
    spanToMs: T0 + (minute + 1) * MIN,
    encode: (seq: number, lost: LossReport | undefined) => {
      const s = JSON.stringify({ seq, minute, lost: lost ?? null });
      return Buffer.from(s.padEnd(size, " "));
    },
  };
}

/** The test drafts' annotate: rewrite the JSON's `lost`. */
function annotate(payload: Buffer, lost: LossReport): Buffer {
  const b = JSON.parse(payload.toString()) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...b, lost }).padEnd(payload.length, " "));
}

function body(payload: Buffer): { seq: number; minute: number; lost: LossReport | null } {
  return JSON.parse(payload.toString()) as { seq: number; minute: number; lost: LossReport | null };
}

const open: SqliteOutbox[] = [];
function outbox(path: string, extra: Partial<SqliteOutboxOptions> = {}, now = () => T0): SqliteOutbox {
  const o = SqliteOutbox.open({ path, now, ...extra });
  open.push(o);
  return o;
}
function tmp(): string {
  return join(mkdtempSync(join(tmpdir(), "roadside-outbox-")), "outbox.db");
}
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

describe("SqliteOutbox", () => {
  it("numbers messages consecutively and continues after a reopen", () => {
    const path = tmp();
    const a = outbox(path);
    const first = a.commit([draft("t/a", 0), draft("t/b", 0)]);
    expect(first.map((m) => m.seq)).toEqual([1, 2]);
    a.ack(1);
    a.close();
    const b = outbox(path);
    expect(b.commit([draft("t/a", 1)]).map((m) => m.seq)).toEqual([3]);
    // the un-acknowledged message survived the restart, the acknowledged one did not
    expect(b.next({ after: 0, limit: 10 }).map((m) => m.seq)).toEqual([2, 3]);
    expect(b.stats()).toMatchObject({ depth: 2, nextSeq: 4 });
  });

  it("deletes on ack (batched), ignores unknown acks, and reads lanes by range and priority", () => {
    const o = outbox(tmp());
    o.commit([draft("t/a", 0), draft("t/alarm", 0, "alarm"), draft("t/a", 1), draft("t/a", 2)]);
    o.ack(1);
    o.ack(99);
    expect(o.next({ after: 0, limit: 10 }).map((m) => m.seq)).toEqual([2, 3, 4]); // excluded before the flush
    expect(o.next({ after: 0, limit: 10, priority: "alarm" }).map((m) => m.seq)).toEqual([2]);
    expect(o.next({ after: 0, before: 4, limit: 10, priority: "routine" }).map((m) => m.seq)).toEqual([3]);
    expect(o.next({ after: 3, limit: 10, priority: "routine" }).map((m) => m.seq)).toEqual([4]);
    expect(o.pending(2, new Set([2]))).toHaveLength(2);
    const st = o.stats();
    expect(st.depth).toBe(3);
    expect(st.bytes).toBe(3 * (100 + 3 + ROW_OVERHEAD) + 4); // "t/alarm" is 4 bytes longer than "t/a"
  });

  it("when full, drops the oldest routine messages first, alarms last, and counts every drop", () => {
    const row = 100 + 3 + ROW_OVERHEAD;
    const o = outbox(tmp(), { maxBytes: 10 * row });
    o.commit([draft("t/a", 0, "alarm")]); // seq 1, oldest of all
    for (let m = 1; m <= 9; m++) o.commit([draft("t/a", m)]); // seq 2..10: exactly full
    expect(o.stats()).toMatchObject({ depth: 10, drops: { routine: 0, alarms: 0 } });
    o.commit([draft("t/a", 10), draft("t/a", 11)]); // needs two rows of room
    let left = o.next({ after: 0, limit: 100 }).map((m) => m.seq);
    expect(left).toEqual([1, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // the alarm stays; routine 2 and 3 went
    expect(o.stats().drops).toMatchObject({ routine: 2, alarms: 0, last: { count: 2, fromMs: T0 + 1 * MIN, toMs: T0 + 3 * MIN } });
    // only alarms left: then the oldest alarm goes
    const a = outbox(tmp(), { maxBytes: 3 * row });
    for (let m = 0; m < 3; m++) a.commit([draft("t/a", m, "alarm")]);
    a.commit([draft("t/a", 3, "alarm")]);
    left = a.next({ after: 0, limit: 100 }).map((m) => m.seq);
    expect(left).toEqual([2, 3, 4]);
    expect(a.stats().drops).toMatchObject({ routine: 0, alarms: 1 });
  });

  it("without annotate, reports each topic's losses in that topic's next message, with the span lost", () => {
    const row = 100 + 3 + ROW_OVERHEAD;
    const o = outbox(tmp(), { maxBytes: 4 * row });
    o.commit([draft("t/a", 0), draft("t/b", 0)]); // 1, 2
    o.commit([draft("t/a", 1), draft("t/b", 1)]); // 3, 4 — full
    o.commit([draft("t/a", 2)]); // 5: drops seq 1 (t/a minute 0)
    const m5 = body(o.next({ after: 4, limit: 1 })[0]!.payload);
    // dropped before the new message was stored, so it already reports the loss
    expect(m5.lost).toEqual({ count: 1, fromMs: T0, toMs: T0 + MIN });
    o.commit([draft("t/b", 2)]); // 6: drops seq 2 (t/b minute 0)
    expect(body(o.next({ after: 5, limit: 1 })[0]!.payload).lost).toEqual({ count: 1, fromMs: T0, toMs: T0 + MIN });
    expect(o.stats()).toMatchObject({ unreported: 0, drops: { routine: 2 } });
  });

  it("with annotate, puts each loss into the topic's oldest waiting message, right after the gap", () => {
    const row = 100 + 3 + ROW_OVERHEAD;
    const o = outbox(tmp(), { maxBytes: 4 * row, annotate });
    o.commit([draft("t/a", 0), draft("t/b", 0)]); // 1, 2
    o.commit([draft("t/a", 1), draft("t/b", 1)]); // 3, 4 — full
    o.commit([draft("t/a", 2)]); // 5: drops seq 1; seq 3 (t/a minute 1) now follows the gap
    o.commit([draft("t/b", 2)]); // 6: drops seq 2; seq 4 follows it
    const byseq = new Map(o.next({ after: 0, limit: 10 }).map((m) => [m.seq, body(m.payload)]));
    expect([...byseq.keys()]).toEqual([3, 4, 5, 6]);
    expect(byseq.get(3)!.lost).toEqual({ count: 1, fromMs: T0, toMs: T0 + MIN });
    expect(byseq.get(4)!.lost).toEqual({ count: 1, fromMs: T0, toMs: T0 + MIN });
    expect(byseq.get(5)!.lost).toBeNull();
    expect(byseq.get(6)!.lost).toBeNull();
    expect(o.stats().unreported).toBe(0);
  });

  it("a dropped message that carried a loss report hands it on, so every loss is reported once, at the gap", () => {
    const row = 100 + 3 + ROW_OVERHEAD;
    const o = outbox(tmp(), { maxBytes: 2 * row, annotate });
    for (let m = 0; m <= 4; m++) o.commit([draft("t/a", m)]); // minutes 0..2 dropped, one by one
    const msgs = o.next({ after: 0, limit: 10 });
    expect(msgs.map((m) => m.seq)).toEqual([4, 5]);
    // seq 4 follows the whole gap: minutes 0, 1, 2, reported once; seq 5 follows nothing lost
    expect(body(msgs[0]!.payload).lost).toEqual({ count: 3, fromMs: T0, toMs: T0 + 3 * MIN });
    expect(body(msgs[1]!.payload).lost).toBeNull();
    expect(o.stats().drops.routine).toBe(3);
  });

  it("without annotate, a dropped report-carrying message hands its report to the next one", () => {
    const row = 100 + 3 + ROW_OVERHEAD;
    const o = outbox(tmp(), { maxBytes: 2 * row });
    for (let m = 0; m <= 4; m++) o.commit([draft("t/a", m)]);
    const msgs = o.next({ after: 0, limit: 10 });
    const r4 = body(msgs[0]!.payload).lost!;
    const r5 = body(msgs[1]!.payload).lost!;
    expect(r4).toEqual({ count: 1, fromMs: T0 + MIN, toMs: T0 + 2 * MIN });
    expect(r5).toEqual({ count: 2, fromMs: T0, toMs: T0 + 3 * MIN });
    expect(r4.count + r5.count).toBe(o.stats().drops.routine);
  });

  it("expires stale messages and reports them like drops", () => {
    let now = T0;
    const o = outbox(tmp(), {}, () => now);
    o.commit([{ ...draft("t/a", 0), expiresAtMs: T0 + 10 * MIN }, draft("t/a", 1)]);
    expect(o.expire(T0 + 5 * MIN)).toBe(0);
    now = T0 + 11 * MIN;
    expect(o.expire(now)).toBe(1);
    o.commit([draft("t/a", 11)]);
    const msgs = o.next({ after: 0, limit: 10 });
    expect(msgs.map((m) => m.seq)).toEqual([2, 3]);
    expect(body(msgs[1]!.payload).lost).toEqual({ count: 1, fromMs: T0, toMs: T0 + MIN });
    expect(o.stats().drops).toMatchObject({ expired: 1, routine: 0, last: { count: 1, atMs: now } });
  });

  it("stops growing when the disk's free space falls below minFreeBytes", () => {
    let free = 10_000_000;
    const o = outbox(tmp(), { minFreeBytes: 1_000_000, freeBytes: () => free });
    for (let m = 0; m < 5; m++) o.commit([draft("t/a", m)]);
    free = 500_000;
    o.commit([draft("t/a", 5)]);
    expect(o.stats()).toMatchObject({ depth: 5, drops: { routine: 1 } });
  });

  it("refuses a damaged file with an error naming it and the fix", () => {
    const path = tmp();
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    let err: unknown;
    try {
      outbox(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OutboxError);
    expect((err as OutboxError).code).toBe("corrupt");
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(/mv .*\.bad/);
  });

  it("recovers from a damaged file: moves it aside and numbers above the old counter", () => {
    const path = tmp();
    const a = outbox(path);
    for (let m = 0; m < 20; m++) a.commit([draft("t/a", m, "routine", 2000)]);
    a.close();
    // damage the tail of the file: the first pages (meta) stay readable, the b-tree does not
    const db = new Database(path);
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.close();
    expect(pages).toBeGreaterThan(4);
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.alloc(4096 * 2, 0xff), 0, 4096 * 2, (pages - 2) * 4096);
    closeSync(fd);
    const { outbox: b, recovery } = openOutbox({ path, now: () => T0, logger: silentLogger });
    open.push(b);
    expect(recovery).toBeDefined();
    expect(readdirSync(join(path, "..")).some((f) => f.startsWith("outbox.db.corrupt-"))).toBe(true);
    const seq = b.commit([draft("t/a", 99)])[0]!.seq;
    // the high-water mark file beside it (reserved one block ahead of seq 2) is above the old counter (21)
    expect(seq).toBe(2 + SEQ_BLOCK);
    expect(recovery!.firstSeq).toBe(seq);
  });

  it("with onCorrupt: stop, a damaged file is left alone", () => {
    const path = tmp();
    writeFileSync(path, "not a database at all, just text that is long enough to have a header");
    expect(() => openOutbox({ path, now: () => T0, logger: silentLogger, onCorrupt: "stop" })).toThrow(OutboxError);
    expect(readdirSync(join(path, ".."))).toEqual(["outbox.db"]);
  });

  it("fails with code locked when another process holds the write lock", () => {
    const path = tmp();
    const o = outbox(path, { busyTimeoutMs: 50 });
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    try {
      expect(() => o.commit([draft("t/a", 0)])).toThrow(/locked by another process/);
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    expect(o.commit([draft("t/a", 0)])[0]!.seq).toBe(1);
  });

  it("opens an outbox written by the walking skeleton and keeps its messages and numbering", () => {
    const path = tmp();
    const db = new Database(path);
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO meta (key, value) VALUES ('next_seq', 42);
      CREATE TABLE outbox (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, priority INTEGER NOT NULL,
        content_type TEXT NOT NULL, created_ms INTEGER NOT NULL, expires_ms INTEGER);
      INSERT INTO outbox VALUES (41, 't/a', x'00', 0, 'application/senml+cbor', ${T0}, NULL);
    `);
    db.close();
    const o = outbox(path);
    expect(o.next({ after: 0, limit: 10 }).map((m) => m.seq)).toEqual([41]);
    expect(o.commit([draft("t/a", 1)])[0]!.seq).toBe(42);
  });
});
