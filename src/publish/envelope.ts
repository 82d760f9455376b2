import type { Window } from "../clock/windows.js";
import { observedSeconds } from "../clock/windows.js";
import type { Alarm } from "../aggregate/alarm.js";
import type { Measure, Summary } from "../aggregate/summary.js";
import type { LossReport } from "../outbox/outbox.js";
import { LOSS_NAMES, pushLoss, recoveredRecord } from "./loss.js";
import type { SenmlRecord } from "./senml.js";
import { CONTENT_TYPE_CBOR, CONTENT_TYPE_JSON, decodeSenmlCbor, decodeSenmlJson, encodeSenmlCbor, encodeSenmlJson } from "./senml.js";

/**
 * The envelope every data message carries (docs/payloads.md). A SenML pack whose first records are
 * metadata, then the measures:
 *
 *   { bn: "{device}:{kind}:{stream}:", bt: window start (s since epoch), n: "seq", v: N }
 *   { n: "schema",   v: 1 }
 *   { n: "window",   u: "s", v: nominal window length }
 *   { n: "observed", u: "s", v: seconds of the window the device actually observed }
 *   { n: "timeq",    vs: "synced" | "unsynced" | "jump" }
 *   { n: "dropped",  u: "count", v: N }          only after the outbox lost messages of this topic:
 *   { n: "dropped.from", u: "s", v: epoch s }    how many, and the wall-time span they covered
 *   { n: "dropped.to",   u: "s", v: epoch s }
 *   { n: "dropped.cause", vs: "crash" }          only when a crash caused part of that loss (loss.ts)
 *   { n: "recovered", vs: "crash" }              only on a summary rebuilt from a checkpoint after a crash
 *   { n: <measure>,  u: <unit>, v: <value> } …
 *
 * Bump SCHEMA_VERSION on any change a subscriber could notice, and document it. Adding optional
 * records (like `dropped`) is compatible and does not bump it: subscribers look records up by name.
 */
export const SCHEMA_VERSION = 1;

export type Encoding = "cbor" | "json";
export type TimeQuality = "synced" | "unsynced" | "jump";

/** How far the window's wall time can be trusted. */
export function timeQuality(w: Window): TimeQuality {
  if (w.clockJump) return "jump";
  return w.synced ? "synced" : "unsynced";
}

/**
 * The aligned start of a window, ms: its aligned end minus its length. A window the device started
 * inside (or that a clock step opened) begins observing later, but belongs to the same slot.
 */
export function windowStartMs(w: Window): number {
  return w.endWallMs - w.lengthS * 1000;
}

/** The SenML base name of a stream: `{device}:{kind}:{stream}:`. */
export function baseName(deviceId: string, kind: string, stream: string): string {
  return `${deviceId}:${kind}:${stream}:`;
}

/** The SenML pack of one summary with its sequence number (and the losses of its topic to report). */
export function summaryPack(deviceId: string, s: Summary, seq: number, lost?: LossReport): SenmlRecord[] {
  const pack: SenmlRecord[] = [
    // bt is the aligned window start (DESIGN.md "Time"), also for a partial window: subscribers key
    // windows by it; `observed` says how much of the window the device saw
    { bn: baseName(deviceId, s.kind, s.name), bt: windowStartMs(s.window) / 1000, n: "seq", v: seq },
    { n: "schema", v: SCHEMA_VERSION },
    { n: "window", u: "s", v: s.window.lengthS },
    { n: "observed", u: "s", v: Math.round(observedSeconds(s.window) * 1000) / 1000 },
    { n: "timeq", vs: timeQuality(s.window) },
  ];
  if (lost) pushLoss(pack, lost);
  if (s.recovered !== undefined) pack.push(recoveredRecord(s.recovered));
  for (const m of s.measures) pack.push(measureRecord(m));
  return pack;
}

/**
 * The SenML pack of an alarm: `bn` is `{device}:alarm:{source}:`, `bt` the event's wall time, then
 * seq, schema, timeq, `alarm` (kind), `state`, and optionally `code`, `message` and measures.
 */
export function alarmPack(deviceId: string, a: Alarm, wallMs: number, timeq: TimeQuality, seq: number, lost?: LossReport): SenmlRecord[] {
  const pack: SenmlRecord[] = [
    { bn: baseName(deviceId, "alarm", a.source), bt: wallMs / 1000, n: "seq", v: seq },
    { n: "schema", v: SCHEMA_VERSION },
    { n: "timeq", vs: timeq },
  ];
  if (lost) pushLoss(pack, lost);
  pack.push({ n: "alarm", vs: a.kind }, { n: "state", vs: a.state });
  if (a.code !== undefined) pack.push({ n: "code", v: a.code });
  if (a.message !== undefined) pack.push({ n: "message", vs: a.message });
  for (const m of a.measures ?? []) pack.push(measureRecord(m));
  return pack;
}

