import { closeSync, openSync, readSync } from "node:fs";
import type { Level } from "../io/contract.js";
import type { ParsedTrace, TraceHeader, TraceLine } from "./trace.js";
import { parseLine } from "./trace.js";

/**
 * A signal trace read one line at a time, in time order (DESIGN.md "Signal trace format"), so that a
 * trace of any size replays in bounded memory: a 48 h full-rate recording is larger than a Pi Zero 2 W's
 * RAM, and reading it whole took ~8× its size in heap.
 */
export interface TraceSource {
  readonly header: TraceHeader;
  /** Wall ms of t = 0. */
  readonly startWallMs: number;
  /** t of the trace's first `end` line, else of its last line; undefined when it has no lines. */
  readonly endT: number | undefined;
  /** Lines that will be played. */
  readonly lineCount: number;
  /** Per input, its earliest line: gives the level the input had when recording began. */
  readonly firstInputs: ReadonlyMap<string, { t: number; level: Level }>;
  /** The next line in time order (equal t: file order), or undefined at the end. */
  next(): TraceLine | undefined;
  /** Release the file (idempotent). */
  close(): void;
}

/** The lines of an in-memory trace (parseTrace), as a TraceSource. */
export function arraySource(trace: ParsedTrace): TraceSource {
  const { lines } = trace;
  const end = lines.find((l) => l.kind === "end") ?? lines.at(-1);
  const firstInputs = new Map<string, { t: number; level: Level }>();
  for (const l of lines) if (l.kind === "input" && !firstInputs.has(l.input)) firstInputs.set(l.input, { t: l.t, level: l.level });
  let i = 0;
  return {
    header: trace.header,
    startWallMs: trace.startWallMs,
    endT: end?.t,
    lineCount: lines.length,
    firstInputs,
    next: () => lines[i++],
    close: () => {
      i = lines.length;
    },
  };
}

/** The trace cannot be replayed: unreadable, no header, or lines too far out of time order. Exit code 2. */
export class TraceError extends Error {
  override name = "TraceError";
}

export interface OpenTraceOptions {
  /**
   * How far back in time (s) a line may go behind an earlier line and still be put in its place. Such
   * stragglers are sorted, as parseTrace does; the lines of this span are held in memory while they
   * are. Default 60 s: roadside's own recorder already reorders within 1 s, so anything later is a
   * tool or an edit that broke the order.
   */
  reorderLimitS?: number;
  /** Problems kept word for word; the rest are counted. Default 100. */
  maxIssues?: number;
  /** Bytes read at a time. Default 64 KiB. */
  chunkBytes?: number;
}

export interface OpenedTrace {
  source: TraceSource;
  /** Problems with line numbers (bad lines are skipped), as parseTrace words them; at most maxIssues. */
  issues: string[];
  /** All problems, including those not kept in `issues`. */
  issueCount: number;
}

/** Lines of a file, split at "\n" bytes (never inside a UTF-8 sequence), read synchronously in chunks. */
class LineReader {
  private fd: number | undefined;
  private readonly buf: Buffer;
  private carry: Buffer | undefined;
  private start = 0;
  private end = 0;
  private eof = false;
  /** 1-based number of the line last returned. */
  lineNo = 0;

