import { describe, expect, it } from "vitest";
import { decodeNtcipOccupancy, encodeNtcipOccupancy, encodeNtcipVolume, NTCIP_FAULT, ntcipFaultName } from "./ntcip.js";

describe("NTCIP 1202 detector values", () => {
  it("ORACLE: raw occupancy 37 → 18.5 %", () => {
    expect(decodeNtcipOccupancy(37)).toEqual({ occupancy: 0.185 });
  });

  it("ORACLE: raw 212 → fault (open loop), not an occupancy", () => {
    expect(decodeNtcipOccupancy(212)).toEqual({ fault: 212, name: "open loop" });
  });

  it("decodes every fault code and rejects the rest without throwing", () => {
    for (const code of Object.values(NTCIP_FAULT)) expect(decodeNtcipOccupancy(code)).toHaveProperty("fault", code);
    expect(decodeNtcipOccupancy(205)).toEqual({ invalid: 205 });
    expect(decodeNtcipOccupancy(-1)).toEqual({ invalid: -1 });
    expect(decodeNtcipOccupancy(3.5)).toEqual({ invalid: 3.5 });
    expect(decodeNtcipOccupancy(200)).toEqual({ occupancy: 1 });
    expect(ntcipFaultName(217)).toBe("erratic output");
  });

  it("encodes occupancy in 0.5 % steps and volume with 255 as overflow", () => {
    expect(encodeNtcipOccupancy(0.185)).toBe(37);
    expect(encodeNtcipOccupancy(1.7)).toBe(200);
    expect(encodeNtcipOccupancy(Number.NaN)).toBe(0);
    expect(encodeNtcipVolume(254)).toBe(254);
    expect(encodeNtcipVolume(300)).toBe(255);
  });
});
