import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RealClock } from "../../src/clock/real.js";
import { JohnnyFiveInputs } from "../../src/io/johnny-five.js";
import { hardwareSerialBinding, SerialLink } from "../../src/io/serial.js";
import { silentLogger } from "../../src/log/logger.js";
import { SqliteOutbox } from "../../src/outbox/sqlite.js";
import { Device } from "../../src/runtime.js";
import { crcOk } from "../../src/sensors/modbus/crc.js";
import { modbusModel } from "../../src/sensors/models/index.js";
import { SimModbusSlave } from "../../src/sim/modbus-line.js";
import { Rng } from "../../src/sim/rng.js";
import { SimSite } from "../../src/sim/site.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { hasMosquitto, MOSQUITTO_MISSING, startMosquitto, subscribe } from "../helpers/brokers.js";
import { decodeAll } from "../helpers/decode.js";
import type { PtyPeer } from "../helpers/pty-peer.js";
import { hasPython, startPtyPeer } from "../helpers/pty-peer.js";
import { mustLoad } from "../helpers/sim-device.js";

const SEED = 99;
const ready = hasMosquitto() && hasPython();

/**
 * The far end of the pseudo-terminal acts as the RS-485 line: every request the device writes is
 * answered by the addressed slave from its model's register map (the simulator's slave code, here
 * over a real tty), so the device reads through the kernel and serialport's native binding.
 */
function answerRequests(peer: PtyPeer, slaves: SimModbusSlave[]): { stop(): void; requests: number } {
  let seen = 0;
  const state = { requests: 0, stop: () => clearInterval(timer) };
  const timer = setInterval(() => {
    const all = peer.received();
    while (all.length - seen >= 8) {
      const req = all.subarray(seen, seen + 8);
      seen += 8;
      if (!crcOk(req)) continue;
      state.requests++;
      const slave = slaves.find((s) => s.unitId === req[0]);
      const frame = slave?.answer(req[1]!, req.readUInt16BE(2), req.readUInt16BE(4), 0);
      if (frame) void peer.send(frame);
    }
  }, 5);
  return state;
}

