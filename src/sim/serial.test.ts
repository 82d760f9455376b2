import { describe, expect, it } from "vitest";
import { NS_PER_S } from "../clock/clock.js";
import { VirtualClock } from "../clock/virtual.js";
import type { SerialState } from "../io/contract.js";
import { SerialLink } from "../io/serial.js";
import { silentLogger } from "../log/logger.js";
import { SimSerialBus } from "./serial.js";

const spec = { name: "manhole1", path: "/dev/ttySIM0", baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1 } as const;

describe("simulated serial bus through the real serial link", () => {
  it("delivers bytes stamped at the virtual instant they were sent", async () => {
    const clock = new VirtualClock();
    const bus = new SimSerialBus(() => clock.yieldSoon());
    const dev = bus.createDevice("/dev/ttySIM0", 9600);
    const got: { text: string; tNs: number }[] = [];
    const link = new SerialLink({ binding: bus.binding, clock, logger: silentLogger });
    await link.open(spec, { data: (chunk, tNs) => got.push({ text: chunk.toString("latin1"), tNs }), state: () => {} });
    for (let i = 1; i <= 5; i++) clock.setTimer(i * NS_PER_S, () => dev.emit(`R${1000 + i}\r`));
    await clock.runUntil(10 * NS_PER_S, { yieldEvery: 1_000_000 });
    await link.close();
    expect(got.map((g) => g.text).join("")).toBe("R1001\rR1002\rR1003\rR1004\rR1005\r");
    expect(got.map((g) => g.tNs)).toEqual([1, 2, 3, 4, 5].map((s) => s * NS_PER_S));
  });

  it("garbles bytes read at the wrong baud rate", async () => {
    const clock = new VirtualClock();
    const bus = new SimSerialBus(() => clock.yieldSoon());
    const dev = bus.createDevice("/dev/ttySIM0", 9600);
    let text = "";
    const link = new SerialLink({ binding: bus.binding, clock, logger: silentLogger });
    await link.open({ ...spec, baudRate: 57600 }, { data: (c) => (text += c.toString("latin1")), state: () => {} });
    clock.setTimer(NS_PER_S, () => dev.emit("R0480\r"));
    await clock.runUntil(2 * NS_PER_S);
    await link.close();
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain("R0480");
  });

  it("reports an unplug and reopens with backoff in virtual time when the cable is back", async () => {
    const clock = new VirtualClock();
    const bus = new SimSerialBus(() => clock.yieldSoon());
    const dev = bus.createDevice("/dev/ttySIM0", 9600);
    const states: [SerialState, number][] = [];
    let text = "";
    const link = new SerialLink({
      binding: bus.binding,
      clock,
      logger: silentLogger,
      reopenMinMs: 500,
      reopenMaxMs: 4000,
      // the middle of each full-jitter step: waits 250, 500, 1000, 2000 ms
      random: () => 0.5,
      settle: () => clock.yieldSoon(),
    });
    await link.open(spec, { data: (c) => (text += c.toString("latin1")), state: (s) => states.push([s, clock.monoNs() / NS_PER_S]) });
    clock.setTimer(1 * NS_PER_S, () => dev.unplug());
    clock.setTimer(1.2 * NS_PER_S, () => dev.emit("lost\r"));
    clock.setTimer(3 * NS_PER_S, () => dev.plug());
    clock.setTimer(10 * NS_PER_S, () => dev.emit("back\r"));
    await clock.runUntil(20 * NS_PER_S);
    await link.close();
    // attempts at 1.25, 1.75 and 2.75 s fail; 4.75 finds the cable back
    expect(states).toEqual([
      ["reopening", 1],
      ["open", 4.75],
    ]);
    expect(dev.lostBytes).toBe(5);
    expect(text).toBe("back\r");
    expect(link.reopens).toBe(1);
  });

  it("with retry, a port missing at start is retried by the link itself until the device appears", async () => {
    const clock = new VirtualClock();
    const bus = new SimSerialBus(() => clock.yieldSoon());
    const states: [SerialState, number, string | undefined][] = [];
    let text = "";
    const link = new SerialLink({
      binding: bus.binding,
      clock,
      logger: silentLogger,
      reopenMinMs: 1000,
      reopenMaxMs: 8000,
      random: () => 0.5,
      settle: () => clock.yieldSoon(),
    });
    await link.open(
      spec,
      { data: (c) => (text += c.toString("latin1")), state: (s, err) => states.push([s, clock.monoNs() / NS_PER_S, err?.code]) },
      { retry: true },
    );
    clock.setTimer(2 * NS_PER_S, () => bus.createDevice(spec.path, 9600));
    clock.setTimer(10 * NS_PER_S, () => bus.device(spec.path)!.emit("R0480\r"));
    await clock.runUntil(20 * NS_PER_S);
    // waits of 0.5, 1, 2 s: 0.5 and 1.5 find nothing, 3.5 finds the sensor
    expect(states).toEqual([
      ["reopening", 0, "ENOENT"],
      ["open", 3.5, undefined],
    ]);
    expect(text).toBe("R0480\r");
    await link.close();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("with retry, close ends the retry, and a second open is refused", async () => {
    const clock = new VirtualClock();
    const bus = new SimSerialBus(() => clock.yieldSoon());
    const link = new SerialLink({ binding: bus.binding, clock, logger: silentLogger });
    await link.open(spec, { data: () => {}, state: () => {} }, { retry: true });
    await expect(link.open(spec, { data: () => {}, state: () => {} })).rejects.toMatchObject({ code: "EBUSY" });
    await link.close();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("stops reopening once closed", async () => {
    const clock = new VirtualClock();
    const bus = new SimSerialBus(() => clock.yieldSoon());
    const dev = bus.createDevice("/dev/ttySIM0", 9600);
    const states: SerialState[] = [];
    const link = new SerialLink({ binding: bus.binding, clock, logger: silentLogger, settle: () => clock.yieldSoon() });
    await link.open(spec, { data: () => {}, state: (s) => states.push(s) });
    clock.setTimer(NS_PER_S / 2, () => dev.unplug());
    await clock.runUntil(NS_PER_S);
    await link.close();
    dev.plug();
    await clock.runUntil(120 * NS_PER_S);
    expect(states).toEqual(["reopening"]);
    expect(dev.isOpen).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("writes to the device and hands over chunks that are never reused", async () => {
    const clock = new VirtualClock();
    const bus = new SimSerialBus(() => clock.yieldSoon());
    const dev = bus.createDevice("/dev/ttySIM0", 9600);
    const got: Buffer[] = [];
    const link = new SerialLink({ binding: bus.binding, clock, logger: silentLogger });
    await link.open(spec, { data: (c) => got.push(c), state: () => {} });
    await link.write(Buffer.from("T"));
    expect(Buffer.concat(dev.written).toString()).toBe("T");
    for (let i = 0; i < 50; i++) clock.setTimer(i * NS_PER_S, () => dev.emit(`R${String(i).padStart(4, "0")}\r`));
    await clock.runUntil(60 * NS_PER_S);
    await link.close();
    expect(Buffer.concat(got).toString()).toBe(Array.from({ length: 50 }, (_, i) => `R${String(i).padStart(4, "0")}\r`).join(""));
    await expect(link.write(Buffer.from("x"))).rejects.toMatchObject({ code: "ENOTOPEN" });
  });

  it("refuses to open a path with no device, naming the fix", async () => {
    const bus = new SimSerialBus();
    const link = new SerialLink({ binding: bus.binding, clock: new VirtualClock(), logger: silentLogger });
    await expect(link.open({ ...spec, path: "/dev/ttySIM9" }, { data: () => {}, state: () => {} })).rejects.toMatchObject({
      code: "ENOENT",
    });
  });
});
