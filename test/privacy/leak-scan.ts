import { readFileSync } from "node:fs";

/**
 * Searching outputs for identifiers, in every encoding someone might have let slip: raw bytes, hex
 * (no separator, `:`, `-`, `.`; upper and lower case), base64 and base64url (of the bytes and of the
 * hex text), and decimal (the whole number; for RFID also the 32-bit card number as printed on
 * EM4100 cards, zero-padded to 10 digits).
 */
export interface Needle {
  /** Which identifier (index into the list given) and which encoding: for the failure message. */
  id: number;
  form: string;
  bytes: Buffer;
  /** Decimal forms must not be part of a longer number. */
  digits?: boolean;
}

export interface Hit {
  channel: string;
  id: number;
  form: string;
  offset: number;
}

function hexForms(b: Buffer): [string, string][] {
  const pairs = [...b].map((x) => x.toString(16).padStart(2, "0"));
  const out: [string, string][] = [];
  for (const [name, sep] of [
    ["hex", ""],
    ["colon", ":"],
    ["dash", "-"],
  ] as const) {
    const s = pairs.join(sep);
    out.push([`${name}-lower`, s], [`${name}-upper`, s.toUpperCase()]);
  }
  if (b.length === 6) {
    const dotted = `${pairs[0]}${pairs[1]}.${pairs[2]}${pairs[3]}.${pairs[4]}${pairs[5]}`;
    out.push(["dotted-lower", dotted], ["dotted-upper", dotted.toUpperCase()]);
  }
  return out;
}

/** Every encoding of each identifier. */
export function needles(ids: readonly Buffer[]): Needle[] {
  const out: Needle[] = [];
  ids.forEach((b, id) => {
    const add = (form: string, bytes: Buffer, digits = false) => {
      // a short number (a card number below 100000) would match unrelated counts and ids
      if (digits && bytes.length < 6) return;
      out.push({ id, form, bytes, ...(digits ? { digits } : {}) });
    };
    add("raw", Buffer.from(b));
    for (const [form, s] of hexForms(b)) add(form, Buffer.from(s, "latin1"));
    add("base64", Buffer.from(b.toString("base64"), "latin1"));
    add("base64url", Buffer.from(b.toString("base64url"), "latin1"));
    for (const [form, s] of hexForms(b).filter(([f]) => f === "hex-upper" || f === "colon-upper" || f === "hex-lower")) {
      add(`base64(${form})`, Buffer.from(Buffer.from(s, "latin1").toString("base64").replace(/=+$/, ""), "latin1"));
    }
    let n = 0;
    for (const x of b) n = n * 256 + x;
    add("decimal", Buffer.from(String(n), "latin1"), true);
    if (b.length === 5) {
      const card = b.readUInt32BE(1);
      add("card-decimal", Buffer.from(String(card).padStart(10, "0"), "latin1"), true);
      add("card-decimal-unpadded", Buffer.from(String(card), "latin1"), true);
    }
  });
  // a needle shorter than 6 bytes would hit random data; none is (checked so the audit stays meaningful)
  for (const n of out) if (n.bytes.length < 5) throw new Error(`needle ${n.form} of identifier ${n.id} is too short to search for`);
  return out;
}

const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;

/** Needles indexed by their first 4 bytes, so a haystack is walked once whatever their number. */
export class NeedleIndex {
  private readonly index = new Map<number, Needle[]>();

  constructor(readonly list: readonly Needle[]) {
    for (const n of list) {
      const key = n.bytes.readUInt32LE(0);
      const l = this.index.get(key);
      if (l) l.push(n);
      else this.index.set(key, [n]);
    }
  }

  /** Every occurrence of every needle in `hay`. */
  scan(channel: string, hay: Buffer): Hit[] {
    const hits: Hit[] = [];
    const end = hay.length - 4;
    for (let i = 0; i <= end; i++) {
      const cands = this.index.get(hay.readUInt32LE(i));
      if (!cands) continue;
      for (const n of cands) {
        const len = n.bytes.length;
        if (i + len > hay.length || hay.compare(n.bytes, 0, len, i, i + len) !== 0) continue;
        if (n.digits && (isDigit(hay[i - 1]) || isDigit(hay[i + len]))) continue;
        hits.push({ channel, id: n.id, form: n.form, offset: i });
      }
    }
    return hits;
  }
}

/**
 * A V8 heap snapshot's strings (every live string, and numbers when taken with
 * exposeNumericValues), as two haystacks: UTF-8 (text forms) and Latin-1 (a string made from raw
 * bytes with `toString("latin1")`). Array-buffer contents are not in snapshots; the raw buffers are
 * checked separately (serial read pools) and by the parsers' zeroing tests.
 */
export function snapshotStrings(path: string): { count: number; utf8: Buffer; latin1: Buffer } {
  const text = readFileSync(path);
  const at = text.lastIndexOf('"strings":[');
  if (at < 0) throw new Error(`${path} is not a V8 heap snapshot (no strings section)`);
  const tail = text.subarray(at + '"strings":'.length, text.lastIndexOf("]") + 1).toString("utf8");
  const strings = JSON.parse(tail) as string[];
  const joined = strings.join("\n");
  return { count: strings.length, utf8: Buffer.from(joined, "utf8"), latin1: Buffer.from(joined, "latin1") };
}