describe.skipIf(!ready)(
  `Modbus sensors through a pseudo-terminal, end to end to Mosquitto (seed ${SEED})${ready ? "" : `: skipped, ${hasMosquitto() ? "python3 with pty missing" : MOSQUITTO_MISSING}`}`,
  () => {
    let broker: Mosquitto;
    let peer: PtyPeer;
    beforeAll(async () => {
      broker = await startMosquitto();
      peer = await startPtyPeer();
    });
    afterAll(async () => {
      await peer?.stop();
      await broker?.stop();
    });

    it("a radar manhole, an ultrasonic bin and a URM15 manhole on one tty: depths and fill published, polls counted", async () => {
      const rng = new Rng(SEED);
      // radar 1500 mm below a sensor 2400 mm above the invert: 900 mm of water; the bin's waste 800 mm below its sensor
      const radar = new SimModbusSlave(
        246,
        modbusModel("vegapuls-c21"),
        () => 1500,
        rng.fork("radar"),
        1,
        () => {},
        "mh1",
      );
      const sonic = new SimModbusSlave(
        1,
        modbusModel("toughsonic-14"),
        () => 800,
        rng.fork("sonic"),
        1,
        () => {},
        "b1",
      );
      // a DFRobot URM15 (unit 15) on the same line, set to 9600 (register 0x03) like the others: 1200 mm below its sensor
      const urm15 = new SimModbusSlave(
        15,
        modbusModel("urm15"),
        () => 1200,
        rng.fork("urm15"),
        1,
        () => {},
        "mh2",
      );
      const line = answerRequests(peer, [radar, sonic, urm15]);
      const loaded = mustLoad({
        device: { id: "mb-pty", board: "sim" },
        windows: { default: "5s" },
        manholes: {
          mh1: {
            sensor: {
              type: "modbus",
              model: "vegapuls-c21",
              pollEvery: "250ms",
              timeoutMs: 1000,
              port: { path: peer.path, parity: "none" },
            },
            mountHeightMm: 2400,
            overflowHeightMm: 1500,
            sampling: { dry: "1s", fast: "1s" },
            staleAfter: "10s",
          },
          mh2: {
            sensor: {
              type: "modbus",
              model: "urm15",
              pollEvery: "250ms",
              timeoutMs: 1000,
              port: { path: peer.path, baudRate: 9600 },
            },
            mountHeightMm: 2000,
            overflowHeightMm: 1500,
            sampling: { dry: "1s", fast: "1s" },
            staleAfter: "10s",
          },
        },
        bins: {
          b1: {
            distance: { type: "modbus", model: "toughsonic-14", pollEvery: "250ms", timeoutMs: 1000, port: { path: peer.path } },
            emptyDistanceMm: 1100,
            fullDistanceMm: 350,
            measureEvery: "2s",
          },
        },
      });
      const clock = new RealClock();
      const site = new SimSite(loaded, { clock, scenarios: [] });
      const outbox = SqliteOutbox.open({ path: ":memory:", now: () => clock.wallMs() });
      const sub = await subscribe(broker.url, "roadside/mb-pty/#", { protocolVersion: 5 });
      let committed = 0;
      const device = new Device(loaded, {
        clock,
        logger: silentLogger,
        inputs: new JohnnyFiveInputs({ io: site.board, clock }),
        serial: () => new SerialLink({ binding: hardwareSerialBinding, clock, logger: silentLogger }),
        ioPlugin: site.board,
        outbox,
        brokerUrl: broker.url,
        mqtt: { backoffMinMs: 50, backoffMaxMs: 500 },
        onCommitted: (m) => (committed += m.length),
      });
      await device.start();
      try {
        await sub.waitFor((m) => {
          const s = decodeAll(m);
          return (
            s.some((x) => x.msg.kind === "level" && x.msg.stream === "mh1" && (x.msg.measures["samples"]?.v ?? 0) > 0) &&
            s.some((x) => x.msg.kind === "level" && x.msg.stream === "mh2" && (x.msg.measures["samples"]?.v ?? 0) > 0) &&
            s.some((x) => x.msg.kind === "bin" && x.msg.measures["actualFillingPercentage"]?.v !== undefined)
          );
        }, 30_000);
      } finally {
        const health = device.health.snapshot();
        await device.stop(10_000);
        outbox.close();
        line.stop();
        await sub.waitFor((m) => decodeAll(m).length >= committed);
        await sub.close();
        // both slaves on the one tty were polled and answered, told apart by unit id
        expect(health["sensor.mh1"]).toMatchObject({ model: "vegapuls-c21", unitId: 246, crcErrors: 0, exceptions: 0 });
        expect(health["sensor.b1"]).toMatchObject({ model: "toughsonic-14", unitId: 1, crcErrors: 0, exceptions: 0 });
        expect(health["sensor.mh1"]!["responses"]).toBeGreaterThan(3);
        expect(health["sensor.b1"]!["responses"]).toBeGreaterThan(3);
        expect(health["sensor.mh2"]).toMatchObject({ model: "urm15", unitId: 15, crcErrors: 0, exceptions: 0, invalidAnswers: 0 });
        expect(health["sensor.mh2"]!["responses"]).toBeGreaterThan(3);
        expect(radar.answers + sonic.answers + urm15.answers).toBeLessThanOrEqual(line.requests);
      }
      const seen = decodeAll(sub.messages);
      const level = seen.find((s) => s.msg.kind === "level" && s.msg.stream === "mh1" && (s.msg.measures["samples"]?.v ?? 0) > 0)!.msg;
      expect(level.measures["depthMean"]!.v!).toBeCloseTo(0.9, 2);
      // the URM15's 1200 mm in 0.1 cm counts: 800 mm of water below a sensor 2000 mm above the invert
      const level2 = seen.find((s) => s.msg.kind === "level" && s.msg.stream === "mh2" && (s.msg.measures["samples"]?.v ?? 0) > 0)!.msg;
      expect(level2.measures["depthMean"]!.v!).toBeCloseTo(0.8, 2);
      const bin = seen.find((s) => s.msg.kind === "bin" && s.msg.measures["actualFillingPercentage"]?.v !== undefined)!.msg;
      expect(bin.measures["actualFillingPercentage"]!.v!).toBeCloseTo(40, 0);
    }, 60_000);
  },
);
