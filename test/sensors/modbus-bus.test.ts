import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual.js";
import type { SerialSpec } from "../../src/io/contract.js";
import { SerialLink } from "../../src/io/serial.js";
import { silentLogger } from "../../src/log/logger.js";
import type { ModbusResult } from "../../src/sensors/modbus/bus.js";
import { ModbusBus } from "../../src/sensors/modbus/bus.js";
import type { ModbusModel } from "../../src/sensors/models/index.js";
import { modbusModel } from "../../src/sensors/models/index.js";
import { SimModbusLine, SimModbusSlave } from "../../src/sim/modbus-line.js";
import { Rng } from "../../src/sim/rng.js";
import { SimSerialBus } from "../../src/sim/serial.js";

const SEED = 4242;
const PATH = "/dev/ttySIM0";
const spec: SerialSpec = { name: PATH, path: PATH, baudRate: 9600, dataBits: 8, parity: "even", stopBits: 1 };

/**
 * modbus-serial's client on our serial link, over the simulator's serialport binding, against the
 * simulated RS-485 line: the same bytes a USB RS-485 adapter would carry, in virtual time.
 */
async function rig() {
  const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 0, 5) });
  const serial = new SimSerialBus(() => clock.yieldSoon());
  const line = new SimModbusLine(clock, serial.createDevice(PATH, 9600));
  const rng = new Rng(SEED);
  const slave = (unit: number, model: ModbusModel, mm: number, name: string) => {
    const s = new SimModbusSlave(
      unit,
      model,
      () => mm,
      rng.fork(name),
      0,
      () => {},
      name,
    );
    line.add(s);
    return s;
  };
  const radar = slave(246, modbusModel("vegapuls-c21"), 1500, "radar");
  const sonic = slave(1, modbusModel("toughsonic-14"), 800, "sonic");
  const bus = new ModbusBus({
    spec,
    clock,
    logger: silentLogger,
    openSerial: async (sp, h) => {
      const l = new SerialLink({ binding: serial.binding, clock, logger: silentLogger });
      await l.open(sp, h);
      return l;
    },
  });
  bus.retain(() => {});
  await bus.open();
  /** One read, with virtual time run on until it is answered or timed out. */
  const read = async (unit: number, m: ModbusModel): Promise<ModbusResult> => {
    let got: ModbusResult | undefined;
    const { fc, address, count } = m.modbus.poll;
    bus.read(unit, fc, address, count, 300, (r) => {
      got = r;
    });
    for (let i = 0; i < 100 && !got; i++) await clock.runUntil(clock.monoNs() + 10e6, { yieldEvery: 1 });
    if (!got) throw new Error("no result within 1 s of virtual time");
    return got;
  };
  return { clock, bus, radar, sonic, read, line };
}

describe(`Modbus RTU over a serial link, against the simulated line (seed ${SEED})`, () => {
  it("reads two slaves on one bus by unit id, and counts each outcome per unit", async () => {
    const { bus, radar, sonic, read } = await rig();
    const vega = modbusModel("vegapuls-c21");
    const ts = modbusModel("toughsonic-14");
    for (let i = 0; i < 5; i++) {
      const a = await read(246, vega);
      const b = await read(1, ts);
      if (!a.ok || !b.ok) throw new Error(`${JSON.stringify(a)} ${JSON.stringify(b)}`);
      expect(vega.modbus.decode(a.registers).mm).toBeCloseTo(1500, 1);
      expect(Math.abs(ts.modbus.decode(b.registers).mm - 800)).toBeLessThan(0.1);
    }
    expect(bus.countersOf(246)).toMatchObject({ requests: 5, responses: 5, timeouts: 0, crcErrors: 0, exceptions: 0 });
    expect(bus.countersOf(1)).toMatchObject({ requests: 5, responses: 5, timeouts: 0 });

    // faults, each counted where it happened
    radar.active.set("crc-errors", { kind: "crc-errors", params: {} });
    expect(await read(246, vega)).toMatchObject({ ok: false, failure: "crc" });
    radar.active.clear();
    sonic.active.set("exception", { kind: "exception", params: { code: 6 } });
    expect(await read(1, ts)).toMatchObject({ ok: false, failure: "exception", code: 6 });
    sonic.active.set("silent", { kind: "silent", params: {} });
    expect(await read(1, ts)).toMatchObject({ ok: false, failure: "timeout" });
    sonic.active.clear();
    // nobody at unit 7: a timeout, and the bus goes on
    expect(await read(7, ts)).toMatchObject({ ok: false, failure: "timeout" });
    expect((await read(1, ts)).ok).toBe(true);
    expect(bus.countersOf(246)).toMatchObject({ requests: 6, responses: 5, crcErrors: 1 });
    expect(bus.countersOf(1)).toMatchObject({ requests: 8, responses: 6, exceptions: 1, lastException: 6, timeouts: 1 });
    expect(bus.countersOf(7)).toMatchObject({ requests: 1, timeouts: 1 });
  });

  it("answers a register outside the map with exception 02, as the device would", async () => {
    const { bus, read } = await rig();
    const vega = modbusModel("vegapuls-c21");
    // a definition that asks for one register too many
    const wrong: ModbusModel = { ...vega, modbus: { ...vega.modbus, poll: { fc: 4, address: 100, count: 19 } } };
    expect(await read(246, wrong)).toMatchObject({ ok: false, failure: "exception", code: 2 });
    expect(bus.countersOf(246)).toMatchObject({ exceptions: 1, lastException: 2 });
  });

  it("queues requests: many at once are sent one at a time and each gets its own answer", async () => {
    const { bus, clock } = await rig();
    const results: string[] = [];
    const ts = modbusModel("toughsonic-14").modbus.poll;
    for (let i = 0; i < 10; i++) {
      bus.read(i % 2 ? 1 : 246, i % 2 ? ts.fc : 4, i % 2 ? ts.address : 100, i % 2 ? ts.count : 10, 300, (r) => {
        results.push(r.ok ? `ok${r.registers.length}` : r.failure);
      });
    }
    for (let i = 0; i < 200 && results.length < 10; i++) await clock.runUntil(clock.monoNs() + 10e6, { yieldEvery: 1 });
    expect(results).toEqual(["ok10", "ok1", "ok10", "ok1", "ok10", "ok1", "ok10", "ok1", "ok10", "ok1"]);
  });
});
