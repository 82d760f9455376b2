import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Rng } from "./rng.js";
import type { TraceLine } from "./trace.js";
import { parseTrace } from "./trace.js";
import type { TraceSource } from "./trace-stream.js";
import { arraySource, openTraceFile, TraceError } from "./trace-stream.js";

const dir = mkdtempSync(join(tmpdir(), "roadside-trace-stream-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string): string {
  const p = join(dir, `t${n++}.jsonl`);
  writeFileSync(p, text);
  return p;
}

function drain(s: TraceSource): TraceLine[] {
  const out: TraceLine[] = [];
  for (let l = s.next(); l; l = s.next()) out.push(l);
  s.close();
  return out;
}

/** What the streamed reader gives must be what parseTrace gives, line for line and problem for problem. */
function expectSame(text: string, chunkBytes?: number): void {
  const whole = parseTrace(text);
  const opened = openTraceFile(file(text), chunkBytes ? { chunkBytes } : {});
  expect(opened.issues).toEqual(whole.issues);
  expect(opened.source.header).toEqual(whole.header);
  expect(opened.source.startWallMs).toBe(whole.startWallMs);
  const ref = arraySource(whole);
  expect(opened.source.endT).toBe(ref.endT);
  expect([...opened.source.firstInputs]).toEqual([...ref.firstInputs]);
  const lines = drain(opened.source);
  expect(opened.source.lineCount).toBe(whole.lines.length);
  expect(lines).toEqual(whole.lines);
}

const HEADER = '{"trace":1,"start":"2026-01-05T00:00:00.000Z","note":"é ✓"}';

describe("streamed signal traces read exactly as parseTrace reads them", () => {
  it("the example of DESIGN.md, with CRLF line ends, blank lines and no final newline", () => {
    expectSame(
      [
        HEADER,
        '{"t":12.000250,"input":"lane1.up","level":1}',
        "",
        '{"t":12.252250,"input":"lane1.up","level":0}\r',
        '{"t":13.5,"port":"manhole1","data":"R1234\\r"}',
        '{"t":14.0,"port":"rfid","hex":"0230303132333435363738394103"}',
        '{"t":15.0,"port":"manhole1","state":"lost"}',
        '{"t":16.0,"clock":"jump","deltaMs":-1500,"synced":true}',
        '{"t":20,"end":true}',
      ].join("\n"),
    );
  });

  it("names bad lines and skips them, ignores lines before a valid header that are not objects", () => {
    expectSame(
      [
        "not json",
        HEADER,
        '{"t":-1,"input":"a","level":1}',
        '{"t":1,"input":"a","level":2}',
        '{"t":2,"port":"p"}',
        '{"t":3,"port":"p","hex":"abc"}',
        '{"t":4,"clock":"jump"}',
        "[1,2]",
        '{"t":5,"input":"a","level":1,"future":"key"}',
      ].join("\n"),
    );
  });

  it("sorts stragglers into place stably, as parseTrace does, whatever the chunk size", () => {
    const seed = 7;
    const rng = new Rng(seed);
    const rows = [HEADER];
    let t = 0;
    for (let i = 0; i < 3000; i++) {
      t += rng.next() * 0.5;
      // one line in ten is up to 2 s late; equal t values keep file order
      const late = rng.next() < 0.1 ? rng.next() * 2 : 0;
      const tt = Math.max(0, Math.round((t - late) * 1e3) / 1e3);
      rows.push(rng.next() < 0.5 ? `{"t":${tt},"input":"in${i % 5}","level":${i % 2}}` : `{"t":${tt},"port":"p${i % 3}","data":"x${i}✓"}`);
    }
    rows.push(`{"t":${Math.round(t * 1e3) / 1e3},"end":true}`);
    const text = rows.join("\n");
    for (const chunk of [7, 100, 65536]) expectSame(text, chunk); // seed printed on failure via the title below
    expect(parseTrace(text).issues.at(-1), `seed ${seed}`).toMatch(/out of time order and have been sorted/);
  });

  it("rejects a line far out of time order before anything is played, naming the line and the fix", () => {
    const p = file(
      [HEADER, '{"t":100,"input":"a","level":1}', '{"t":101,"input":"a","level":0}', '{"t":5,"input":"a","level":1}'].join("\n"),
    );
    expect(() => openTraceFile(p)).toThrow(TraceError);
    expect(() => openTraceFile(p)).toThrow(
      /^line 4: t 5 is 96\.000 s before an earlier line's t 101; a trace must be in time order .*Sort its lines by t, keeping the header first/,
    );
    // within the limit it is sorted into place
    expect(drain(openTraceFile(p, { reorderLimitS: 100 }).source).map((l) => l.t)).toEqual([5, 100, 101]);
  });

  it("a missing or bad header, an empty file and a missing file are errors that say what to do", () => {
    expect(() => openTraceFile(file(""))).toThrow(/the trace is empty: the first line must be the header/);
    expect(() => openTraceFile(file('{"t":1,"input":"a","level":1}\n'))).toThrow(
      /^line 1: the first line must be the header \{"trace":1,"start":"<ISO time>"\}; got/,
    );
    expect(() => openTraceFile(join(dir, "missing.jsonl"))).toThrow(/cannot read .*missing\.jsonl: no such file; check the path/);
  });

  it("keeps the first problems word for word and counts the rest", () => {
    const rows = [HEADER];
    for (let i = 0; i < 150; i++) rows.push(`{"t":${i},"input":"a","level":7}`);
    const opened = openTraceFile(file(rows.join("\n")), { maxIssues: 20 });
    expect(opened.issues.length).toBe(20);
    expect(opened.issueCount).toBe(150);
    expect(opened.issues[0]).toBe("line 2: level of input a must be 0 or 1");
    expect(opened.source.lineCount).toBe(0);
  });
});
