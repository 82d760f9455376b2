import { describe, expect, it } from "vitest";
import type { RawIdentifier, TagSink } from "../privacy/raw.js";
import { GATE } from "../privacy/raw.js";
import { Rng } from "../sim/rng.js";
import { Rdm6300Parser } from "./rdm6300.js";

/** A test double of the gate that copies what it gets (tests only). */
class RecordingSink implements TagSink {
  readonly [GATE] = true as const;
  readonly got: { hex: string; tNs: number }[] = [];
  readonly buffers: Buffer[] = [];
  read(tag: RawIdentifier, tNs: number): void {
    this.buffers.push(tag);
    this.got.push({ hex: tag.toString("hex"), tNs });
  }
}

const STX = "\x02";
const ETX = "\x03";
/** Seeed's RDM6300 example: tag 62E3086CED, checksum 62^E3^08^6C^ED = 08. */
const EXAMPLE = `${STX}62E3086CED08${ETX}`;

function frame(hex10: string, corrupt = false): string {
  let x = 0;
  for (let i = 0; i < 10; i += 2) x ^= parseInt(hex10.slice(i, i + 2), 16);
  if (corrupt) x ^= 1;
  return `${STX}${hex10}${x.toString(16).padStart(2, "0").toUpperCase()}${ETX}`;
}

function parse(text: string) {
  const sink = new RecordingSink();
  const p = new Rdm6300Parser({ sink });
  p.feed(Buffer.from(text, "latin1"), 5);
  return { sink, p };
}

describe("RDM6300 frames", () => {
  it("reads the datasheet example 62E3086CED (checksum 08)", () => {
    const { sink, p } = parse(EXAMPLE);
    expect(sink.got).toEqual([{ hex: "62e3086ced", tNs: 5 }]);
    expect(p.accepted).toBe(1);
    expect(frame("62E3086CED")).toBe(EXAMPLE);
  });

  it("a wrong checksum is an error, counted, never a read", () => {
    const { sink, p } = parse(`${STX}62E3086CED09${ETX}`);
    expect(sink.got).toEqual([]);
    expect(p.errors.checksum).toBe(1);
    expect(p.takeErrors()).toBe(1);
    expect(p.takeErrors()).toBe(0);
  });

  it("accepts lower-case hex and the CR LF of ID-12-style readers", () => {
    const { sink } = parse(`${STX}62e3086ced08${ETX}${STX}62E3086CED08\r\n${ETX}`);
    expect(sink.got.map((g) => g.hex)).toEqual(["62e3086ced", "62e3086ced"]);
  });

  it.each([
    [`${STX}62E3086CED0${ETX}`, "frame"],
    [`${STX}62E3086CED08${STX}`, "frame"],
    [`${STX}62E3086CXD08${ETX}`, "frame"],
    [`${STX}62E3086CED08\n\r${ETX}`, "frame"],
    [`${STX}62E3086CED08 ${ETX}`, "frame"],
    [`${STX}62E3086CED08\r\r${ETX}`, "frame"],
  ])("rejects %j (%s)", (text, reason) => {
    const { sink, p } = parse(text);
    expect(sink.got).toEqual([]);
    expect(p.errors[reason as "frame"]).toBeGreaterThanOrEqual(1);
  });

  it("resynchronises on STX: a frame broken by a new STX, then a good one", () => {
    const { sink, p } = parse(`noise${STX}62E3${EXAMPLE}${ETX}${ETX}`);
    expect(sink.got.map((g) => g.hex)).toEqual(["62e3086ced"]);
    expect(p.errors.frame).toBe(1);
    expect(p.stray).toBe(7);
  });

  it("parses a frame split at every byte boundary identically", () => {
    const bytes = Buffer.from(EXAMPLE, "latin1");
    for (let cut = 1; cut < bytes.length; cut++) {
      const sink = new RecordingSink();
      const p = new Rdm6300Parser({ sink });
      p.feed(Buffer.from(bytes.subarray(0, cut)), 1);
      p.feed(Buffer.from(bytes.subarray(cut)), 2);
      expect(sink.got, `cut at ${cut}`).toEqual([{ hex: "62e3086ced", tNs: 2 }]);
    }
  });

  it("zeroes the tag after the gate returns, a partial frame on reset, and every chunk", () => {
    const sink = new RecordingSink();
    const p = new Rdm6300Parser({ sink });
    const chunk = Buffer.from(EXAMPLE, "latin1");
    p.feed(chunk, 1);
    const scratch = sink.buffers[0]!;
    expect(scratch.every((b) => b === 0)).toBe(true);
    expect(chunk.every((b) => b === 0)).toBe(true);
    p.feed(Buffer.from(`${STX}62E3086C`, "latin1"), 2);
    expect(scratch.some((b) => b !== 0)).toBe(true);
    p.reset();
    expect(scratch.every((b) => b === 0)).toBe(true);
    expect(p.errors.frame).toBe(1);
    p.feed(Buffer.from(`${STX}62E3086CED09${ETX}`, "latin1"), 3);
    expect(scratch.every((b) => b === 0)).toBe(true);
  });

  const FUZZ_SEED = 8_402_771;
  it(`survives 10 MB of random bytes and corrupted frames with bounded state (seed ${FUZZ_SEED})`, () => {
    const rng = new Rng(FUZZ_SEED);
    const sink = new RecordingSink();
    const p = new Rdm6300Parser({ sink });
    const TOTAL = 10 * 1024 * 1024;
    const expected: string[] = [];
    let fed = 0;
    let maxPending = 0;
    let badChecksums = 0;
    while (fed < TOTAL) {
      const noise = Buffer.alloc(rng.int(0, 400));
      // noise without STX, so the frames that follow it are intact
      for (let i = 0; i < noise.length; i++) {
        const v = rng.int(0, 255);
        noise[i] = v === 0x02 ? 0x20 : v;
      }
      const tag = Array.from({ length: 5 }, () => rng.int(0, 255).toString(16).padStart(2, "0").toUpperCase()).join("");
      const corrupt = rng.chance(0.1);
      if (corrupt) badChecksums++;
      else expected.push(tag.toLowerCase());
      // a truncated frame, then the real one
      const broken = frame(tag).slice(0, rng.int(1, 13));
      const data = Buffer.concat([noise, Buffer.from(broken + frame(tag, corrupt), "latin1")]);
      // and sometimes pure random bytes (with STX/ETX in them)
      const chaos = Buffer.alloc(rng.int(0, 200));
      for (let i = 0; i < chaos.length; i++) chaos[i] = rng.int(0, 255);
      const all = Buffer.concat([data, chaos, Buffer.from([0x03])]);
      for (let o = 0; o < all.length; ) {
        const n = rng.int(1, 64);
        p.feed(Buffer.from(all.subarray(o, o + n)), fed + o);
        maxPending = Math.max(maxPending, p.pendingBytes);
        o += n;
      }
      fed += all.length;
    }
    const got = new Set(sink.got.map((g) => g.hex));
    expect(expected.every((h) => got.has(h))).toBe(true);
    // random bytes can in principle form a valid frame (1 in ~2^56 per STX); none did
    expect(sink.got.length).toBe(expected.length);
    expect(p.errors.checksum).toBeGreaterThanOrEqual(badChecksums);
    expect(maxPending).toBeLessThanOrEqual(15);
    expect(fed).toBeGreaterThanOrEqual(TOTAL);
  });
});
