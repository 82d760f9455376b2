import { describe, expect, it } from "vitest";
import type { ProbeSink, Radio, RawIdentifier } from "../privacy/raw.js";
import { GATE } from "../privacy/raw.js";
import { Rng } from "../sim/rng.js";
import { MAX_LINE_BYTES, ProbeScannerParser } from "./probe-scanner.js";

/** A test double of the gate that copies what it gets (tests only: the real gate never does). */
class RecordingSink implements ProbeSink {
  readonly [GATE] = true as const;
  readonly got: { radio: Radio; hex: string; rssi: number; tNs: number }[] = [];
  readonly buffers: Buffer[] = [];
  sighting(radio: Radio, address: RawIdentifier, rssiDbm: number, tNs: number): void {
    this.buffers.push(address);
    this.got.push({ radio, hex: address.toString("hex"), rssi: rssiDbm, tNs });
  }
}

function parse(text: string | Buffer, opts: { minRssiDbm?: number } = {}) {
  const sink = new RecordingSink();
  const p = new ProbeScannerParser({ sink, ...opts });
  p.feed(Buffer.isBuffer(text) ? Buffer.from(text) : Buffer.from(text, "latin1"), 7);
  return { sink, p };
}

describe("probe scanner lines", () => {
  it("parses the documented example: ble,DA:A1:19:0B:37:5C,-67", () => {
    const { sink, p } = parse("ble,DA:A1:19:0B:37:5C,-67\n");
    expect(sink.got).toEqual([{ radio: "ble", hex: "daa1190b375c", rssi: -67, tNs: 7 }]);
    expect(p.accepted).toBe(1);
    expect(p.errorCount).toBe(0);
  });

  it("accepts wifi, CRLF, dashes, no separators, lower case, + and unsigned RSSI", () => {
    const { sink, p } = parse("wifi,70:4d:7b:11:22:33,-40\r\nWIFI,70-4D-7B-11-22-33,-1\nble,704d7b112233,+3\r\nble,704D7B112233,0\n");
    expect(sink.got.map((g) => [g.radio, g.hex, g.rssi])).toEqual([
      ["wifi", "704d7b112233", -40],
      ["wifi", "704d7b112233", -1],
      ["ble", "704d7b112233", 3],
      ["ble", "704d7b112233", 0],
    ]);
    expect(p.errorCount).toBe(0);
  });

  it.each([
    ["bt,DA:A1:19:0B:37:5C,-67\n", "kind"],
    ["wifix,DA:A1:19:0B:37:5C,-67\n", "kind"],
    [",DA:A1:19:0B:37:5C,-67\n", "kind"],
    ["ets Jun  8 2016 00:22:57\n", "kind"],
    ["ble,DA:A1:19:0B:37,-67\n", "address"],
    ["ble,DA:A1:19:0B:37:5C:00,-67\n", "address"],
    ["ble,DA:A1:19:0B:37:5G,-67\n", "address"],
    ["ble,DAA1:19:0B:37:5C,-67\n", "address"],
    ["ble,DA:A1-19:0B:37:5C,-67\n", "address"],
    ["ble,DA:A1:19:0B:37:5,C-67\n", "address"],
    ["ble,DA::A1:19:0B:37:5C,-67\n", "address"],
    ["ble,DA:A1:19:0B:37:5C,\n", "rssi"],
    ["ble,DA:A1:19:0B:37:5C,-\n", "rssi"],
    ["ble,DA:A1:19:0B:37:5C,-1000\n", "rssi"],
    ["ble,DA:A1:19:0B:37:5C,-128\n", "rssi"],
    ["ble,DA:A1:19:0B:37:5C,21\n", "rssi"],
    ["ble,DA:A1:19:0B:37:5C,-6 7\n", "rssi"],
    ["ble,DA:A1:19:0B:37:5C,-67,extra\n", "rssi"],
    ["ble,DA:A1:19:0B:37:5C,-67\r\r\n", "rssi"],
    ["ble,DA:A1:19:0B:37:5C\n", "address"],
    [`ble,${"A".repeat(200)}\n`, "address"],
    [`${"w".repeat(200)}\n`, "kind"],
  ])("rejects %j as a %s error, never a sighting", (line, reason) => {
    const { sink, p } = parse(line);
    expect(sink.got).toEqual([]);
    expect(p.errors[reason as keyof typeof p.errors]).toBe(1);
    expect(p.errorCount).toBe(1);
  });

  it("ignores empty lines and recovers on the line after an error", () => {
    const { sink, p } = parse("\n\r\n\x00\x7f\xffgarbage\nwifi,02:00:00:00:00:01,-50\n");
    expect(sink.got.map((g) => g.hex)).toEqual(["020000000001"]);
    expect(p.errorCount).toBe(1);
  });

  it("parses a line split at every byte boundary identically", () => {
    const line = Buffer.from("ble,DA:A1:19:0B:37:5C,-67\r\n", "latin1");
    for (let cut = 1; cut < line.length; cut++) {
      const sink = new RecordingSink();
      const p = new ProbeScannerParser({ sink });
      p.feed(Buffer.from(line.subarray(0, cut)), 1);
      p.feed(Buffer.from(line.subarray(cut)), 2);
      expect(sink.got, `cut at ${cut}`).toEqual([{ radio: "ble", hex: "daa1190b375c", rssi: -67, tNs: 2 }]);
    }
  });

  it("drops sightings below minRssi before the gate sees them", () => {
    const { sink, p } = parse("ble,DA:A1:19:0B:37:5C,-91\nble,DA:A1:19:0B:37:5C,-90\n", { minRssiDbm: -90 });
    expect(sink.got.map((g) => g.rssi)).toEqual([-90]);
    expect(p.weak).toBe(1);
  });

  it("zeroes the address after the gate returns, a failed line's digits, and every chunk once parsed", () => {
    const sink = new RecordingSink();
    const p = new ProbeScannerParser({ sink });
    const chunk = Buffer.from("wifi,DA:A1:19:0B:37:5C,-67\n", "latin1");
    p.feed(chunk, 1);
    expect(sink.got).toHaveLength(1);
    const scratch = sink.buffers[0]!;
    expect(scratch.every((b) => b === 0)).toBe(true);
    expect(chunk.every((b) => b === 0)).toBe(true);
    // a partial line's digits live in the scratch until the line ends or breaks
    const partial = Buffer.from("ble,70:A1:19:0B:37:5C,-6", "latin1");
    p.feed(partial, 2);
    expect(partial.every((b) => b === 0)).toBe(true);
    expect(scratch.some((b) => b !== 0)).toBe(true);
    p.reset();
    expect(p.errors.truncated).toBe(1);
    expect(scratch.every((b) => b === 0)).toBe(true);
    p.feed(Buffer.from("ble,70:A1:19:0B:37:5C,x\n", "latin1"), 3);
    expect(scratch.every((b) => b === 0)).toBe(true);
  });

  it("a reset (port reopened) drops a partial line instead of joining it to the next", () => {
    const sink = new RecordingSink();
    const p = new ProbeScannerParser({ sink });
    p.feed(Buffer.from("ble,DA:A1:19", "latin1"), 1);
    p.reset();
    p.feed(Buffer.from(":0B:37:5C,-67\nble,DA:A1:19:0B:37:5C,-67\n", "latin1"), 2);
    expect(sink.got).toHaveLength(1);
    expect(p.errors.truncated).toBe(1);
    expect(p.errors.kind).toBe(1);
  });

  const FUZZ_SEED = 20260105;
  it(`survives 10 MB of random and mutated input with bounded state (seed ${FUZZ_SEED})`, () => {
    const rng = new Rng(FUZZ_SEED);
    const sink = new RecordingSink();
    const p = new ProbeScannerParser({ sink });
    const TOTAL = 10 * 1024 * 1024;
    const expected: string[] = [];
    let fed = 0;
    let maxPending = 0;
    const hex = (n: number) => n.toString(16).padStart(2, "0").toUpperCase();
    while (fed < TOTAL) {
      const parts: Buffer[] = [];
      // a burst of noise, then a newline so the next valid line starts clean
      const noise = Buffer.alloc(rng.int(0, 300));
      for (let i = 0; i < noise.length; i++) noise[i] = rng.int(0, 255);
      parts.push(noise, Buffer.from("\n"));
      // a mutated line (one byte changed, dropped or doubled), then a valid one
      const addr = Array.from({ length: 6 }, () => rng.int(0, 255));
      const valid = `${rng.chance(0.5) ? "wifi" : "ble"},${addr.map(hex).join(":")},-${rng.int(30, 99)}${rng.chance(0.5) ? "\r" : ""}\n`;
      const m = Buffer.from(valid, "latin1");
      const at = rng.int(0, m.length - 2);
      const op = rng.int(0, 2);
      const mutated =
        op === 0
          ? Buffer.concat([m.subarray(0, at), Buffer.from([rng.int(0, 255)]), m.subarray(at + 1)])
          : op === 1
            ? Buffer.concat([m.subarray(0, at), m.subarray(at + 1)])
            : Buffer.concat([m.subarray(0, at + 1), m.subarray(at)]);
      parts.push(mutated.includes(0x0a) ? mutated : Buffer.concat([mutated, Buffer.from("\n")]));
      parts.push(Buffer.from(valid, "latin1"));
      expected.push(addr.map((b) => b.toString(16).padStart(2, "0")).join(""));
      const data = Buffer.concat(parts);
      // random chunking, as a UART driver delivers
      for (let o = 0; o < data.length; ) {
        const n = rng.int(1, 64);
        p.feed(Buffer.from(data.subarray(o, o + n)), fed + o);
        maxPending = Math.max(maxPending, p.pendingBytes);
        o += n;
      }
      fed += data.length;
    }
    // every valid line is recovered (mutated ones may or may not parse, and are counted either way)
    const got = new Set(sink.got.map((g) => g.hex));
    expect(expected.every((h) => got.has(h))).toBe(true);
    expect(maxPending).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(p.accepted + p.errorCount).toBeGreaterThanOrEqual(expected.length);
    expect(fed).toBeGreaterThanOrEqual(TOTAL);
  });
});