/**
 * A stored message with its loss report replaced: the outbox calls this on the oldest message still
 * waiting after messages of its topic were dropped, so the report sits right after the gap. The
 * records go after `timeq`, where `summaryPack` puts them; everything else is kept as it was.
 */
export function annotateLoss(payload: Buffer, lost: LossReport): Buffer {
  const isJson = payload[0] === 0x5b; // '['
  const pack = (isJson ? decodeSenmlJson(payload) : decodeSenmlCbor(payload)).filter((r) => !LOSS_NAMES.has(r.n ?? ""));
  let at = pack.findIndex((r) => r.n === "timeq");
  // a cellular pack may leave timeq out (synced): its envelope ends before its first stream's base name
  if (at < 0) at = pack.findIndex((r, i) => i > 0 && r.bn !== undefined) - 1;
  const loss: SenmlRecord[] = [];
  pushLoss(loss, lost);
  pack.splice(at < 0 ? pack.length : at + 1, 0, ...loss);
  return isJson ? encodeSenmlJson(pack) : encodeSenmlCbor(pack);
}

function measureRecord(m: Measure): SenmlRecord {
  const r: SenmlRecord = { n: m.n };
  if (m.u !== undefined) r.u = m.u;
  if (m.v !== undefined) r.v = m.v;
  else if (m.vs !== undefined) r.vs = m.vs;
  else if (m.vb !== undefined) r.vb = m.vb;
  return r;
}

export function encodePack(pack: readonly SenmlRecord[], encoding: Encoding): Buffer {
  return encoding === "json" ? encodeSenmlJson(pack) : encodeSenmlCbor(pack);
}

export function contentType(encoding: Encoding): string {
  return encoding === "json" ? CONTENT_TYPE_JSON : CONTENT_TYPE_CBOR;
}

/** A data message as a subscriber reads it. */
export interface DecodedMessage {
  device: string;
  kind: string;
  stream: string;
  seq: number;
  schema: number;
  /** Window start, ms since epoch. */
  windowStartMs: number;
  windowS: number;
  observedS: number;
  timeq: string;
  /** Messages of this topic the device had to drop since its last message here, if any. */
  dropped?: LossReport;
  /** Why, when the device names it (`dropped.cause`: `crash`, with any other causes of that report). */
  droppedCause?: string;
  /** `crash` on a summary rebuilt from its window's checkpoint after a crash. */
  recovered?: string;
  /** Measures by name (metadata records excluded). */
  measures: Record<string, { u?: string; v?: number; vs?: string; vb?: boolean }>;
}

const META = new Set(["seq", "schema", "window", "observed", "timeq", "recovered", ...LOSS_NAMES]);

/** Decode a roadside data message (CBOR or JSON SenML, detected from the first byte). */
export function decodeMessage(payload: Uint8Array): DecodedMessage {
  const isJson = payload[0] === 0x5b; // '['
  const pack = isJson ? decodeSenmlJson(payload) : decodeSenmlCbor(payload);
  const first = pack[0];
  if (!first?.bn) throw new Error("not a roadside message: the first record has no base name");
  const [device = "", kind = "", stream = ""] = first.bn.split(":");
  const msg: DecodedMessage = {
    device,
    kind,
    stream,
    seq: -1,
    schema: -1,
    windowStartMs: (first.bt ?? 0) * 1000,
    windowS: 0,
    observedS: 0,
    timeq: "",
    measures: {},
  };
  for (const r of pack) {
    const n = r.n ?? "";
    if (n === "seq") msg.seq = r.v ?? -1;
    else if (n === "schema") msg.schema = r.v ?? -1;
    else if (n === "window") msg.windowS = r.v ?? 0;
    else if (n === "observed") msg.observedS = r.v ?? 0;
    else if (n === "timeq") msg.timeq = r.vs ?? "";
    else if (n === "dropped") msg.dropped = { count: r.v ?? 0, fromMs: msg.dropped?.fromMs ?? 0, toMs: msg.dropped?.toMs ?? 0 };
    else if (n === "dropped.from" && msg.dropped) msg.dropped.fromMs = Math.round((r.v ?? 0) * 1000);
    else if (n === "dropped.to" && msg.dropped) msg.dropped.toMs = Math.round((r.v ?? 0) * 1000);
    else if (n === "dropped.cause") msg.droppedCause = r.vs ?? "";
    else if (n === "recovered") msg.recovered = r.vs ?? "";
    if (META.has(n)) continue;
    const m: DecodedMessage["measures"][string] = {};
    if (r.u !== undefined) m.u = r.u;
    if (r.v !== undefined) m.v = r.v;
    if (r.vs !== undefined) m.vs = r.vs;
    if (r.vb !== undefined) m.vb = r.vb;
    msg.measures[n] = m;
  }
  return msg;
}
