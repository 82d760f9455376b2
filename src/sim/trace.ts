import type { Level } from "../io/contract.js";

/**
 * Signal traces (DESIGN.md "Signal trace format", docs/traces.md): JSON Lines, a header, then one
 * signal per line in time order.
 *
 *   {"trace":1,"start":"2026-11-22T07:00:00.000Z","note":"free text"}
 *   {"t":12.000250,"input":"lane1.up","level":1}
 *   {"t":13.500000,"port":"manhole1","data":"R1234\r"}
 *   {"t":14.000000,"port":"rfid","hex":"02...03"}
 *
 * `t` is seconds since `start` with µs resolution. roadside also writes three optional kinds of
 * line that carry no signal; readers that know only signals skip any line with neither
 * `input`+`level` nor `port`+`data`/`hex`:
 *
 *   {"t":…,"port":"manhole1","state":"lost"}   the port went away (unplugged); "open" when it is back
 *   {"t":…,"clock":"jump","deltaMs":3600000,"synced":true}   the wall clock stepped
 *   {"t":…,"end":true}                          recording ended here
 *   {"t":…,"analog":"bin1.temperature","value":0.734}   an analog sample (volts at the ADC input)
 *
 * and, in the header, `"synced":false` when the wall clock was not synchronised at the start.
 * A line at t = 0 gives an input's level when recording began; later lines are changes.
 */

export interface TraceHeader {
  trace: 1;
  /** Wall time of t = 0, ISO 8601 UTC. */
  start: string;
  note?: string;
  /** Wall clock synchronised at the start (default true). */
  synced?: boolean;
  [key: string]: unknown;
}

export type TraceLine =
  | { t: number; kind: "input"; input: string; level: Level }
  | { t: number; kind: "data"; port: string; bytes: Buffer }
  | { t: number; kind: "port-state"; port: string; state: "lost" | "open" }
  | { t: number; kind: "clock-jump"; deltaMs: number; synced: boolean }
  | { t: number; kind: "analog"; analog: string; value: number }
  | { t: number; kind: "end" };

export interface ParsedTrace {
  header: TraceHeader;
  /** Wall ms of t = 0. */
  startWallMs: number;
  /** In time order (stable: lines with equal t keep file order). */
  lines: TraceLine[];
  /** Problems with line numbers, e.g. `line 12: level must be 0 or 1`. Lines with problems are skipped. */
  issues: string[];
}

/** `t` with µs resolution, always six decimals: `12.000250`. */
export function formatT(us: number): string {
  const neg = us < 0;
  const a = Math.abs(us);
  const s = Math.floor(a / 1e6);
  const frac = String(a - s * 1e6).padStart(6, "0");
  return `${neg ? "-" : ""}${s}.${frac}`;
}

export function headerLine(h: TraceHeader): string {
  return JSON.stringify(h);
}

export function inputLine(us: number, input: string, level: Level): string {
  return `{"t":${formatT(us)},"input":${JSON.stringify(input)},"level":${level}}`;
}

/** True when every byte is 7-bit ASCII: such data is written as text, anything else as hex. */
function isAscii(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i]! > 0x7e || (b[i]! < 0x20 && b[i] !== 0x0d && b[i] !== 0x0a && b[i] !== 0x09)) return false;
  return true;
}

export function dataLine(us: number, port: string, bytes: Buffer): string {
  const payload = isAscii(bytes) ? `"data":${JSON.stringify(bytes.toString("latin1"))}` : `"hex":"${bytes.toString("hex")}"`;
  return `{"t":${formatT(us)},"port":${JSON.stringify(port)},${payload}}`;
}

/** An analog sample: `name` is `SENSOR.QUANTITY` (`bin1.temperature`, `mh1.level`), `volts` the reading at the converter's input. */
export function analogLine(us: number, name: string, volts: number): string {
  return `{"t":${formatT(us)},"analog":${JSON.stringify(name)},"value":${Math.round(volts * 1e6) / 1e6}}`;
}

export function portStateLine(us: number, port: string, state: "lost" | "open"): string {
  return `{"t":${formatT(us)},"port":${JSON.stringify(port)},"state":"${state}"}`;
}

export function clockJumpLine(us: number, deltaMs: number, synced: boolean): string {
  return `{"t":${formatT(us)},"clock":"jump","deltaMs":${deltaMs},"synced":${synced}}`;
}