  constructor(path: string, chunkBytes: number) {
    this.fd = openSync(path, "r");
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** The next line (without its "\n"), or undefined at the end of the file. */
  next(): string | undefined {
    for (;;) {
      const nl = this.buf.indexOf(0x0a, this.start);
      if (nl !== -1 && nl < this.end) {
        let text: string;
        if (this.carry) {
          text = Buffer.concat([this.carry, this.buf.subarray(this.start, nl)]).toString("utf8");
          this.carry = undefined;
        } else text = this.buf.toString("utf8", this.start, nl);
        this.start = nl + 1;
        this.lineNo++;
        return text;
      }
      if (this.start < this.end) {
        const rest = this.buf.subarray(this.start, this.end);
        this.carry = this.carry ? Buffer.concat([this.carry, rest]) : Buffer.from(rest);
      }
      this.start = 0;
      this.end = 0;
      if (this.eof || this.fd === undefined) {
        if (!this.carry) return undefined;
        const text = this.carry.toString("utf8");
        this.carry = undefined;
        this.lineNo++;
        return text;
      }
      const n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      if (n === 0) this.eof = true;
      this.end = n;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.eof = true;
    this.carry = undefined;
  }
}

/** parseLine's problems of the current row (reused: readRow runs once per line of a large file). */
const lineIssues: string[] = [];

type Row =
  | { kind: "header"; header: TraceHeader; startWallMs: number }
  | { kind: "line"; line: TraceLine }
  | { kind: "bad-header" }
  | undefined;

/** One row, exactly as parseTrace reads it (issues worded the same); undefined for skipped rows. */
function readRow(raw0: string, lineNo: number, haveHeader: boolean, issues: (msg: string) => void): Row {
  const raw = raw0.trim();
  if (raw.length === 0) return undefined;
  const at = `line ${lineNo}`;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    issues(`${at}: not JSON; each line must be one JSON object`);
    return undefined;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    issues(`${at}: expected a JSON object`);
    return undefined;
  }
  const o = v as Record<string, unknown>;
  if (!haveHeader) {
    if (o["trace"] !== 1 || typeof o["start"] !== "string" || Number.isNaN(Date.parse(o["start"]))) {
      issues(`${at}: the first line must be the header {"trace":1,"start":"<ISO time>"}; got ${raw.slice(0, 60)}`);
      return { kind: "bad-header" };
    }
    return { kind: "header", header: o as TraceHeader, startWallMs: Date.parse(o["start"]) };
  }
  const t = o["t"];
  if (typeof t !== "number" || !Number.isFinite(t) || t < 0) {
    issues(`${at}: t must be seconds since start (a number ≥ 0)`);
    return undefined;
  }
  const line = parseLine(o, t, at, lineIssues);
  if (lineIssues.length > 0) {
    for (const m of lineIssues) issues(m);
    lineIssues.length = 0;
  }
  return line ? { kind: "line", line } : undefined;
}

/**
 * Open a trace file for streaming replay. A first pass reads the whole file once, line by line, to
 * find its problems (all reported before anything is played), its end, every input's level at the
 * start, and how far its stragglers reach back; `source.next()` then reads it again, line by line.
 * Memory is bounded by the longest line and the stragglers' span, not by the size of the trace.
 * Throws TraceError when the trace cannot be replayed at all.
 */
export function openTraceFile(path: string, opts: OpenTraceOptions = {}): OpenedTrace {
  const limitS = opts.reorderLimitS ?? 60;
  const maxIssues = opts.maxIssues ?? 100;
  const chunk = opts.chunkBytes ?? 65536;
  const issues: string[] = [];
  let issueCount = 0;
  const issue = (m: string): void => {
    issueCount++;
    if (issues.length < maxIssues) issues.push(m);
  };
  let reader: LineReader;
  try {
    reader = new LineReader(path, chunk);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TraceError(`cannot read ${path}: ${code === "ENOENT" ? "no such file; check the path" : (err as Error).message}`);
  }
  let header: TraceHeader | undefined;
  let startWallMs = NaN;
  let lineCount = 0;
  let endT: number | undefined;
  let maxT = -Infinity;
  let lateness = 0;
  let unordered = 0;
  const firstInputs = new Map<string, { t: number; level: Level }>();
  try {
    for (let raw = reader.next(); raw !== undefined; raw = reader.next()) {
      const row = readRow(raw, reader.lineNo, header !== undefined, issue);
      if (!row) continue;
      if (row.kind === "bad-header") throw new TraceError(issues.at(-1)!);
      if (row.kind === "header") {
        header = row.header;
        startWallMs = row.startWallMs;
        continue;
      }
      const { line } = row;
      lineCount++;
      if (line.t < maxT) {
        unordered++;
        if (maxT - line.t > limitS) {
          throw new TraceError(
            `line ${reader.lineNo}: t ${line.t} is ${(maxT - line.t).toFixed(3)} s before an earlier line's t ${maxT}; a trace must be in time order ` +
              `(lines up to ${limitS} s late are sorted into place). Sort its lines by t, keeping the header first, or record it again`,
          );
        }
        lateness = Math.max(lateness, maxT - line.t);
      }
      maxT = Math.max(maxT, line.t);
      if (line.kind === "end" && (endT === undefined || line.t < endT)) endT = line.t;
      if (line.kind === "input") {
        const f = firstInputs.get(line.input);
        if (!f || line.t < f.t) firstInputs.set(line.input, { t: line.t, level: line.level });
      }
    }
  } catch (err) {
    reader.close();
    throw err;
  }
  reader.close();
  if (!header) throw new TraceError('the trace is empty: the first line must be the header {"trace":1,"start":"<ISO time>"}');
  if (unordered > 0) issue(`${unordered} line(s) were out of time order and have been sorted`);
  endT ??= lineCount > 0 ? maxT : undefined;
  return { source: new StreamSource(path, chunk, header, startWallMs, endT, lineCount, firstInputs, lateness), issues, issueCount };
}

/** Lines held back until no later line of the file can come before them (a min-heap by t, then file order). */
class StreamSource implements TraceSource {
  private reader: LineReader | undefined;
  private readonly held: { line: TraceLine; seq: number }[] = [];
  private seq = 0;
  private maxT = -Infinity;
  private pastHeader = false;

