import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, sh } from "./bundle-helpers.js";

// scripts/install.sh's release handling with small bundles made here (no bundle.sh run: fast):
// upgrades, pruning, refusals, and restart with rollback against a stand-in systemctl. The real
// bundle is test/field/bundle.test.ts; real systemd is the virtual device's suite (test/device).
const work = mkdtempSync(join(tmpdir(), "roadside-upgrade-"));
const install = join(ROOT, "scripts/install.sh");

describe("scripts/install.sh upgrades (small bundles of this checkout, this system's Node.js)", () => {
  /**
   * A bundle holding what install.sh looks at: BUNDLE-INFO, and an app whose dist/ and node_modules
   * are this checkout's (symlinks), run by this system's node (node_bundled=no).
   */
  function tiny(version: string, over: Record<string, string> = {}, marker?: "BROKEN" | "FLAKY"): string {
    const name = `roadside-${version}-linux-${process.arch}-node20`;
    const d = join(work, "tiny", version);
    mkdirSync(join(d, name, "bin"), { recursive: true });
    copyFileSync(join(ROOT, "bin/roadside.js"), join(d, name, "bin/roadside.js"));
    chmodSync(join(d, name, "bin/roadside.js"), 0o755);
    for (const l of ["dist", "node_modules", "boards", "package.json"]) symlinkSync(join(ROOT, l), join(d, name, l));
    if (marker) writeFileSync(join(d, name, marker), "read by the stand-in systemctl\n");
    const info = {
      name,
      version,
      arch: process.arch,
      node: process.versions.node,
      node_abi: process.versions.modules,
      deb_arch: "amd64",
      node_bundled: "no",
      built: "2026-01-01T00:00:00Z",
      commit: "abc1234",
      ...over,
    };
    writeFileSync(
      join(d, name, "BUNDLE-INFO"),
      Object.entries(info)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(""),
    );
    const file = join(d, `${name}.tar.gz`);
    expect(sh("tar", ["-czf", file, "-C", d, name]).status).toBe(0);
    writeFileSync(`${file}.sha256`, sh("sha256sum", [basename(file)], { cwd: d }).stdout);
    return file;
  }

  it("each upgrade moves current to the new release and previous to the old one, keeping two releases", () => {
    const root = join(work, "up-root");
    const releases = join(root, "opt/roadside/releases");
    const link = (l: string): string => readlinkSync(join(root, "opt/roadside", l));
    for (const v of ["1.0.0", "1.1.0", "1.2.0"]) {
      const r = sh("bash", [install, "--bundle", tiny(v), "--root", root]);
      expect(r.status, `${v}: ${r.stderr}`).toBe(0);
      expect(link("current")).toMatch(new RegExp(`^releases/roadside-${v.replace(/\./g, "\\.")}-linux-`));
    }
    expect(link("previous")).toMatch(/^releases\/roadside-1\.1\.0-/);
    expect(
      readdirSync(releases)
        .map((n) => n.replace(/-linux-.*/, ""))
        .sort(),
    ).toEqual(["roadside-1.1.0", "roadside-1.2.0"]);
    expect(lstatSync(join(root, "opt/roadside/current")).isSymbolicLink()).toBe(true);
    expect(existsSync(join(root, "opt/roadside/current.new"))).toBe(false);
    const unit = readFileSync(join(root, "etc/systemd/system/roadside.service"), "utf8");
    expect(unit).toContain(`ExecStart=${process.execPath} ${root}/opt/roadside/current/bin/roadside.js run`);
  });

  it("refuses a bundle of another architecture, with native addons for another Node.js ABI or a newer glibc, saying what to do", () => {
    const other = process.arch === "arm64" ? "x64" : "arm64";
    const arch = sh("bash", [install, "--bundle", tiny("2.0.0", { arch: other }), "--root", join(work, "arch-root")]);
    expect(arch.status).toBe(1);
    expect(arch.stderr).toContain(`is for linux-${other}, this device is linux-${process.arch}: build one with scripts/bundle.sh --arch`);
    const abi = sh("bash", [install, "--bundle", tiny("2.0.1", { node_abi: "99" }), "--root", join(work, "arch-root")]);
    expect(abi.status).toBe(1);
    expect(abi.stderr).toContain("the bundle's native addons are for Node.js ABI 99");
    expect(abi.stderr).toContain("use a bundle with runtime/node");
    const glibc = sh("bash", [install, "--bundle", tiny("2.0.2", { glibc: "2.999" }), "--root", join(work, "arch-root")]);
    expect(glibc.status).toBe(1);
    expect(glibc.stderr).toMatch(
      /needs glibc 2\.999 or newer \(Debian 12 bookworm, Raspberry Pi OS bookworm or later\), this system has 2\.\d+/,
    );
    expect(existsSync(join(work, "arch-root/opt/roadside/current"))).toBe(false);
  });

  /**
   * A stand-in systemctl (systemd does not run here; the virtual device's suite runs the real one):
   * `restart` starts the release `current` points at, which fails at once when it holds BROKEN and
   * is restarted by "systemd" soon after when it holds FLAKY (NRestarts rises). Each call is logged.
   */
  function fakeSystemd(root: string): NodeJS.ProcessEnv {
    const bin = join(root, "fake-bin");
    const state = join(root, "fake-state");
    mkdirSync(bin, { recursive: true });
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, "pid"), "0");
    writeFileSync(join(state, "restarts"), "0");
    const script = `#!/bin/bash
S=${state}; cur="$(readlink -f ${root}/opt/roadside/current)"
echo "$* -> $(basename "$cur")" >>$S/log
case "$1" in
  is-active) [ -f $S/active ] ;;
  restart)
    echo $(( $(cat $S/pid) + 1 )) >$S/pid
    if [ -f "$cur/BROKEN" ]; then rm -f $S/active; exit 1; fi
    touch $S/active; echo 0 >$S/polls ;;
  show)
    case "$3" in
      MainPID) cat $S/pid ;;
      NRestarts)
        n=$(( $(cat $S/polls) + 1 )); echo $n >$S/polls
        if [ -f "$cur/FLAKY" ] && [ $n -gt 2 ]; then echo $(( $(cat $S/restarts) + 1 )); else cat $S/restarts; fi ;;
    esac ;;
  *) ;;
esac
`;
    writeFileSync(join(bin, "systemctl"), script, { mode: 0o755 });
    writeFileSync(join(bin, "journalctl"), "#!/bin/sh\necho '(journal)'\n", { mode: 0o755 });
    return { ...process.env, PATH: `${bin}:${process.env["PATH"]}`, ROADSIDE_INSTALL_FAKE_SYSTEMD: "yes" };
  }

  it("an upgrade restarts the service; one that fails to start or restarts within --settle is rolled back by itself", () => {
    const root = join(work, "sd-root");
    const env = fakeSystemd(root);
    const link = (l: string): string => readlinkSync(join(root, "opt/roadside", l)).replace(/-linux-.*/, "");
    const go = (file: string, ...extra: string[]): ReturnType<typeof sh> =>
      sh("bash", [install, "--bundle", file, "--root", root, "--settle", "2", ...extra], { env });
    const calls = (): string[] =>
      readFileSync(join(root, "fake-state/log"), "utf8")
        .trim()
        .split("\n")
        .map((l) => l.replace(/-linux-[^ ]*/g, ""));

    // first install with --enable (the config exists): enabled and started
    mkdirSync(join(root, "etc/roadside"), { recursive: true });
    writeFileSync(
      join(root, "etc/roadside/device.yaml"),
      "device: { id: sd-1, board: sim }\ninputs: { a: { line: GPIO17 } }\ndetectors: { lane1: { loops: [a] } }\n",
    );
    const first = go(tiny("3.0.0"), "--enable");
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain("==> roadside is up: MainPID 1, active for 2s");
    expect(calls()).toEqual([
      "is-active --quiet roadside -> roadside-3.0.0",
      "daemon-reload -> roadside-3.0.0",
      "enable roadside -> roadside-3.0.0",
      "restart roadside -> roadside-3.0.0",
      "show -p MainPID --value roadside -> roadside-3.0.0",
      "show -p NRestarts --value roadside -> roadside-3.0.0",
      "is-active --quiet roadside -> roadside-3.0.0",
      "show -p MainPID --value roadside -> roadside-3.0.0",
      "show -p NRestarts --value roadside -> roadside-3.0.0",
      "is-active --quiet roadside -> roadside-3.0.0",
      "show -p MainPID --value roadside -> roadside-3.0.0",
      "show -p NRestarts --value roadside -> roadside-3.0.0",
    ]);

    // a good upgrade: the running service is restarted on the new release
    const up = go(tiny("3.1.0"));
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toContain("==> roadside is up: MainPID 2");
    expect([link("current"), link("previous")]).toEqual(["releases/roadside-3.1.0", "releases/roadside-3.0.0"]);

    // a release that does not start: back to 3.1.0, which is started again; 3.2.0 is gone
    const broken = go(tiny("3.2.0", {}, "BROKEN"));
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/did not become ready \(systemctl restart failed or took over 120s\)/);
    expect(broken.stdout).toMatch(/==> rolling back: current -> releases\/roadside-3\.1\.0-/);
    expect(broken.stderr).toMatch(/rolled back to releases\/roadside-3\.1\.0-.*: roadside-3\.2\.0-.* did not become ready/);
    expect([link("current"), link("previous")]).toEqual(["releases/roadside-3.1.0", "releases/roadside-3.0.0"]);
    expect(calls().slice(-4)).toEqual([
      "restart roadside -> roadside-3.2.0",
      "daemon-reload -> roadside-3.1.0",
      "restart roadside -> roadside-3.1.0",
      "show -p MainPID --value roadside -> roadside-3.1.0",
    ]);
    expect(broken.stdout).toContain("==> the previous release runs again: MainPID 4");
    expect(
      readdirSync(join(root, "opt/roadside/releases"))
        .map((n) => n.replace(/-linux-.*/, ""))
        .sort(),
    ).toEqual(["roadside-3.0.0", "roadside-3.1.0"]);
    expect(readFileSync(join(root, "etc/systemd/system/roadside.service"), "utf8")).toContain(
      `${root}/opt/roadside/current/bin/roadside.js run`,
    );

    // a release that starts, then is restarted by systemd within --settle: rolled back too
    const flaky = go(tiny("3.3.0", {}, "FLAKY"));
    expect(flaky.status).toBe(1);
    expect(flaky.stderr).toMatch(
      /rolled back to releases\/roadside-3\.1\.0-.*: roadside-3\.3\.0-.* was restarted within 2s of starting \(NRestarts rose from 0\)/,
    );
    expect(link("current")).toBe("releases/roadside-3.1.0");
  });

  it("bad usage exits 2 naming the option", () => {
    const r = sh("bash", [install, "--settle", "soon"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--settle soon: give a whole number of seconds");
    expect(sh("bash", [install, "--frobnicate"]).stderr).toContain("unknown option --frobnicate");
  });
});
