import type { Measure, Summary } from "../aggregate/summary.js";
import type { CrashLoss, LossReport } from "../outbox/outbox.js";
import { COMPACT_KIND, DEFAULTS, DEFAULTS_RECORD, longName, readShort, shortName, UNITS } from "./compact-tables.js";
import { encodeCompactCbor } from "./compact-cbor.js";
import type { Encoding } from "./envelope.js";
import { encodePack } from "./envelope.js";
import { SCHEMA_VERSION, timeQuality, windowStartMs } from "./envelope.js";
import type { SenmlRecord } from "./senml.js";
import { pushLoss, recoveredRecord } from "./loss.js";
import { observedSeconds } from "../clock/windows.js";

/**
 * The cellular profile (docs/payloads.md "Cellular profile"): every stream of one window in one
 * SenML pack on `{prefix}/{device}/window`. On a SIM priced by the megabyte the standard profile's
 * per-message costs (topic, MQTT 5 properties, TLS record, PUBACK) and its repeated envelope, units
 * and zero counters were most of the bytes; the measures themselves are the same values.
 *
 *   { bn: "{device}:window:", bt: window start, n: "seq", v }   then schema, window, [observed], [timeq]
 *   [dropped, dropped.from, dropped.to, [dropped.cause]]          as in the standard envelope (loss.ts)
 *   [recovered]                                                   every stream of the pack rebuilt after a crash
 *   { bn: "{kind}:{stream}:", n: "_", v: bits }                   per stream: the bits of DEFAULTS
 *   { n: short name, [u: only when not UNITS[n]], v | vs | vb } …  its other measures (NAMES)
 */

/** Summaries that can share one pack: the same window slot, length, observed time, time quality and recovery. */
export function groupByWindow(summaries: readonly Summary[]): Summary[][] {
  const groups = new Map<string, Summary[]>();
  for (const s of summaries) {
    const key = `${windowStartMs(s.window)}|${s.window.lengthS}|${observed(s)}|${timeQuality(s.window)}|${s.recovered ?? ""}`;
    const g = groups.get(key);
    if (g) g.push(s);
    else groups.set(key, [s]);
  }
  return [...groups.values()];
}

const observed = (s: Summary): number => Math.round(observedSeconds(s.window) * 1000) / 1000;

/** The pack of one group from `groupByWindow` (non-empty, one window). */
export function compactPack(deviceId: string, group: readonly Summary[], seq: number, lost?: LossReport): SenmlRecord[] {
  const first = group[0];
  if (!first) throw new Error("compactPack: no summaries to pack");
  const w = first.window;
  const pack: SenmlRecord[] = [
    { bn: `${deviceId}:${COMPACT_KIND}:`, bt: windowStartMs(w) / 1000, n: "seq", v: seq },
    { n: "schema", v: SCHEMA_VERSION },
    { n: "window", v: w.lengthS },
  ];
  // absent = the default: the whole window observed, the clock synchronised
  if (observed(first) !== w.lengthS) pack.push({ n: "observed", v: observed(first) });
  if (timeQuality(w) !== "synced") pack.push({ n: "timeq", vs: timeQuality(w) });
  if (lost) pushLoss(pack, lost);
  // a pack rebuilt from checkpoints after a crash holds only recovered summaries (groupByWindow)
  if (first.recovered !== undefined) pack.push(recoveredRecord(first.recovered));
  // the device is in the pack's base name; a stream's names only its kind and stream (11+ bytes each)
  for (const s of group) pushStream(pack, `${s.kind}:${s.name}:`, s.measures);
  return pack;
}

function pushStream(pack: SenmlRecord[], bn: string, measures: readonly Measure[]): void {
  let bits = 0;
  const rest: SenmlRecord[] = [];
  for (const m of measures) {
    const i = defaultIndex(m, measures);
    // arithmetic, not `|`: the mask may grow past 31 bits and stays exact up to 2^53
    if (i >= 0 && Math.floor(bits / 2 ** i) % 2 === 0) bits += 2 ** i;
    else rest.push(record(m));
  }
  if (bits > 0 || rest.length === 0) pack.push({ bn, n: DEFAULTS_RECORD, v: bits });
  else rest[0] = { bn, ...rest[0] };
  for (const r of rest) pack.push(r);
}

function defaultIndex(m: Measure, all: readonly Measure[]): number {
  const unit = UNITS[m.n];
  if (m.u !== unit) return -1;
  return DEFAULTS.findIndex((d) => {
    if (d.n !== m.n) return false;
    if (d.same === undefined) return d.v === m.v && d.vs === m.vs && d.vb === m.vb;
    const other = all.find((o) => o.n === d.same);
    return m.v !== undefined && other?.v === m.v && other.u === UNITS[d.same];
  });
}

function record(m: Measure): SenmlRecord {
  // a value with more than 6 significant digits keeps the long name: readers round short-named values
  const exact = m.v === undefined || Number.isSafeInteger(m.v) || readShort(Math.fround(m.v)) === m.v;
  const r: SenmlRecord = { n: exact ? shortName(m.n) : m.n };
  if (m.u !== undefined && m.u !== UNITS[m.n]) r.u = m.u;
  if (m.v !== undefined) r.v = m.v;
  else if (m.vs !== undefined) r.vs = m.vs;
  else if (m.vb !== undefined) r.vb = m.vb;
  return r;
}

/** Encode a cellular pack: CBOR with float32 for short-named non-integer values (compact-cbor.ts), or SenML JSON. */
export function encodeCompact(pack: readonly SenmlRecord[], encoding: Encoding): Buffer {
  if (encoding === "json") return encodePack(pack, "json");
  return encodeCompactCbor(pack, (r) => r.n !== undefined && r.n !== longName(r.n));
}

/**
 * The crash losses of a cellular device, moved to `…/window`: its stream topics never carry a
 * message, so a loss left on one would never be reported. The outbox sums them into one report
 * (cause `crash`) that the next pack carries: `dropped` the stream windows lost, the span from the
 * earliest to the restart (docs/delivery.md "Crashes mid-window", cellular profile).
 */
export function crashLossesOnWindow(losses: readonly CrashLoss[], windowTopic: string): CrashLoss[] {
  return losses.map((l) => ({ ...l, topic: windowTopic }));
}
