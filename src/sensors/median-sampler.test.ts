import { describe, expect, it } from "vitest";
import { MedianSampler } from "./median-sampler.js";

describe("median sampler cut at a window boundary", () => {
  it("samples only readings before the cut and keeps the rest, so no sample straddles a boundary", () => {
    const m = new MedianSampler(8);
    for (const [v, t] of [
      [1, 10],
      [2, 20],
      [9, 30],
      [4, 40],
      [5, 50],
    ] as const)
      m.add(v, t);
    expect(m.pendingBefore(35)).toBe(3);
    expect(m.take(35)).toBe(2);
    expect(m.sampleNs).toBe(20);
    expect(m.pending).toBe(2);
    expect(m.take()).toBe(4.5);
    expect(m.sampleNs).toBe(45);
    expect(Number.isNaN(m.take(100))).toBe(true);
  });

  it("keeps working across the ring's wrap", () => {
    const m = new MedianSampler(4);
    for (let i = 0; i < 6; i++) m.add(i, i * 10);
    // the ring holds the newest four: 2, 3, 4, 5
    expect(m.take(35)).toBe(2.5);
    expect(m.sampleNs).toBe(25);
    m.add(6, 60);
    expect(m.take()).toBe(5);
  });
});
