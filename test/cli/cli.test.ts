import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "roadside-cli-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("the roadside command", () => {
  it("prints help listing every command, and exits 0 with --help, 2 with nothing", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: roadside <command>/);
    for (const cmd of ["run", "validate"]) expect(help.stdout).toContain(`  ${cmd}`);
    expect((await runCli([])).code).toBe(2);
  });

  it("gives every command a --help", async () => {
    for (const cmd of ["run", "validate"]) {
      const r = await runCli([cmd, "--help"]);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(new RegExp(`^Usage: roadside ${cmd}`));
    }
  });

  it("exits 2 on an unknown command or flag, saying what to do", async () => {
    const a = await runCli(["frobnicate"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown command "frobnicate"; commands: run, validate/);
    const b = await runCli(["run", "--speed", "3"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/Unknown option '--speed'[\s\S]*roadside run --help/);
    const c = await runCli(["run", "--duration", "soon"]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--duration "soon" is not a duration/);
  });

  it("validate: ok config exits 0; broken config lists all its problems and exits 2", async () => {
    const ok = file("ok.yaml", "device: { id: d1, board: sim }\ninputs: { a: { line: 17 } }\ndetectors: { l1: { loops: [a] } }\n");
    const bad = file(
      "bad.yaml",
      "device: { id: 'd 1', board: sim }\ninputs: { a: { line: 99 }, b: { line: 17 } }\ndetectors: { l1: { loops: [a, c] } }\nwindows: { default: 7s }\n",
    );
    const r1 = await runCli(["validate", ok]);
    expect(r1.code).toBe(0);
    expect(r1.stdout).toBe(`${ok}: ok (device d1 on roadside hardware simulator)\n`);
    const r2 = await runCli(["validate", bad]);
    expect(r2.code).toBe(2);
    expect(r2.stderr.split("\n").filter(Boolean)).toEqual([
      `${bad}: 4 problems`,
      'device.id: "d 1" is not safe in MQTT topics; use letters, digits, _ and - only (max 64), e.g. "d-1"',
      "inputs.a.line: 99 is not a usable GPIO line of sim; use one of GPIO2…GPIO27 (see boards/sim.json)",
      'detectors.l1.loops[1]: no input named "c"; define it under inputs: (known: a, b)',
      "windows.default: window 7s does not divide an hour into whole windows; use 10s, 20s, 30s, 1m, 5m, 15m or 1h",
    ]);
    const r3 = await runCli(["validate"]);
    expect(r3.code).toBe(2);
  });

  it("run refuses a broken config with exit 2 before touching any hardware", async () => {
    const bad = file("bad2.yaml", "device: { id: d1, board: nope }\n");
    const r = await runCli(["run", "--config", bad, "--state-dir", join(dir, "st")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/device.board: no board "nope"/);
  });
});
