import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectLevelAndBin, run, serialChecks as serial } from "./cli-rig.js";

const SEED = 15;

/** Two DFRobot URM15s on one simulated RS-485 line at their factory 19200 8N1: a manhole (unit 15) and a bin (unit 16). */
function config(dir: string, faults: string): string {
  const path = join(dir, "u.yaml");
  writeFileSync(
    path,
    `device: { id: dr-urm15, board: sim }
manholes:
  mh1:
    sensor: { type: modbus, model: urm15, port: { path: sim0 } }
    mountHeightMm: 2400
    overflowHeightMm: 1500
bins:
  b1:
    distance: { type: modbus, model: urm15, unitId: 16, port: { path: sim0 } }
    emptyDistanceMm: 1100
    fullDistanceMm: 350
sim:
  seed: ${SEED}
  sewer: { mh1: {} }
  bins: { b1: {} }
  faults: [${faults}]
`,
  );
  return path;
}

const doctor = (path: string, dir: string) =>
  run(["doctor", "-c", path, "--skip", "broker,clock,disk,outbox", "-s", "20", "--json", "--state-dir", join(dir, "s")]);

describe(`doctor and roadside test on DFRobot URM15 sensors (seed ${SEED})`, () => {
  it("doctor polls both by unit id at 19200 8N1 and decodes their distance register", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-urm15-"));
    const r = await doctor(config(dir, ""), dir);
    expect(r.code, r.out + r.err).toBe(0);
    const s = serial(r.out);
    const mh1 = s.find((x) => x.title.startsWith("manholes.mh1.sensor"))!;
    const b1 = s.find((x) => x.title.startsWith("bins.b1.distance"))!;
    expect(mh1.status).toBe("pass");
    expect(mh1.title).toMatch(/19200 8N1\): (19|20|21) frames, e\.g\. \d+ mm$/);
    expect(b1.status).toBe("pass");
    expect(b1.title).toMatch(/: (19|20|21) frames, e\.g\. \d+ mm$/);
  });

  it("doctor fails a URM15 that does not answer, and passes the other on the line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-urm15-"));
    const r = await doctor(config(dir, "{ kind: silent, target: b1, at: 0s }"), dir);
    expect(r.code).not.toBe(0);
    const s = serial(r.out);
    expect(s.find((x) => x.title.startsWith("manholes.mh1.sensor"))!.status).toBe("pass");
    const b1 = s.find((x) => x.title.startsWith("bins.b1.distance"))!;
    expect(b1.status).toBe("fail");
    // the bytes on the line are unit 15's answers: none is unit 16's
    expect(b1.title).toMatch(/^bins\.b1\.distance \(\/dev\/ttySIM0 19200 8N1\): \d+ bytes but no valid frame/);
  });

  it("roadside test prints the manhole's level and the bin's fill", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-urm15-"));
    const r = await run(["test", "-c", config(dir, ""), "--for", "30m", "--json"]);
    expect(r.code, r.err).toBe(0);
    expectLevelAndBin(r.out, "mh1", "b1");
  });
});
