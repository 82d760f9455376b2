import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "roadside-install-"));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const have = (cmd: string): boolean => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

function config(name: string, board: string): string {
  const p = join(dir, name);
  writeFileSync(p, `device: { id: ${name.replace(".yaml", "")}, board: ${board} }\ninputs: { a: { line: GPIO17 } }\ndetectors: { lane1: { loops: [a] } }\n`);
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
    writeFileSync(broken, readFileSync(out, "utf8").replace("Restart=always", "Restart=sometimes").replace("ProtectHome=yes", "ProtectHom=yes"));
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

  it.skipIf(!have("shellcheck"))("are shellcheck-clean", () => {
    const r = spawnSync("shellcheck", scripts, { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("bundle.sh builds an offline tarball of this checkout that runs on its own, with production packages only; install.sh --dry-run plans its install", () => {
    const out = join(dir, "bundle");
    // dist/ is built by `npm test` before the tests run
    const b = spawnSync("bash", [join(ROOT, "scripts/bundle.sh"), "--no-build", "--output", out], { encoding: "utf8" });
    expect(b.status, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/\[1\/5\][\s\S]*\[2\/5\][\s\S]*\[3\/5\][\s\S]*\[4\/5\][\s\S]*\[5\/5\] compressing/); // progress
    const name = `roadside-${VERSION}-linux-${process.arch}-node${process.versions.node.split(".")[0]}`;
    const tarball = join(out, `${name}.tar.gz`);
    expect(b.stdout).toContain(`wrote ${tarball}`);
    const list = spawnSync("tar", ["-tzf", tarball], { encoding: "utf8", maxBuffer: 64 << 20 }).stdout.split("\n");
    for (const f of ["bin/roadside.js", "dist/cli/main.js", "boards/raspberry-pi-5.json", "BUNDLE-INFO", "scripts/install.sh", "node_modules/mqtt/package.json", "node_modules/better-sqlite3/build/Release/better_sqlite3.node", "node_modules/zod/package.json"]) {
      expect(list, f).toContain(`${name}/${f}`);
    }
    for (const dev of ["vitest", "typescript", "@types/better-sqlite3"]) expect(list.some((f) => f.startsWith(`${name}/node_modules/${dev}/`)), dev).toBe(false);
    expect(list.filter((f) => f.startsWith(`${name}/dist/`) && /\.test\.js$|\.map$/.test(f))).toEqual([]);
    const sum = readFileSync(`${tarball}.sha256`, "utf8");
    expect(spawnSync("sha256sum", ["-c", `${name}.tar.gz.sha256`], { cwd: out }).status, sum).toBe(0);

    // unpacked alone, it runs: its own node_modules load, native addons included
    const x = join(dir, "unpacked");
    spawnSync("mkdir", ["-p", x]);
    expect(spawnSync("tar", ["-xzf", tarball, "-C", x]).status).toBe(0);
    const app = join(x, name, "bin", "roadside.js");
    const v = spawnSync(process.execPath, [app, "--version"], { encoding: "utf8" });
    expect(v.stdout.trim(), v.stderr).toBe(VERSION);
    const val = spawnSync(process.execPath, [app, "validate", config("bundled.yaml", "sim")], { encoding: "utf8", cwd: x });
    expect(val.status, val.stderr).toBe(0);
    expect(readFileSync(join(x, name, "BUNDLE-INFO"), "utf8")).toMatch(new RegExp(`^arch=${process.arch}$[\\s\\S]*^node_abi=${process.versions.modules}$`, "m"));

    const prefix = join(dir, "opt-roadside");
    const plan = spawnSync("bash", [join(ROOT, "scripts/install.sh"), "--dry-run", "--bundle", tarball, "--prefix", prefix], { encoding: "utf8" });
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`+ tar -xzf ${tarball} -C ${prefix}.new --strip-components=1`);
    expect(plan.stdout).toContain(`+ ln -sfn ${prefix}/bin/roadside.js /usr/local/bin/roadside`);
    expect(plan.stdout).toContain("done (dry run): nothing was changed");
    expect(existsSync(prefix) || existsSync(`${prefix}.new`)).toBe(false);
    expect(readdirSync(out).sort()).toEqual([`${name}.tar.gz`, `${name}.tar.gz.sha256`]);
  });
});
