import { describe, expect, it } from "vitest";
import { SimBoard } from "./io-plugin.js";

const tick = () => new Promise<void>((r) => setImmediate(r));

describe("simulated board (johnny-five IO plugin)", () => {
  it("announces connect then ready, like a board after its handshake", async () => {
    const b = new SimBoard();
    const events: string[] = [];
    b.on("connect", () => events.push("connect"));
    b.on("ready", () => events.push("ready"));
    expect(b.isReady).toBe(false);
    await tick();
    expect(events).toEqual(["connect", "ready"]);
    expect(b.isReady).toBe(true);
  });

  it("reports a pin at once when reading starts, then every change, to every reader", async () => {
    const b = new SimBoard();
    b.setPin(4, 1);
    const r1: number[] = [];
    const r2: number[] = [];
    b.digitalRead(4, (v) => r1.push(v));
    b.digitalRead(4, (v) => r2.push(v));
    expect(r1).toEqual([]);
    await tick();
    b.setPin(4, 0);
    b.setPin(4, 0); // no change, no report
    b.setPin(4, 1);
    expect(r1).toEqual([1, 0, 1]);
    expect(r2).toEqual([1, 0, 1]);
  });

  it("reads an undriven pull-up input high, and rejects pins it does not have", () => {
    const b = new SimBoard(10);
    b.pinMode(3, b.MODES.PULLUP);
    expect(b.pins[3]!.value).toBe(1);
    b.setPin(5, 0);
    b.pinMode(5, b.MODES.PULLUP);
    expect(b.pins[5]!.value).toBe(0); // driven low by the card
    expect(() => b.digitalRead(12, () => {})).toThrow("pin 12 does not exist on RoadsideSim (0–9)");
  });

  it("reports a disconnect like an unplugged board", () => {
    const b = new SimBoard();
    const events: string[] = [];
    b.on("disconnect", () => events.push("disconnect"));
    b.on("close", () => events.push("close"));
    b.disconnect();
    expect(events).toEqual(["disconnect", "close"]);
    expect(b.isReady).toBe(false);
  });
});
