import { describe, expect, it } from "vitest";
import { NS_PER_MS } from "../clock/clock.js";
import { VirtualClock } from "../clock/virtual.js";
import { SimAds1115 } from "../sim/ads1115.js";
import { SimBoard } from "../sim/io-plugin.js";
import type { I2cPort } from "../io/linux-i2c.js";
import { deviceTransfer, LinuxI2cIo } from "../io/linux-i2c.js";
import { Ads1115, conversionVolts, currentLoopMm, singleShotConfig, tmp36Celsius } from "./ads1115.js";

async function settle(clock: VirtualClock, ms: number): Promise<void> {
  await clock.runUntil(clock.monoNs() + ms * NS_PER_MS, { yieldEvery: 1 });
  await new Promise((r) => setImmediate(r));
}

/**
 * One contract suite, two ports (issue 14): the board's johnny-five IO plugin (Firmata, the
 * simulator) and the kernel's /dev/i2c-N (LinuxI2cIo, with the i2ctransfer transport replaced by
 * the simulator's register-level ADS1115, the same double).
 */
const PORTS: { name: string; make: (devices: Map<number, SimAds1115>) => I2cPort }[] = [
  {
    name: "johnny-five IO plugin",
    make: (devices) => {
      const board = new SimBoard();
      for (const [a, d] of devices) board.attachI2c(a, d);
      return board;
    },
  },
  { name: "Linux /dev/i2c-N (LinuxI2cIo)", make: (devices) => new LinuxI2cIo(deviceTransfer(devices)) },
];

describe("ADS1115 register helpers", () => {
  it("builds the config word of SBAS444 Table 8 and decodes two's complement", () => {
    // OS=1, MUX=101 (AIN1/GND), PGA=001 (±4.096), MODE=1, DR=100 (128 SPS), COMP_QUE=11
    expect(singleShotConfig(1, 1).toString(2).padStart(16, "0")).toBe("1101001110000011");
    expect(conversionVolts(0x40, 0x00, 1)).toBeCloseTo(2.048, 9);
    expect(conversionVolts(0xc0, 0x00, 1)).toBeCloseTo(-2.048, 9);
  });
});

describe.each(PORTS)("ADS1115 over the $name (the simulator answering the registers)", ({ make }) => {
  it("reads a 4–20 mA transducer through a 150 Ω shunt to the mm", async () => {
    const clock = new VirtualClock();
    const chip = new SimAds1115(clock, () => clock.yieldSoon());
    const port = make(new Map([[0x49, chip]]));
    // 12 mA → 1.8 V: half of a 3000 mm span
    chip.setInput(2, () => 0.012 * 150);
    const adc = new Ads1115(port, clock, 0x49);
    const got: number[] = [];
    expect(adc.read(2, 4.096, (v, ok) => ok && got.push(v))).toBe(true);
    expect(adc.read(2, 4.096, () => {})).toBe(false); // one conversion at a time
    await settle(clock, 20);
    await settle(clock, 5);
    expect(got.length).toBe(1);
    expect(got[0]).toBeCloseTo(1.8, 3);
    expect(currentLoopMm(got[0]!, 150, 3000, 200)).toBeCloseTo(1700, 0);
    expect(chip.conversions).toBe(1);
  });

  it("reads every channel at its gain, one conversion after another", async () => {
    const clock = new VirtualClock();
    const chip = new SimAds1115(clock, () => clock.yieldSoon());
    const port = make(new Map([[0x48, chip]]));
    const volts = [0.734, 1.25, 0.2, 3.1];
    for (const [ch, v] of volts.entries()) chip.setInput(ch, () => v);
    const adc = new Ads1115(port, clock, 0x48);
    const got: number[] = [];
    for (let ch = 0; ch < 4; ch++) {
      adc.read(ch, ch === 2 ? 0.256 : 4.096, (v, ok) => ok && got.push(v));
      await settle(clock, 20);
      await settle(clock, 5);
    }
    expect(got.length).toBe(4);
    for (const [ch, v] of got.entries()) expect(Math.abs(v - volts[ch]!)).toBeLessThan(ch === 2 ? 1e-5 : 2e-4);
  });

  it("fails cleanly when no chip answers at the address", async () => {
    const clock = new VirtualClock();
    const port = make(new Map());
    const adc = new Ads1115(port, clock, 0x48);
    const res: boolean[] = [];
    adc.read(0, 4.096, (_v, ok) => res.push(ok));
    await settle(clock, 20);
    await settle(clock, 5);
    expect(res).toEqual([false]);
    expect(adc.errors).toBe(1);
  });
});

describe("ADS1115 conversions", () => {
  it("rejects loop currents outside NAMUR NE 43 and converts a TMP36", () => {
    expect(Number.isNaN(currentLoopMm(0.003 * 150, 150, 1000, 0))).toBe(true); // 3 mA: wire break
    expect(Number.isNaN(currentLoopMm(0.022 * 150, 150, 1000, 0))).toBe(true); // 22 mA: short
    expect(currentLoopMm(0.004 * 150, 150, 1000, 0)).toBeCloseTo(0, 6);
    expect(tmp36Celsius(0.75)).toBeCloseTo(25, 9); // datasheet: 750 mV at 25 °C
    expect(Number.isNaN(tmp36Celsius(0))).toBe(true);
  });
});
