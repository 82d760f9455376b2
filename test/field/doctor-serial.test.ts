import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";

const SEED = 3;

describe(`doctor's serial check on the simulated board (seed ${SEED})`, () => {
  it("parses a sonar's frames and only counts the bytes of an identifier port", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-drser-"));
    const config = join(dir, "d.yaml");
    writeFileSync(
      config,
      `device: { id: dr-1, board: sim }
identifiers:
  scanners: { ped1: { port: { path: sim0 } } }
manholes:
  mh1:
    sensor: { type: maxbotix, model: hrxl, port: { path: sim2 } }
    mountHeightMm: 2400
    overflowHeightMm: 1500
sim:
  seed: ${SEED}
  identifiers: { scanners: { ped1: { devicesPerHour: 900 } } }
  sewer: { mh1: {} }
`,
    );
    let out = "";
    const code = await main(
      ["doctor", "-c", config, "--skip", "broker,clock,disk,outbox", "-s", "30", "--json", "--state-dir", join(dir, "s")],
      { out: (t) => (out += t), err: (t) => (out += t), isTTY: false },
    );
    const results = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { check: string; status: string; title: string });
    const serial = results.filter((r) => r.check === "serial");
    expect(code, out).toBe(0);
    const sonar = serial.find((r) => r.title.startsWith("manholes.mh1.sensor"))!;
    expect(sonar.status).toBe("pass");
    expect(sonar.title).toMatch(/: (29|30|31) frames, e\.g\. \d+ mm$/); // one frame a second for 30 s
    const scanner = serial.find((r) => r.title.startsWith("identifiers.scanners.ped1"))!;
    expect(scanner.title).toMatch(/: \d+ bytes in 30 s \(an identifier port: doctor counts bytes and never reads them/);
    // nothing doctor printed looks like a scanner line or a MAC address
    expect(out.toLowerCase()).not.toMatch(/[0-9a-f]{2}(:[0-9a-f]{2}){5}|wifi,|ble,/);
  });
});
