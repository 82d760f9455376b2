import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../log/logger.js";
import { openOutbox } from "./open.js";
import type { LossReport, OutboxDraft, Priority } from "./outbox.js";
import type { SqliteOutboxOptions } from "./sqlite.js";
import { ROW_OVERHEAD, SEQ_BLOCK, SqliteOutbox } from "./sqlite.js";

// Faults at the edges of the outbox's design (issue 12): a full disk, a frozen broker, damaged rows,
// a lost outbox on a clock that never synced.

const T0 = Date.UTC(2026, 0, 5, 7, 0, 0);
const MIN = 60_000;
const SIZE = 100;

function draft(topic: string, minute: number, priority: Priority = "routine"): OutboxDraft {
  return {
    topic,
    priority,
    contentType: "application/json",
    spanFromMs: T0 + minute * MIN,
    spanToMs: T0 + (minute + 1) * MIN,
    encode: (seq: number, lost: LossReport | undefined) =>
      Buffer.from(JSON.stringify({ seq, minute, lost: lost ?? null }).padEnd(SIZE, " ")),
  };
}
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
  return join(mkdtempSync(join(tmpdir(), "roadside-edges-")), "outbox.db");
}
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});
const ROW = SIZE + "t/a".length + ROW_OVERHEAD;

describe("outbox at the edges", () => {
  it("disk below minFreeDisk with only alarms waiting: the new routine summary is refused, never an alarm", () => {
    let free = 1e9;
    const o = outbox(tmp(), { minFreeBytes: 50e6, freeBytes: () => free, annotate });
    // offline: five alarms raised, then the disk fills up (another program, logs)
    for (let m = 0; m < 5; m++) o.commit([draft("t/alarm", m, "alarm")]);
    free = 10e6;
    const msgs = o.commit([draft("t/a", 5)]);
    expect(msgs).toEqual([]);
    const st = o.stats();
    expect(st.drops).toMatchObject({ routine: 1, alarms: 0 });
    expect(o.next({ after: 0, limit: 100, priority: "alarm" }).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    // the refused summary's number stays unused, and the next one of its topic reports it
    o.commit([draft("t/alarm", 6, "alarm")]); // an alarm still fits by displacing the oldest alarm
    free = 1e9;
    const next = o.commit([draft("t/a", 7)])[0]!;
    expect(next.seq).toBe(8);
    expect(body(next.payload).lost).toEqual({ count: 1, fromMs: T0 + 5 * MIN, toMs: T0 + 6 * MIN });
    expect(o.stats().unreported).toBe(0);
  });

  it("a frozen broker across commits with a full outbox: in-flight messages are neither dropped nor rewritten", () => {
    const o = outbox(tmp(), { maxBytes: 4 * ROW, annotate });
    o.commit([draft("t/a", 0), draft("t/a", 1)]); // 1, 2
    // the session hands 1 and 2 to the broker, which never answers
    const sent = o.next({ after: 0, limit: 2, priority: "routine" });
    const bytes = new Map(sent.map((m) => [m.seq, Buffer.from(m.payload)]));
    o.commit([draft("t/a", 2)]); // 3
    o.commit([draft("t/a", 3)]); // 4: full
    o.commit([draft("t/a", 4)]); // 5: must drop 3 (oldest not in flight), not 1
    o.commit([draft("t/a", 5)]); // 6: drops 4
    const left = o.next({ after: 0, limit: 10 });
    expect(left.map((m) => m.seq)).toEqual([1, 2, 5, 6]);
    for (const m of left) if (bytes.has(m.seq)) expect(Buffer.compare(m.payload, bytes.get(m.seq)!)).toBe(0);
    // the loss of 3 and 4 is reported once, in 5 (the first message after the gap that was never sent)
    expect(body(left[2]!.payload).lost).toEqual({ count: 2, fromMs: T0 + 2 * MIN, toMs: T0 + 4 * MIN });
    expect(body(left[3]!.payload).lost).toBeNull();
    expect(o.stats().drops.routine).toBe(2);
    // once acknowledged they may go like any other
    o.ack(1);
    o.ack(2);
    o.commit([draft("t/a", 6), draft("t/a", 7)]);
    expect(o.stats().bytes).toBeLessThanOrEqual(4 * ROW);
  });

  it("an in-flight survivor keeps its bytes: the loss goes to the next message committed on the topic", () => {
    const o = outbox(tmp(), { maxBytes: 2 * ROW, annotate });
    o.commit([draft("t/a", 0), draft("t/a", 1)]); // 1, 2: full
    o.next({ after: 1, limit: 1 }); // 2 is in flight
    const m3 = o.commit([draft("t/a", 2)])[0]!; // drops 1; 2 follows the gap but is in flight
    expect(body(m3.payload).lost).toEqual({ count: 1, fromMs: T0, toMs: T0 + MIN });
    expect(body(o.next({ after: 1, limit: 1 })[0]!.payload).lost).toBeNull();
  });

  it("after a restart, messages stored by the previous process keep their bytes (it may have sent them): the loss goes to a new one", () => {
    const path = tmp();
    const a = outbox(path, { maxBytes: 3 * ROW, annotate });
    a.commit([draft("t/a", 0), draft("t/a", 1)]); // 1, 2: the previous process may have sent both
    a.close();
    const b = outbox(path, { maxBytes: 3 * ROW, annotate });
    const before = new Map(b.next({ after: 0, limit: 10 }).map((m) => [m.seq, Buffer.from(m.payload)]));
    b.close();
    const c = outbox(path, { maxBytes: 3 * ROW, annotate });
    c.commit([draft("t/a", 2)]); // 3: full
    const m4 = c.commit([draft("t/a", 3)])[0]!; // drops 1; 2 follows the gap but is from the previous run
    expect(Buffer.compare(c.next({ after: 1, limit: 1 })[0]!.payload, before.get(2)!)).toBe(0);
    // 3 was stored by this run and never sent: it carries the loss
    expect(body(c.next({ after: 2, limit: 1 })[0]!.payload).lost).toEqual({ count: 1, fromMs: T0, toMs: T0 + MIN });
    expect(body(m4.payload).lost).toBeNull();
  });

  it("a message handed out fresh is not expired while in flight; one handed out already stale (never sent) is", () => {
    let now = T0;
    const o = outbox(tmp(), {}, () => now);
    o.commit([
      { ...draft("t/a", 0), expiresAtMs: T0 + MIN },
      { ...draft("t/b", 0), expiresAtMs: T0 + MIN },
    ]); // 1, 2
    o.next({ after: 0, limit: 1 }); // 1 goes to the broker while fresh
    now = T0 + 2 * MIN;
    o.next({ after: 1, limit: 1 }); // 2 is picked when already stale: the session does not send it
    expect(o.expire(now)).toBe(1);
    expect(o.next({ after: 0, limit: 10 }).map((m) => m.seq)).toEqual([1]);
    expect(o.stats().drops.expired).toBe(1);
  });

  it("bytes flipped inside stored rows: the damaged rows are never returned, and are reported lost on their topic and in the totals", () => {
    const path = tmp();
    const a = outbox(path, { annotate });
    for (let m = 0; m < 6; m++) a.commit([draft("t/a", m)]);
    a.close();
    // flip bytes inside the payloads of minutes 1 and 2 (found in the file by their text)
    const file = path; // closing checkpointed the WAL into the database file
    const raw = readFileSync(file);
    const fd = openSync(file, "r+");
    for (const minute of [1, 2]) {
      const at = raw.indexOf(Buffer.from(`"minute":${minute},`));
      expect(at).toBeGreaterThan(0);
      writeSync(fd, Buffer.from([raw[at + 10]! ^ 0x5a]), 0, 1, at + 10);
    }
    closeSync(fd);
    const logs: string[] = [];
    const b = outbox(path, { annotate, onDamaged: (s) => logs.push(s) }); // quick_check passes: it reads structure, not records
    const got = b.next({ after: 0, limit: 10 });
    expect(got.map((m) => m.seq)).toEqual([1, 4, 5, 6]);
    for (const m of got) expect(() => JSON.parse(m.payload.toString()) as unknown).not.toThrow();
    // 4 was stored by the previous run (it may have been sent): the topic's next message reports the loss
    expect(body(got[1]!.payload).lost).toBeNull();
    expect(body(b.commit([draft("t/a", 6)])[0]!.payload).lost).toEqual({ count: 2, fromMs: T0 + MIN, toMs: T0 + 3 * MIN });
    const st = b.stats();
    expect(st.drops).toMatchObject({ damaged: 2, routine: 0, last: { count: 2, fromMs: T0 + MIN, toMs: T0 + 3 * MIN } });
    expect(st.depth).toBe(5);
    expect(logs.join("\n")).toMatch(/seq 2, 3.*checksum/);
  });

  it("numbering never restarts: a damaged outbox that cannot be salvaged on a clock that never synced", () => {
    const path = tmp();
    const a = outbox(path);
    for (let m = 0; m < 30; m++) a.commit([draft("t/a", m)]);
    a.close();
    // the whole file is garbage now; the clock says 1970 (a Pi without RTC before NTP)
    for (const s of ["", "-wal", "-shm"]) rmSync(path + s, { force: true });
    const fd = openSync(path, "w");
    writeSync(fd, Buffer.alloc(8192, 0x5a));
    closeSync(fd);
    const { outbox: b, recovery } = openOutbox({ path, now: () => 5000, logger: silentLogger });
    open.push(b);
    expect(recovery!.salvaged).toBe(true);
    expect(b.commit([draft("t/a", 99)])[0]!.seq).toBe(2 + SEQ_BLOCK);
  });

  it("with the high-water mark gone too and no clock, commits wait for the clock instead of reusing numbers (also across a restart)", () => {
    const path = tmp();
    const a = outbox(path);
    for (let m = 0; m < 30; m++) a.commit([draft("t/a", m)]);
    a.close();
    for (const s of ["", "-wal", "-shm", ".seq"]) rmSync(path + s, { force: true });
    const fd = openSync(path, "w");
    writeSync(fd, Buffer.alloc(8192, 0x5a));
    closeSync(fd);
    let now = 5000;
    const { outbox: b } = openOutbox({ path, now: () => now, logger: silentLogger });
    expect(() => b.commit([draft("t/a", 99)])).toThrow(/once the clock is synchronised/);
    b.close();
    const c = outbox(path, {}, () => now); // restarted, still unsynced
    expect(() => c.commit([draft("t/a", 99)])).toThrow(/once the clock is synchronised/);
    now = T0;
    expect(c.commit([draft("t/a", 99)])[0]!.seq).toBe(Math.floor(T0 / 1000));
  });

  it("an outbox deleted by hand restarts above the high-water mark", () => {
    const path = tmp();
    const a = outbox(path);
    for (let m = 0; m < 3; m++) a.commit([draft("t/a", m)]);
    a.close();
    for (const s of ["", "-wal", "-shm"]) rmSync(path + s, { force: true });
    const b = outbox(path);
    expect(b.commit([draft("t/a", 3)])[0]!.seq).toBe(2 + SEQ_BLOCK);
  });
});
