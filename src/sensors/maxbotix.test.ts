import { describe, expect, it } from "vitest";
import { Rng } from "../sim/rng.js";
import type { MaxbotixModelId } from "./maxbotix.js";
import { MAXBOTIX_MODELS, MaxbotixParser, maxbotixFrame, Reading } from "./maxbotix.js";

function collect(model: MaxbotixModelId) {
  const got: { kind: number; mm: number; t: number }[] = [];
  const p = new MaxbotixParser(MAXBOTIX_MODELS[model]!, (kind, mm, t) => got.push({ kind, mm, t }));
  return { p, got };
}

describe("MaxBotix serial parsers", () => {
  it("ORACLE (DOMAIN.md §2): bytes 52 30 34 38 30 0D → 480 mm (HRXL)", () => {
    const { p, got } = collect("hrxl");
    p.push(Buffer.from([0x52, 0x30, 0x34, 0x38, 0x30, 0x0d]), 7);
    expect(got).toEqual([{ kind: Reading.Range, mm: 480, t: 7 }]);
    expect(p.garbageBytes).toBe(0);
  });

  it("converts each model's units: XL cm, LV inches", () => {
    const xl = collect("xl");
    xl.p.push(Buffer.from("R123\r"), 1);
    expect(xl.got[0]?.mm).toBe(1230);
    const lv = collect("lv");
    lv.p.push(Buffer.from("R100\r"), 1);
    expect(lv.got[0]?.mm).toBeCloseTo(2540, 6);
  });

  it("reports no-target and minimum-range values as such, never as levels", () => {
    const cases: [MaxbotixModelId, string, number][] = [
      ["hrxl", "R5000\r", Reading.NoTarget],
      ["hrxl", "R0300\r", Reading.MinRange],
      ["hrxl-10m", "R9999\r", Reading.NoTarget],
      ["hrxl-10m", "R5000\r", Reading.Range], // a valid 5 m reading on a 10 m model
      ["xl", "R765\r", Reading.NoTarget],
      ["xl", "R020\r", Reading.MinRange],
      ["lv", "R255\r", Reading.NoTarget],
      ["lv", "R006\r", Reading.MinRange],
    ];
    for (const [model, frame, kind] of cases) {
      const { p, got } = collect(model);
      p.push(Buffer.from(frame), 0);
      expect(
        got.map((g) => g.kind),
        `${model} ${JSON.stringify(frame)}`,
      ).toEqual([kind]);
      if (kind !== Reading.Range) expect(Number.isNaN(got[0]!.mm)).toBe(true);
    }
  });

  it("parses frames split across chunks at every position, stamped with the chunk that completes them", () => {
    const stream = Buffer.from("R0480\rR1234\rR0999\r");
    for (let cut = 1; cut < stream.length; cut++) {
      const { p, got } = collect("hrxl");
      p.push(stream.subarray(0, cut), 1);
      p.push(stream.subarray(cut), 2);
      expect(
        got.map((g) => g.mm),
        `cut at ${cut}`,
      ).toEqual([480, 1234, 999]);
      expect(p.partialFrames + p.garbageBytes).toBe(0);
    }
  });

  it("counts garbage and partial frames and resynchronises on the next R", () => {
    const { p, got } = collect("hrxl");
    p.push(Buffer.from("xx\x00R04R0480\rR12\rR12345\rZR0500\r"), 1);
    expect(got.map((g) => g.mm)).toEqual([480, 500]);
    expect(p.partialFrames).toBe(3); // "R04" cut by R, "R12" short, "R12345" too long
    expect(p.garbageBytes).toBeGreaterThanOrEqual(4);
  });

  it("round-trips the simulator's frames for every model", () => {
    for (const id of Object.keys(MAXBOTIX_MODELS) as MaxbotixModelId[]) {
      const m = MAXBOTIX_MODELS[id]!;
      const { p, got } = collect(id);
      const mm = (m.minReport + 10) * m.mmPerUnit;
      p.push(Buffer.from(maxbotixFrame(m, mm)), 0);
      expect(got[0]?.mm, id).toBeCloseTo(mm, 6);
    }
  });

  const SEED = 20260105;
  const MB = 10;
  for (const id of Object.keys(MAXBOTIX_MODELS) as MaxbotixModelId[]) {
    it(`fuzz ${id}: ${MB} MB of seeded random bytes with frames mixed in, never throws, memory flat (seed ${SEED})`, () => {
      const rng = new Rng(SEED);
      let ranges = 0;
      const p = new MaxbotixParser(MAXBOTIX_MODELS[id]!, (kind) => {
        if (kind === Reading.Range) ranges++;
      });
      const chunk = Buffer.alloc(4096);
      const frame = Buffer.from(
        maxbotixFrame(MAXBOTIX_MODELS[id]!, MAXBOTIX_MODELS[id]!.mmPerUnit * (MAXBOTIX_MODELS[id]!.minReport + 50)),
      );
      let planted = 0;
      const heapBefore = process.memoryUsage().heapUsed;
      for (let sent = 0; sent < MB * 1024 * 1024; ) {
        const n = rng.int(1, chunk.length);
        for (let i = 0; i < n; i++) {
          // mostly noise, biased towards the frame alphabet so the parser's states all get exercised
          const r = rng.next();
          chunk[i] = r < 0.6 ? rng.int(0, 255) : r < 0.7 ? 0x52 : r < 0.75 ? 0x0d : rng.int(0x30, 0x39);
        }
        // a good frame, whole, at the end of some chunks: it must survive the garbage before it
        if (n > frame.length && rng.chance(0.1)) {
          frame.copy(chunk, n - frame.length);
          planted++;
        }
        p.push(chunk.subarray(0, n), sent);
        sent += n;
      }
      const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
      expect(p.bytes).toBeGreaterThanOrEqual(MB * 1024 * 1024);
      expect(ranges).toBeGreaterThanOrEqual(planted);
      expect(p.garbageBytes).toBeGreaterThan(0);
      expect(p.partialFrames).toBeGreaterThan(0);
      expect(p.frames).toBe(p.ranges + p.noTarget + p.minRange);
      // nothing retained per byte or per frame (generous bound: other test code allocates too)
      expect(heapGrowth, `heap grew ${heapGrowth} bytes`).toBeLessThan(8 * 1024 * 1024);
    });
  }
});
