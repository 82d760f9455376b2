import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "roadside-install-"));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const have = (cmd: string): boolean => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

function config(name: string, board: string): string {
  const p = join(dir, name);
  writeFileSync(
    p,
    `device: { id: ${name.replace(".yaml", "")}, board: ${board} }\ninputs: { a: { line: GPIO17 } }\ndetectors: { lane1: { loops: [a] } }\n`,
  );
  return p;
}

/** systemd-analyze verify prints its complaints and still exits 0: an empty stderr is the pass. */
function verify(unitFile: string): { code: number | null; stderr: string } {
  const r = spawnSync("systemd-analyze", ["verify", unitFile], { encoding: "utf8" });
  return { code: r.status, stderr: r.stderr.trim() };
}

describe("roadside install", () => {
  it("writes a hardened unit for a Pi: readiness and watchdog, a restart policy that never gives up, its own user, read-only system but the config folder, state directory, only GPIO/serial/I²C devices", async () => {
    const cfg = config("pole-1.yaml", "raspberry-pi-5");
    const out = join(dir, "pole-1.service");
    const r = await runCli(["install", "--config", cfg, "--output", out, "--groups", "gpio,dialout"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${out}`);
    expect(r.stdout).toContain("sudo systemctl daemon-reload && sudo systemctl enable --now roadside");
    const unit = readFileSync(out, "utf8");
    for (const line of [
      "Description=roadside edge runtime (device pole-1)",
      `ExecStart=${process.execPath} ${ROOT.replace(/\/$/, "")}/bin/roadside.js run --config ${cfg}`,
      "Type=notify",
      "NotifyAccess=all",
      "WatchdogSec=30s",
      "Restart=always",
      "RestartSec=10s",
      "StartLimitIntervalSec=0",
      `ReadWritePaths=${dir}`,
      "SyslogLevelPrefix=yes",
      "User=roadside",
      "SupplementaryGroups=gpio dialout",
      "StateDirectory=roadside",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "NoNewPrivileges=yes",
      "LimitCORE=0",
      "DevicePolicy=closed",
      "DeviceAllow=char-gpiochip rw",
      "DeviceAllow=char-ttyUSB rw",
      "StandardOutput=journal",
      "WantedBy=multi-user.target",
    ]) {
      expect(unit.split("\n"), line).toContain(line);
    }
    expect(unit).not.toMatch(/MemoryDenyWriteExecute/); // V8's JIT would crash under it
    expect(unit).not.toMatch(/RestartPreventExitStatus|StartLimitBurst/); // a device nobody visits is never given up on
  });

  it("a simulated device gets no device access and no hardware groups", async () => {
    const r = await runCli(["install", "--config", config("sim-1.yaml", "sim"), "--dry-run"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^DevicePolicy=closed$/m);
    expect(r.stdout).not.toMatch(/DeviceAllow=|SupplementaryGroups=/);
  });

  it.skipIf(!have("systemd-analyze"))("systemd-analyze verify accepts the unit (and would complain about a broken one)", async () => {
    const out = join(dir, "verify.service");
    const r = await runCli(["install", "--config", config("pole-2.yaml", "raspberry-pi-4"), "--output", out, "--groups", "dialout"]);
    expect(r.code, r.stderr).toBe(0);
    const ok = verify(out);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    const broken = join(dir, "broken.service");
    writeFileSync(
      broken,
      readFileSync(out, "utf8").replace("Restart=always", "Restart=sometimes").replace("ProtectHome=yes", "ProtectHom=yes"),
    );
    const bad = verify(broken);
    expect(bad.stderr).toMatch(/restart specifier[\s\S]*Unknown key 'ProtectHom'/);
  });

  it("refuses to install a service for a config that would not start (exit 2)", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "device: { id: x, board: nope }\n");
    const r = await runCli(["install", "--config", bad, "--dry-run"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/device.board: no board "nope"/);
  });
});

describe("scripts/install.sh and scripts/bundle.sh", () => {
  const scripts = ["scripts/install.sh", "scripts/bundle.sh"].map((s) => join(ROOT, s));

  it("parse (bash -n) and answer --help", () => {
    for (const s of scripts) {
      const n = spawnSync("bash", ["-n", s], { encoding: "utf8" });
      expect(n.status, `${s}: ${n.stderr}`).toBe(0);
      const h = spawnSync("bash", [s, "--help"], { encoding: "utf8" });
      expect(h.status, s).toBe(0);
      expect(h.stdout).toMatch(/--help/);
    }
  });

  it.skipIf(!have("shellcheck"))("are shellcheck-clean, the .deb's maintainer scripts too (the bundle itself: bundle.test.ts)", () => {
    const r = spawnSync("shellcheck", [...scripts, ...["postinst", "prerm", "postrm"].map((s) => join(ROOT, "scripts/deb", s))], {
      encoding: "utf8",
    });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
