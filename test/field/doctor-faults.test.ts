import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../helpers/brokers.js";
import { runCli } from "../helpers/cli.js";
import { makePki } from "../delivery/pki.js";

/**
 * Faults a technician misses and doctor must not: a loop whose card sticks on while the trap's
 * other loop keeps counting, a secret file `run` would refuse, a certificate about to expire, a
 * manhole switch that gets a loop's hint. Every run is on the simulated board in virtual time.
 */
const dir = mkdtempSync(join(tmpdir(), "roadside-doctor-faults-"));

interface Result {
  check: string;
  status: string;
  title: string;
  detail?: string[];
  fix?: string;
  values?: Record<string, unknown>;
}
const lines = (text: string): Result[] =>
  text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Result);
const SKIP = "clock,broker,service";

describe("doctor catches what a technician misses", () => {
  it("a stuck-on loop in a speed trap: the held input and the mismatched counts are ✗, exit 1", async () => {
    const file = join(dir, "stuck.yaml");
    writeFileSync(
      file,
      `device: { id: stuck-1, board: sim }
inputs: { lane1.up: { line: GPIO17 }, lane1.down: { line: GPIO27 } }
detectors: { lane1: { loops: [lane1.up, lane1.down] } }
sim: { seed: 7, traffic: { lane1: { vehiclesPerHour: 1800 } }, faults: [ { at: "5s", kind: stuck-on, target: lane1.down } ] }
`,
    );
    const d = await runCli(["doctor", "-c", file, "--seconds", "60", "--state-dir", join(dir, "s1"), "--skip", SKIP]);
    expect(d.code, d.stdout).toBe(1);
    expect(d.stdout).toMatch(
      /✗ input {3}lane1\.down \(GPIO27, pin 13\): held active \(a vehicle on the loop\) for \d+\.\d s, longer than the 20 s bound/,
    );
    expect(d.stdout).toContain(
      "bound: detectors.lane1 counts a presence held 20 s as a fault (diagnostics.heldPresenceS, laneType mainline)",
    );
    expect(d.stdout).toMatch(
      /✗ trap {4}lane1: the speed trap's loops disagree: lane1\.up counted \d+, lane1\.down \d vehicles? in 60 s \(simulated\)/,
    );
    expect(d.stdout).not.toContain("all checks passed");

    const j = await runCli(["doctor", "-c", file, "--seconds", "60", "--state-dir", join(dir, "s1"), "--skip", SKIP, "--json"]);
    const r = lines(j.stdout);
    const down = r.find((x) => x.values?.["input"] === "lane1.down")!;
    expect(down.status).toBe("fail");
    expect(down.values).toMatchObject({ kind: "loop", usedBy: "detectors.lane1", stuckAfterS: 20, level: 1, seconds: 60 });
    expect(down.values!["longestActiveS"]).toBeGreaterThanOrEqual(50);
    const trap = r.find((x) => x.check === "trap")!;
    expect(trap.status).toBe("fail");
    expect(trap.values!["upstreamVehicles"] as number).toBeGreaterThan(
      (trap.values!["downstreamVehicles"] as number) + (trap.values!["tolerance"] as number),
    );
    expect(r.at(-1)).toMatchObject({ check: "summary", status: "fail", values: { exitCode: 1 } });
  });

  it("a loop stuck on after a few vehicles (the issue's case: edges, then held): ✗ even with edges", async () => {
    const file = join(dir, "late.yaml");
    writeFileSync(
      file,
      `device: { id: stuck-2, board: sim }
inputs: { a: { line: GPIO17 } }
detectors: { lane1: { loops: [a], laneType: mainline } }
sim: { seed: 2, traffic: { lane1: { vehiclesPerHour: 1800 } }, faults: [ { at: "8s", kind: stuck-on, target: a } ] }
`,
    );
    const d = await runCli(["doctor", "-c", file, "--seconds", "30", "--state-dir", join(dir, "s2"), "--skip", SKIP, "--json"]);
    expect(d.code, d.stdout).toBe(1);
    const a = lines(d.stdout).find((x) => x.values?.["input"] === "a")!;
    expect(a.status).toBe("fail");
    expect(a.values!["edges"] as number).toBeGreaterThan(0);
  });

  it("a password file readable by others is ✗ in doctor, as roadside run refuses it (exit 2)", async () => {
    const pw = join(dir, "pw");
    writeFileSync(pw, "secret\n");
    chmodSync(pw, 0o644);
    const port = await freePort();
    const file = join(dir, "pw.yaml");
    writeFileSync(
      file,
      `device: { id: pw-1, board: sim }\nmqtt: { url: "mqtt://127.0.0.1:${port}", username: dev, passwordFile: ${pw} }\n`,
    );
    const d = await runCli(["doctor", "-c", file, "--seconds", "1", "--state-dir", join(dir, "s3"), "--skip", "clock,service,broker"]);
    expect(d.code, d.stdout).toBe(1);
    expect(d.stdout).toContain(`✗ files   mqtt.passwordFile: ${pw} is readable by group or others (mode 0644)`);
    expect(d.stdout).toContain(`fix: it holds a secret: run \`chmod 600 ${pw}\``);
    const v = await runCli(["validate", file]);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain(`mqtt.passwordFile: ${pw} is readable by group or others (mode 0644)`);
    const run = await runCli(["run", "-c", file, "--state-dir", join(dir, "s3")]);
    expect(run.code).toBe(2);
    expect(run.stderr + run.stdout).toContain("is readable by group or others (mode 0644)");

    chmodSync(pw, 0o600);
    const ok = await runCli([
      "doctor",
      "-c",
      file,
      "--seconds",
      "1",
      "--state-dir",
      join(dir, "s3"),
      "--skip",
      "clock,service,broker",
      "--json",
    ]);
    const f = lines(ok.stdout).filter((x) => x.check === "files" && x.status !== "skip");
    expect(f.map((x) => x.status)).toEqual(["pass"]);
    expect(f[0]!.title).toBe("mqtt.passwordFile: readable, secrets owner-only (the checks roadside run makes)");
  });

  it("a certificate that expires within 30 days is a warning with its date", async () => {
    const pki = makePki(); // valid for 2 days
    const file = join(dir, "tls.yaml");
    writeFileSync(
      file,
      `device: { id: tls-1, board: sim }\nmqtt: { url: "mqtts://127.0.0.1:8883", tls: { ca: ${pki.ca}, cert: ${pki.clientCert}, key: ${pki.clientKey} } }\n`,
    );
    const d = await runCli([
      "doctor",
      "-c",
      file,
      "--seconds",
      "1",
      "--state-dir",
      join(dir, "s4"),
      "--skip",
      "clock,service,broker",
      "--json",
    ]);
    const certs = lines(d.stdout).filter((x) => x.check === "cert");
    expect(certs.map((c) => [c.values!["field"], c.status])).toEqual([
      ["mqtt.tls.ca", "warn"],
      ["mqtt.tls.cert", "warn"],
    ]);
    expect(certs[0]!.title).toMatch(/^mqtt\.tls\.ca .*ca\.crt \(CN=roadside test CA\) expires in [01] days?, on \d{4}-\d\d-\d\d$/);
    expect(certs[1]!.values!["daysLeft"]).toBeLessThan(30);
    expect(d.code).toBe(0); // warnings pass…
    const strict = await runCli([
      "doctor",
      "-c",
      file,
      "--seconds",
      "1",
      "--state-dir",
      join(dir, "s4"),
      "--skip",
      "clock,service,broker",
      "--strict",
    ]);
    expect(strict.code).toBe(1); // …unless --strict
  });

  it("a manhole cover switch with no edges gets a cover's hint, not a vehicle's", async () => {
    const file = join(dir, "cover.yaml");
    writeFileSync(
      file,
      `device: { id: mh-1, board: sim }
inputs: { mh1.cover: { line: GPIO5 } }
manholes: { mh1: { sensor: { type: maxbotix, model: hrxl, port: { path: sim0 } }, mountHeightMm: 2400, overflowHeightMm: 1500, cover: { input: mh1.cover } } }
`,
    );
    const d = await runCli([
      "doctor",
      "-c",
      file,
      "--seconds",
      "5",
      "--state-dir",
      join(dir, "s5"),
      "--skip",
      "clock,service,broker,serial",
      "--json",
    ]);
    const cover = lines(d.stdout).find((x) => x.values?.["input"] === "mh1.cover");
    expect(cover, d.stdout + d.stderr).toBeDefined();
    expect(cover!.values).toMatchObject({ kind: "cover", usedBy: "manholes.mh1.cover" });
    expect(cover!.fix).toMatch(/^lift the cover \(or pass a magnet over the reed switch\)/);
    expect(cover!.fix).not.toContain("vehicle");
  });
});