export function endLine(us: number): string {
  return `{"t":${formatT(us)},"end":true}`;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * Parse a trace. Never throws: a missing or bad header is an issue and yields no lines; a bad line is
 * an issue and is skipped. Unknown keys are ignored. Lines out of time order are sorted (and noted).
 */
export function parseTrace(text: string): ParsedTrace {
  const issues: string[] = [];
  const rows = text.split("\n");
  let header: TraceHeader | undefined;
  let startWallMs = NaN;
  const lines: TraceLine[] = [];
  let unordered = 0;
  let lastT = -Infinity;
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i]!.trim();
    if (raw.length === 0) continue;
    const at = `line ${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      issues.push(`${at}: not JSON; each line must be one JSON object`);
      continue;
    }
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      issues.push(`${at}: expected a JSON object`);
      continue;
    }
    const o = v as Record<string, unknown>;
    if (!header) {
      if (o["trace"] !== 1 || typeof o["start"] !== "string" || Number.isNaN(Date.parse(o["start"]))) {
        // the line's content is never echoed: a file passed as a trace may hold a sensor's raw bytes
        issues.push(
          `${at}: the first line must be the header {"trace":1,"start":"<ISO time>"}; this line is not (its content is not shown)`,
        );
        return { header: { trace: 1, start: new Date(0).toISOString() }, startWallMs: 0, lines: [], issues };
      }
      header = o as TraceHeader;
      startWallMs = Date.parse(o["start"]);
      continue;
    }
    const t = o["t"];
    if (typeof t !== "number" || !Number.isFinite(t) || t < 0) {
      issues.push(`${at}: t must be seconds since start (a number ≥ 0)`);
      continue;
    }
    const line = parseLine(o, t, at, issues);
    if (!line) continue;
    if (t < lastT) unordered++;
    lastT = Math.max(lastT, t);
    lines.push(line);
  }
  if (!header) {
    issues.push('the trace is empty: the first line must be the header {"trace":1,"start":"<ISO time>"}');
    return { header: { trace: 1, start: new Date(0).toISOString() }, startWallMs: 0, lines: [], issues };
  }
  if (unordered > 0) {
    issues.push(`${unordered} line(s) were out of time order and have been sorted`);
    // stable sort keeps the file order of lines with equal t
    lines.sort((a, b) => a.t - b.t);
  }
  return { header, startWallMs, lines, issues };
}

/** One signal line of a trace (after its `t` is checked), or undefined; its problems go to `issues`. */
export function parseLine(o: Record<string, unknown>, t: number, at: string, issues: string[]): TraceLine | undefined {
  if (typeof o["input"] === "string") {
    const level = o["level"];
    if (level !== 0 && level !== 1) {
      issues.push(`${at}: level of input ${o["input"]} must be 0 or 1`);
      return undefined;
    }
    return { t, kind: "input", input: o["input"], level };
  }
  if (typeof o["port"] === "string") {
    const port = o["port"];
    if (typeof o["data"] === "string") return { t, kind: "data", port, bytes: Buffer.from(o["data"], "utf8") };
    if (typeof o["hex"] === "string") {
      if (!HEX.test(o["hex"])) {
        issues.push(`${at}: hex of port ${port} must be pairs of hex digits`);
        return undefined;
      }
      return { t, kind: "data", port, bytes: Buffer.from(o["hex"], "hex") };
    }
    if (o["state"] === "lost" || o["state"] === "open") return { t, kind: "port-state", port, state: o["state"] };
    issues.push(`${at}: port ${port} has neither data nor hex`);
    return undefined;
  }
  if (typeof o["analog"] === "string") {
    const value = o["value"];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      issues.push(`${at}: analog ${o["analog"]} needs value, the reading in volts (a number)`);
      return undefined;
    }
    return { t, kind: "analog", analog: o["analog"], value };
  }
  if (o["clock"] === "jump") {
    if (typeof o["deltaMs"] !== "number" || !Number.isFinite(o["deltaMs"])) {
      issues.push(`${at}: a clock jump needs deltaMs (a number)`);
      return undefined;
    }
    return { t, kind: "clock-jump", deltaMs: o["deltaMs"], synced: o["synced"] !== false };
  }
  if (o["end"] === true) return { t, kind: "end" };
  // neither a signal nor a known extension: ignored, as the format allows
  return undefined;
}