  constructor(
    private readonly path: string,
    private readonly chunk: number,
    readonly header: TraceHeader,
    readonly startWallMs: number,
    readonly endT: number | undefined,
    readonly lineCount: number,
    readonly firstInputs: ReadonlyMap<string, { t: number; level: Level }>,
    /** How far the worst straggler reaches back (s); 0 for a trace in order. */
    private readonly lateness: number,
  ) {}

  next(): TraceLine | undefined {
    for (;;) {
      const top = this.held[0];
      // 0.1 µs below the bound: t has µs resolution, and the subtraction must not round a later line ahead
      if (top && top.line.t <= this.maxT - this.lateness - 1e-7) return this.pop();
      const line = this.read();
      if (!line) return top ? this.pop() : undefined;
      this.maxT = Math.max(this.maxT, line.t);
      // a trace in time order (the normal case) passes straight through
      if (this.lateness === 0 && !top) return line;
      this.push({ line, seq: this.seq++ });
    }
  }

  close(): void {
    this.reader?.close();
    this.reader = undefined;
    this.pastHeader = true;
    this.held.length = 0;
  }

  private read(): TraceLine | undefined {
    if (!this.reader) {
      if (this.pastHeader) return undefined;
      this.reader = new LineReader(this.path, this.chunk);
    }
    const ignore = (): void => {};
    for (let raw = this.reader.next(); raw !== undefined; raw = this.reader.next()) {
      const row = readRow(raw, this.reader.lineNo, this.pastHeader, ignore);
      if (!row) continue;
      if (row.kind === "header") {
        this.pastHeader = true;
        continue;
      }
      if (row.kind === "line") return row.line;
    }
    this.reader.close();
    this.reader = undefined;
    this.pastHeader = true;
    return undefined;
  }

  private less(a: { line: TraceLine; seq: number }, b: { line: TraceLine; seq: number }): boolean {
    return a.line.t < b.line.t || (a.line.t === b.line.t && a.seq < b.seq);
  }

  private push(x: { line: TraceLine; seq: number }): void {
    const h = this.held;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): TraceLine {
    const h = this.held;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top.line;
  }
}
