import { describe, expect, it } from "vitest";
import { RealClock } from "../clock/real.js";
import type { Board } from "../config/boards.js";
import { hardwareSerialPaths, loadBoards } from "../config/boards.js";
import { validateConfig } from "../config/load.js";
import type { SerialSpec } from "../io/contract.js";
import { silentLogger } from "../log/logger.js";
import { createSimHardware } from "./hardware.js";
import { hasPython, startPtyPeer } from "../../test/helpers/pty-peer.js";

// The virtual device's board (boards/virtual-device.json): GPIO simulated, but a serial port marked
// `hardware: true` is a real tty read through the kernel and serialport's native binding.

const spec = (name: string, path: string): SerialSpec => ({ name, path, baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1 });

function boardsWith(ttyPath: string): Map<string, Board> {
  const boards = loadBoards();
  const vd = boards.get("virtual-device")!;
  boards.set("virtual-device", { ...vd, serial: vd.serial.map((p) => (p.hardware ? { ...p, path: ttyPath } : p)) });
  return boards;
}

const config = (board: string) => ({
  device: { id: "vm-0001", board },
  inputs: { "lane1.up": { line: "GPIO17" } },
  detectors: { lane1: { loops: ["lane1.up"] } },
  manholes: { mh1: { sensor: { type: "maxbotix", port: { path: "ttyS1" } }, mountHeightMm: 2400, overflowHeightMm: 1500 } },
  sim: { traffic: { lane1: { vehiclesPerHour: 600 } } },
});

describe("board virtual-device: simulated GPIO, a real serial port", () => {
  it("is a valid board whose ttyS1 is hardware and whose other ports are simulated", () => {
    const vd = loadBoards().get("virtual-device")!;
    expect(vd.io).toBe("sim");
    expect([...hardwareSerialPaths(vd)]).toEqual(["/dev/ttyS1"]);
    expect(hardwareSerialPaths(loadBoards().get("sim")!).size).toBe(0);
  });

  it("takes a sim section like board sim; a real board still refuses one", () => {
    expect(validateConfig(config("virtual-device")).issues).toEqual([]);
    const pi = validateConfig({ ...config("raspberry-pi-4"), manholes: {} });
    expect(pi.ok).toBe(false);
    expect(pi.issues.map((i) => i.path.join("."))).toContain("sim");
  });

  it.skipIf(!hasPython())("reads the hardware port through the kernel tty, and a simulated port through the simulator's bus", async () => {
    const peer = await startPtyPeer();
    try {
      const r = validateConfig(config("virtual-device"), { boards: boardsWith(peer.path) });
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      const hw = createSimHardware(r.loaded, { clock: new RealClock(), logger: silentLogger });
      const link = hw.serial();
      const chunks: Buffer[] = [];
      await link.open(spec("mh1", peer.path), { data: (c) => chunks.push(Buffer.from(c)), state: () => {} });
      await peer.send(Buffer.from("R1234\r"));
      const end = Date.now() + 5000;
      while (Buffer.concat(chunks).toString() !== "R1234\r" && Date.now() < end) await new Promise((res) => setTimeout(res, 20));
      expect(Buffer.concat(chunks).toString()).toBe("R1234\r");
      // and the guest's writes reach the wire (a trigger, for sensors that take one)
      await link.write(Buffer.from("T"));
      while (!peer.received().includes("T") && Date.now() < end) await new Promise((res) => setTimeout(res, 20));
      expect(peer.received().toString()).toContain("T");
      await link.close();

      // a board port that is not marked hardware still goes to the simulator: no simulated device there
      const simLink = hw.serial();
      await expect(simLink.open(spec("other", "/dev/ttySIM0"), { data: () => {}, state: () => {} })).rejects.toThrow(/no simulated device/);
      await simLink.close();
    } finally {
      await peer.stop();
    }
  });
});
