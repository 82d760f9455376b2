import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";

const SEED = 31;

/** A device with a probe scanner, an RFID reader and a manhole sonar on the simulated board. */
const CONFIG = `device: { id: rec-priv, board: sim }
identifiers:
  window: 5m
  scanners: { ped1: { port: { path: sim0 } } }
  readers: { bin7: { port: { path: sim1 } } }
manholes:
  mh1:
    sensor: { type: maxbotix, model: hrxl, port: { path: sim2 } }
    mountHeightMm: 2400
    overflowHeightMm: 1500
sim:
  seed: ${SEED}
  identifiers:
    scanners: { ped1: { devicesPerHour: 900 } }
    readers: { bin7: { depositsPerHour: 60, users: 20 } }
  sewer: { mh1: {} }
`;

describe(`recording a trace never records identifier ports (seed ${SEED})`, () => {
  it("sim --record writes the sonar's bytes but not a byte of the scanner or the RFID reader", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-recpriv-"));
    const config = join(dir, "d.yaml");
    writeFileSync(config, CONFIG);
    const trace = join(dir, "trace.jsonl");
    let err = "";
    const code = await main(["sim", "-c", config, "-d", "30m", "--record", trace], { out: () => {}, err: (t) => (err += t), isTTY: false });
    expect(code, err).toBe(0);
    const lines = readFileSync(trace, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ports = new Set(lines.map((l) => l["port"]).filter((p) => p !== undefined));
    expect(ports.has("mh1")).toBe(true); // serial data is recorded…
    expect(ports.has("ped1")).toBe(false); // …but never an identifier port
    expect(ports.has("bin7")).toBe(false);
    // and nothing that looks like a scanner line or a MAC address is in the file
    const text = readFileSync(trace, "utf8").toLowerCase();
    expect(text).not.toMatch(/wifi,|ble,/);
    expect(text).not.toMatch(/[0-9a-f]{2}(:[0-9a-f]{2}){5}/);
  });
});
