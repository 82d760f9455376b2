import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/clock/virtual.js";
import { identifierPortNames } from "../../src/config/sections/identifiers.js";
import type { SerialHandlers, SerialPortLink, SerialSpec } from "../../src/io/contract.js";
import { TraceRecorder } from "../../src/sim/recorder.js";
import { mustLoad } from "../helpers/sim-device.js";

/** A serial link that delivers one chunk as soon as it opens. */
function fakeLink(chunk: Buffer): () => SerialPortLink {
  return () => ({
    open: async (_spec: SerialSpec, h: SerialHandlers) => h.data(chunk, 1e9),
    write: async () => {},
    close: async () => {},
  });
}

describe("--record never writes bytes read from a device an identifier sensor names (issue 14)", () => {
  it("a port opened under another sensor's name on the scanner's device (a Pi header UART alias) is not recorded", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-rec-"));
    try {
      const loaded = mustLoad({
        device: { id: "r", board: "sim" },
        identifiers: { scanners: { ped1: { port: { path: "/dev/ttyAMA0" } } } },
      });
      const path = join(dir, "t.jsonl");
      const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 0, 5) });
      const rec = new TraceRecorder({ path, clock, neverRecord: identifierPortNames(loaded.config.identifiers) });
      rec.start();
      const mac = Buffer.from("DA:A1:19:00:00:01 -71\r\n");
      const spec = (name: string, p: string): SerialSpec => ({ name, path: p, baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1 });
      await rec
        .serial(fakeLink(mac))()
        .open(spec("mh1", "/dev/serial0"), { data: () => {}, state: () => {} });
      await rec
        .serial(fakeLink(mac))()
        .open(spec("ped1", "/dev/ttyAMA0"), { data: () => {}, state: () => {} });
      await rec
        .serial(fakeLink(Buffer.from("R1234\r")))()
        .open(spec("mh2", "/dev/ttyUSB3"), { data: () => {}, state: () => {} });
      rec.close();
      const text = readFileSync(path, "utf8");
      expect(text).not.toMatch(/DA:A1/);
      expect(text).not.toMatch(/"port":"mh1"/);
      expect(text).toMatch(/"port":"mh2","data":"R1234\\r"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
