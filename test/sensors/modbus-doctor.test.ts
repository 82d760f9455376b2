import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectLevelAndBin, run, serialChecks as serial } from "./cli-rig.js";

const SEED = 5;

function config(dir: string, faults: string): string {
  const path = join(dir, "d.yaml");
  writeFileSync(
    path,
    `device: { id: dr-mb, board: sim }
manholes:
  mh1:
    sensor: { type: modbus, model: vegapuls-c21, port: { path: sim0, parity: none } }
    mountHeightMm: 2400
    overflowHeightMm: 1500
bins:
  b1:
    distance: { type: modbus, model: toughsonic-14, port: { path: sim0 } }
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

describe(`doctor and roadside test on Modbus sensors sharing a simulated RS-485 line (seed ${SEED})`, () => {
  it("doctor polls each sensor by its unit id and decodes its registers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-drmb-"));
    const r = await run([
      "doctor",
      "-c",
      config(dir, ""),
      "--skip",
      "broker,clock,disk,outbox",
      "-s",
      "20",
      "--json",
      "--state-dir",
      join(dir, "s"),
    ]);
    expect(r.code, r.out + r.err).toBe(0);
    const s = serial(r.out);
    const mh1 = s.find((x) => x.title.startsWith("manholes.mh1.sensor"))!;
    const b1 = s.find((x) => x.title.startsWith("bins.b1.distance"))!;
    expect(mh1.status).toBe("pass");
    expect(mh1.title).toMatch(/\/dev\/ttySIM0 9600 8N1\): (19|20|21) frames, e\.g\. \d+ mm$/); // each polled once a second
    expect(b1.status).toBe("pass");
    expect(b1.title).toMatch(/: (19|20|21) frames, e\.g\. \d+ mm$/);
  });

  it("doctor fails a sensor that answers only with exceptions, naming the code", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-drmb-"));
    const r = await run([
      "doctor",
      "-c",
      config(dir, "{ kind: exception, target: b1, at: 0s, params: { code: 2 } }"),
      "--skip",
      "broker,clock,disk,outbox",
      "-s",
      "20",
      "--json",
      "--state-dir",
      join(dir, "s"),
    ]);
    expect(r.code).not.toBe(0);
    const s = serial(r.out);
    expect(s.find((x) => x.title.startsWith("manholes.mh1.sensor"))!.status).toBe("pass");
    const b1 = s.find((x) => x.title.startsWith("bins.b1.distance"))!;
    expect(b1.status).toBe("fail");
    expect(b1.title).toMatch(/no valid frame \(exception 2 \(illegal data address\)\)/);
  });

  it("roadside test prints what both sensors would publish", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-drmb-"));
    const r = await run(["test", "-c", config(dir, ""), "--for", "30m", "--json"]);
    expect(r.code, r.err).toBe(0);
    expectLevelAndBin(r.out, "mh1", "b1");
  });
});
