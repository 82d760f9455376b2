import { describe, expect, it } from "vitest";
import { Rng } from "../sim/rng.js";
import { Disclosure, discloseRadio, discloseTags } from "./disclosure.js";

const none = { mechanism: "none" as const, epsilon: 1, sensitivity: 1 };
const byName = (ms: { n: string; v?: number; vb?: boolean }[]) => Object.fromEntries(ms.map((m) => [m.n, m.v ?? m.vb]));

describe("small-count suppression and noise", () => {
  const d = new Disclosure({ k: 5, noise: none });

  it("publishes a count ≥ k and suppresses 0…k−1 alike, never publishing the value", () => {
    expect(byName(discloseRadio("wifi", { random: 30, global: 10, sightings: 120 }, d))).toEqual({
      "wifi.devices": 40,
      "wifi.sightings": 120,
      "wifi.random": 0.75,
    });
    for (const n of [0, 1, 4]) {
      const ms = discloseRadio("ble", { random: n, global: 0, sightings: 3 * n }, d);
      expect(ms.every((m) => m.v === undefined && m.vb === true)).toBe(true);
      expect(ms.map((m) => m.n)).toEqual(["ble.devices.suppressed", "ble.sightings.suppressed", "ble.random.suppressed"]);
    }
    expect(byName(discloseRadio("ble", { random: 5, global: 0, sightings: 5 }, d))["ble.devices"]).toBe(5);
  });

  it("suppresses the randomised share when either address-type cell is below k", () => {
    expect(byName(discloseRadio("wifi", { random: 96, global: 4, sightings: 300 }, d))).toEqual({
      "wifi.devices": 100,
      "wifi.sightings": 300,
      "wifi.random.suppressed": true,
    });
    expect(byName(discloseRadio("wifi", { random: 3, global: 97, sightings: 300 }, d))["wifi.random.suppressed"]).toBe(true);
  });

  it("bins: deposits and users both suppressed when users < k", () => {
    expect(byName(discloseTags({ deposits: 9, users: 4 }, d))).toEqual({ "deposits.suppressed": true, "users.suppressed": true });
    expect(byName(discloseTags({ deposits: 9, users: 5 }, d))).toEqual({ deposits: 9, users: 5 });
  });

  it("rounds HyperLogLog estimates to whole counts", () => {
    expect(byName(discloseRadio("wifi", { random: 1234.4, global: 55.6, sightings: 4000 }, d))["wifi.devices"]).toBe(1290);
  });

  it("requires k ≥ 2", () => {
    expect(() => new Disclosure({ k: 1, noise: none })).toThrow(/k must/);
  });

  const SEED = 77;
  it(`with noise, suppression is decided on the noised value (seed ${SEED})`, () => {
    const r = new Rng(SEED);
    const dn = new Disclosure(
      { k: 5, noise: { mechanism: "geometric", epsilon: 1, sensitivity: 1 } },
      () => (r.next() * 4294967295 + 0.5) / 4294967296,
    );
    let published = 0;
    let suppressedCount = 0;
    for (let i = 0; i < 2000; i++) {
      const m = byName(discloseTags({ deposits: 5, users: 5 }, dn));
      if (m["users"] !== undefined) {
        published++;
        expect(m["users"]).toBeGreaterThanOrEqual(5);
        expect(m["deposits"]).toBeGreaterThanOrEqual(m["users"] as number);
      } else suppressedCount++;
    }
    // true count exactly k: P(noise < 0) = α/(1+α) ≈ 0.269 of windows suppressed
    expect(suppressedCount / 2000).toBeGreaterThan(0.22);
    expect(suppressedCount / 2000).toBeLessThan(0.32);
    expect(published + suppressedCount).toBe(2000);
  });
});
