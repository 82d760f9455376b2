import { NS_PER_S } from "../../src/clock/clock.js";
import { RealClock } from "../../src/clock/real.js";
import { VirtualClock } from "../../src/clock/virtual.js";
import type { SerialSpec } from "../../src/io/contract.js";
import { hardwareSerialBinding, SerialLink } from "../../src/io/serial.js";
import { silentLogger } from "../../src/log/logger.js";
import { SimSerialBus } from "../../src/sim/serial.js";
import { hasPython, startPtyPeer } from "../helpers/pty-peer.js";
import type { SerialRig } from "./contract.js";
import { serialLinkContract } from "./contract.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const spec = (path: string): SerialSpec => ({ name: "manhole1", path, baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1 });

serialLinkContract("serialport over the simulated serial bus (virtual time)", async (): Promise<SerialRig> => {
  const clock = new VirtualClock();
  const bus = new SimSerialBus(() => clock.yieldSoon());
  const dev = bus.createDevice("/dev/ttySIM0", 9600);
  const settle = () => clock.runUntil(clock.monoNs() + 2 * NS_PER_S, { yieldEvery: 1 });
  return {
    link: new SerialLink({
      binding: bus.binding,
      clock,
      logger: silentLogger,
      reopenMinMs: 100,
      reopenMaxMs: 400,
      settle: () => clock.yieldSoon(),
    }),
    spec: spec("/dev/ttySIM0"),
    send: async (d) => {
      clock.setTimer(clock.monoNs() + 1_000_000, () => dev.emit(d));
      await clock.runUntil(clock.monoNs() + 1_000_000);
    },
    received: () => Buffer.concat(dev.written),
    settle,
    unplug: async () => {
      clock.setTimer(clock.monoNs(), () => dev.unplug());
    },
    plug: async () => dev.plug(),
    missingPath: "/dev/ttySIM9",
    cleanup: async () => {},
  };
});

serialLinkContract(
  "serialport's hardware binding on a pseudo-terminal",
  hasPython()
    ? async (): Promise<SerialRig> => {
        const peer = await startPtyPeer();
        return {
          link: new SerialLink({
            binding: hardwareSerialBinding,
            clock: new RealClock(),
            logger: silentLogger,
            reopenMinMs: 50,
            reopenMaxMs: 200,
          }),
          spec: spec(peer.path),
          send: (d) => peer.send(d),
          received: () => peer.received(),
          settle: () => sleep(150),
          unplug: () => peer.unplug(),
          plug: () => peer.plug(),
          missingPath: `${peer.path}-missing`,
          cleanup: () => peer.stop(),
        };
      }
    : undefined,
  "python3 is needed to make a pseudo-terminal (apt-get install -y python3)",
);

/** A real port with TX jumpered to RX: ROADSIDE_HW_SERIAL=/dev/ttyUSB0 (the far end is the port itself). */
function loopbackRig(): (() => Promise<SerialRig>) | undefined {
  const path = process.env["ROADSIDE_HW_SERIAL"];
  if (!path) return undefined;
  return async () => {
    const echoed: Buffer[] = [];
    const link = new SerialLink({ binding: hardwareSerialBinding, clock: new RealClock(), logger: silentLogger });
    // what the far end "sends" is written through the link and comes back over the jumper
    const rig: SerialRig = {
      link: {
        open: (s, h) =>
          link.open(s, {
            ...h,
            data: (c, t) => {
              echoed.push(c);
              h.data(c, t);
            },
          }),
        write: (d) => link.write(d),
        close: () => link.close(),
      },
      spec: { ...spec(path), baudRate: Number(process.env["ROADSIDE_HW_SERIAL_BAUD"] ?? 9600) },
      send: (d) => link.write(d),
      received: () => Buffer.concat(echoed),
      settle: () => sleep(300),
      missingPath: "/dev/ttyROADSIDE-missing",
      cleanup: async () => {},
    };
    return rig;
  };
}

serialLinkContract(
  "serialport on this machine's serial port (TX jumpered to RX)",
  loopbackRig(),
  "set ROADSIDE_HW_SERIAL=/dev/ttyUSB0 (and ROADSIDE_HW_SERIAL_BAUD) with a TX-RX jumper to run on hardware",
);
