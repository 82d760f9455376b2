import { Decoder, Encoder } from "cbor-x";

/**
 * SenML (RFC 8428) records and their two encodings. CBOR uses the integer labels of RFC 8428 §6
 * Table 4 and plain CBOR only (no cbor-x records, no tags), so any standard decoder reads it.
 */
export interface SenmlRecord {
  bver?: number;
  bn?: string;
  bt?: number;
  bu?: string;
  bv?: number;
  bs?: number;
  n?: string;
  u?: string;
  v?: number;
  vs?: string;
  vb?: boolean;
  vd?: Uint8Array;
  s?: number;
  t?: number;
  ut?: number;
}

type Label = keyof SenmlRecord;

/** RFC 8428 §6, Table 4. */
export const CBOR_LABELS: Readonly<Record<Label, number>> = Object.freeze({
  bver: -1,
  bn: -2,
  bt: -3,
  bu: -4,
  bv: -5,
  bs: -6,
  n: 0,
  u: 1,
  v: 2,
  vs: 3,
  vb: 4,
  s: 5,
  t: 6,
  ut: 7,
  vd: 8,
});

const LABEL_BY_INT = new Map<number, Label>(Object.entries(CBOR_LABELS).map(([k, v]) => [v, k as Label]));
/** Field order in encoded records: base fields first, as in the RFC's examples. */
const ORDER: Label[] = ["bver", "bn", "bt", "bu", "bv", "bs", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"];

export const CONTENT_TYPE_CBOR = "application/senml+cbor";
export const CONTENT_TYPE_JSON = "application/senml+json";

// useTag259ForMaps: false, or cbor-x wraps every Map in its tag 259, which plain decoders do not expect
const encoder = new Encoder({
  useRecords: false,
  tagUint8Array: false,
  variableMapSize: true,
  useTag259ForMaps: false,
} as ConstructorParameters<typeof Encoder>[0]);
// int64AsNumber: 64-bit integers (never produced by roadside, possible from other encoders) decode as numbers, not BigInt
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false, int64AsNumber: true } as ConstructorParameters<typeof Decoder>[0]);

/** Encode a pack as CBOR with integer labels. */
export function encodeSenmlCbor(pack: readonly SenmlRecord[]): Buffer {
  const arr = pack.map((rec) => {
    const m = new Map<number, unknown>();
    for (const label of ORDER) {
      const v = rec[label];
      if (v !== undefined) m.set(CBOR_LABELS[label], label === "vd" ? Buffer.from(v as Uint8Array) : v);
    }
    return m;
  });
  return encoder.encode(arr);
}

/** Encode a pack as SenML JSON (vd as base64url, RFC 8428 §5). */
export function encodeSenmlJson(pack: readonly SenmlRecord[]): Buffer {
  const arr = pack.map((rec) => {
    const o: Record<string, unknown> = {};
    for (const label of ORDER) {
      const v = rec[label];
      if (v !== undefined) o[label] = label === "vd" ? Buffer.from(v as Uint8Array).toString("base64url") : v;
    }
    return o;
  });
  return Buffer.from(JSON.stringify(arr), "utf8");
}

export class SenmlDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SenmlDecodeError";
  }
}

/** Decode a CBOR SenML pack. Throws `SenmlDecodeError` on anything that is not one. */
export function decodeSenmlCbor(buf: Uint8Array): SenmlRecord[] {
  let raw: unknown;
  try {
    raw = decoder.decode(buf);
  } catch (err) {
    throw new SenmlDecodeError(`not CBOR: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new SenmlDecodeError("a SenML pack is a CBOR array");
  return raw.map((m, i) => {
    if (!(m instanceof Map)) throw new SenmlDecodeError(`record ${i} is not a CBOR map`);
    const rec: Record<string, unknown> = {};
    for (const [k, v] of m) {
      const label = typeof k === "number" ? LABEL_BY_INT.get(k) : typeof k === "string" ? k : undefined;
      if (label === undefined) continue; // unknown labels are ignored (RFC 8428 §4.4)
      rec[label] = v;
    }
    return rec as SenmlRecord;
  });
}

/** Decode a JSON SenML pack. */
export function decodeSenmlJson(buf: Uint8Array): SenmlRecord[] {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(buf).toString("utf8"));
  } catch (err) {
    throw new SenmlDecodeError(`not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new SenmlDecodeError("a SenML pack is a JSON array");
  return raw.map((r: unknown, i) => {
    if (r === null || typeof r !== "object" || Array.isArray(r)) throw new SenmlDecodeError(`record ${i} is not an object`);
    const rec = { ...(r as Record<string, unknown>) };
    if (typeof rec["vd"] === "string") rec["vd"] = Buffer.from(rec["vd"], "base64url");
    return rec as SenmlRecord;
  });
}

/** A record after resolution (RFC 8428 §4.6): full name, absolute time, base values applied. */
export interface ResolvedRecord {
  name: string;
  time: number;
  unit?: string;
  value?: number;
  stringValue?: string;
  boolValue?: boolean;
  dataValue?: Uint8Array;
}

/** Resolve base fields into each record, per RFC 8428 §4.6. */
export function resolveSenml(pack: readonly SenmlRecord[], nowS = Date.now() / 1000): ResolvedRecord[] {
  let bn = "";
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  const out: ResolvedRecord[] = [];
  for (const r of pack) {
    if (r.bn !== undefined) bn = r.bn;
    if (r.bt !== undefined) bt = r.bt;
    if (r.bu !== undefined) bu = r.bu;
    if (r.bv !== undefined) bv = r.bv;
    const hasValue = r.v !== undefined || r.vs !== undefined || r.vb !== undefined || r.vd !== undefined || r.s !== undefined;
    if (!hasValue) continue;
    let t = bt + (r.t ?? 0);
    if (t < 2 ** 28) t += nowS; // relative time (RFC 8428 §4.5.3)
    const rec: ResolvedRecord = { name: bn + (r.n ?? ""), time: t };
    const unit = r.u ?? bu;
    if (unit !== undefined) rec.unit = unit;
    if (r.v !== undefined) rec.value = bv + r.v;
    if (r.vs !== undefined) rec.stringValue = r.vs;
    if (r.vb !== undefined) rec.boolValue = r.vb;
    if (r.vd !== undefined) rec.dataValue = r.vd;
    out.push(rec);
  }
  return out;
}
