import { COMPACT_KIND, DEFAULTS, DEFAULTS_RECORD, longName, readShort, UNITS } from "../publish/compact-tables.js";
import type { DecodedMessage } from "../publish/envelope.js";
import { decodeMessage } from "../publish/envelope.js";
import { decodeSenmlCbor, decodeSenmlJson } from "../publish/senml.js";

/** One cellular-profile message: its envelope, and one standard-looking message per stream in it. */
export interface DecodedCompact {
  /** The pack's own envelope (kind `window`, stream ""); `dropped` (and `droppedCause`) is the loss of the …/window topic. */
  envelope: DecodedMessage;
  /** Per stream, as the standard profile would have sent it: seq and window of the pack, units and defaults restored. */
  streams: DecodedMessage[];
}

const META = new Set([
  "seq",
  "schema",
  "window",
  "observed",
  "timeq",
  "dropped",
  "dropped.from",
  "dropped.to",
  "dropped.cause",
  "recovered",
]);

/** Decode a `{prefix}/{device}/window` payload (docs/payloads.md "Cellular profile"). Throws on anything else. */
export function decodeCompact(payload: Uint8Array): DecodedCompact {
  const isJson = payload[0] === 0x5b; // '['
  const pack = isJson ? decodeSenmlJson(payload) : decodeSenmlCbor(payload);
  const first = pack[0];
  if (!first?.bn) throw new Error("not a roadside message: the first record has no base name");
  const [device = "", kind = ""] = first.bn.split(":");
  if (kind !== COMPACT_KIND)
    throw new Error(`not a cellular-profile pack: its base name is ${JSON.stringify(first.bn)}, not {device}:window:`);
  const envelope: DecodedMessage = {
    device,
    kind,
    stream: "",
    seq: -1,
    schema: -1,
    windowStartMs: (first.bt ?? 0) * 1000,
    windowS: 0,
    observedS: -1,
    // absent observed and timeq are the defaults: the whole window, a synchronised clock
    timeq: "synced",
    measures: {},
  };
  const streams: DecodedMessage[] = [];
  const sameAs: [DecodedMessage, string, string][] = [];
  let cur: DecodedMessage | undefined;
  for (const r of pack) {
    if (r.bn !== undefined && r !== first) {
      const [k = "", s = ""] = r.bn.split(":");
      if (envelope.observedS < 0) envelope.observedS = envelope.windowS;
      // `recovered` applies to every stream of the pack; the loss report to the pack's topic
      const { dropped: _lost, droppedCause: _cause, ...env } = envelope;
      cur = { ...env, kind: k, stream: s, measures: {} };
      streams.push(cur);
    }
    const n = r.n ?? "";
    if (!cur) {
      if (n === "seq") envelope.seq = r.v ?? -1;
      else if (n === "schema") envelope.schema = r.v ?? -1;
      else if (n === "window") envelope.windowS = r.v ?? 0;
      else if (n === "observed") envelope.observedS = r.v ?? 0;
      else if (n === "timeq") envelope.timeq = r.vs ?? "";
      else if (n === "dropped") envelope.dropped = { count: r.v ?? 0, fromMs: 0, toMs: 0 };
      else if (n === "dropped.from" && envelope.dropped) envelope.dropped.fromMs = Math.round((r.v ?? 0) * 1000);
      else if (n === "dropped.to" && envelope.dropped) envelope.dropped.toMs = Math.round((r.v ?? 0) * 1000);
      else if (n === "dropped.cause") envelope.droppedCause = r.vs ?? "";
      else if (n === "recovered") envelope.recovered = r.vs ?? "";
      if (!META.has(n)) envelope.measures[n] = value(n, r);
      continue;
    }
    if (n === DEFAULTS_RECORD) {
      let bits = r.v ?? 0;
      for (let i = 0; bits > 0; i++, bits = Math.floor(bits / 2)) {
        const d = DEFAULTS[i];
        if (bits % 2 !== 1 || !d) continue;
        if (d.same !== undefined) sameAs.push([cur, d.n, d.same]);
        else cur.measures[d.n] = value(d.n, d);
      }
    } else {
      const name = longName(n);
      if (name === undefined) throw new Error(`short name ${JSON.stringify(n)} is not in this decoder's table: update roadside`);
      cur.measures[name] = value(name, name === n || r.v === undefined ? r : { ...r, v: readShort(r.v) });
    }
  }
  if (envelope.observedS < 0) envelope.observedS = envelope.windowS;
  // a default that repeats another measure of its stream, read once the stream's records are all in
  for (const [msg, n, same] of sameAs) {
    const other = msg.measures[same];
    if (other?.v === undefined) throw new Error(`${msg.kind}:${msg.stream}: ${n} is said to equal ${same}, which the pack does not have`);
    msg.measures[n] = value(n, { v: other.v });
  }
  return { envelope, streams };
}

function value(n: string, r: { u?: string; v?: number; vs?: string; vb?: boolean }): DecodedMessage["measures"][string] {
  const m: DecodedMessage["measures"][string] = {};
  const u = r.u ?? UNITS[n];
  if (u !== undefined) m.u = u;
  if (r.v !== undefined) m.v = r.v;
  else if (r.vs !== undefined) m.vs = r.vs;
  else if (r.vb !== undefined) m.vb = r.vb;
  return m;
}

/**
 * Every stream message in a payload of either profile: a cellular pack's streams, else the one
 * standard message. For tools that print or show what a device sent (`sim --print`, `roadside test`,
 * `run --print`, the live views), so a cellular device reads like a standard one.
 */
export function decodeMessages(payload: Uint8Array): DecodedMessage[] {
  const std = decodeMessage(payload);
  if (std.kind !== COMPACT_KIND) return [std];
  const { envelope, streams } = decodeCompact(payload);
  if (envelope.dropped && streams[0]) {
    streams[0].dropped = envelope.dropped;
    if (envelope.droppedCause !== undefined) streams[0].droppedCause = envelope.droppedCause;
  }
  return streams;
}
