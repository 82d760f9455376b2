import { CBOR_LABELS } from "./senml.js";
import type { SenmlRecord } from "./senml.js";

/**
 * Plain CBOR (RFC 8949) of a cellular pack. The same integer labels and record order as
 * `encodeSenmlCbor`, with one difference: the non-integer value of a record with a short name is a
 * 4-byte float32 (major 7, 0xfa) instead of an 8-byte float64. Such a value has at most 6 significant
 * digits (src/publish/compact.ts checks it), and a reader rounds short-named values to 6 significant
 * digits, so it gets back exactly the number the standard profile sends.
 */
const ORDER = ["bn", "bt", "n", "u", "v", "vs", "vb"] as const;

export function encodeCompactCbor(pack: readonly SenmlRecord[], float32: (r: SenmlRecord) => boolean): Buffer {
  const out: number[] = [];
  head(out, 4, pack.length);
  const scratch = Buffer.alloc(8);
  for (const r of pack) {
    const keys = ORDER.filter((k) => r[k] !== undefined);
    head(out, 5, keys.length);
    for (const k of keys) {
      const label = CBOR_LABELS[k];
      if (label < 0) head(out, 1, -1 - label);
      else head(out, 0, label);
      const v = r[k];
      if (typeof v === "string") {
        const b = Buffer.from(v, "utf8");
        head(out, 3, b.length);
        for (const x of b) out.push(x);
      } else if (typeof v === "boolean") out.push(v ? 0xf5 : 0xf4);
      else if (typeof v === "number") number(out, v, k === "v" && float32(r), scratch);
    }
  }
  return Buffer.from(out);
}

function number(out: number[], v: number, f32: boolean, scratch: Buffer): void {
  if (Number.isSafeInteger(v)) {
    if (v >= 0) head(out, 0, v);
    else head(out, 1, -1 - v);
  } else if (f32) {
    out.push(0xfa);
    scratch.writeFloatBE(v, 0);
    for (let i = 0; i < 4; i++) out.push(scratch[i]!);
  } else {
    out.push(0xfb);
    scratch.writeDoubleBE(v, 0);
    for (let i = 0; i < 8; i++) out.push(scratch[i]!);
  }
}

/** A CBOR initial byte and argument, in the shortest form (RFC 8949 §3, preferred serialization). */
function head(out: number[], major: number, n: number): void {
  const m = major << 5;
  if (n < 24) out.push(m | n);
  else if (n < 0x100) out.push(m | 24, n);
  else if (n < 0x10000) out.push(m | 25, n >> 8, n & 0xff);
  else if (n < 0x100000000) out.push(m | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  else {
    const hi = Math.floor(n / 0x100000000);
    const lo = n >>> 0;
    out.push(m | 27, (hi >>> 24) & 0xff, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff);
    out.push((lo >>> 24) & 0xff, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff);
  }
}
