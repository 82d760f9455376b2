import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildBundle, findFiles, MACHINE, parseInfo, readElf, ROOT, sh, sizeMiB, VERSION } from "./bundle-helpers.js";

// One x64 bundle (this machine's kind and the virtual device's), built once for the whole file:
// scripts/bundle.sh and scripts/install.sh as a technician runs them. The cross build (arm64) is
// test/field/bundle-cross.test.ts; install with systemd (restart, rollback) is the virtual device's
// suite (test/device).
const work = mkdtempSync(join(tmpdir(), "roadside-bundle-"));
const out = join(work, "out");
const install = join(ROOT, "scripts/install.sh");
let built: ReturnType<typeof buildBundle>;
let tarball = "";
let unpacked = "";

beforeAll(() => {
  built = buildBundle("x64", out);
  tarball = join(out, `${built.name}.tar.gz`);
  if (built.status === 0) {
    unpacked = join(work, "unpacked");
    mkdirSync(unpacked);
    sh("tar", ["-xzf", tarball, "-C", unpacked]);
    console.log(`x64 bundle: ${sizeMiB(tarball)} MiB, .deb ${sizeMiB(join(out, `roadside_${VERSION}_amd64.deb`))} MiB`);
  }
}, 600_000);

const app = (): string => join(unpacked, built.name);

describe("scripts/bundle.sh --arch x64", () => {
  it("writes the tarball, its .sha256 and the .deb, showing its steps", () => {
    expect(built.status, built.stderr).toBe(0);
    expect(built.stderr).toMatch(/\[1\/9\][\s\S]*\[5\/9\] native addons for linux-x64[\s\S]*\[9\/9\] building roadside_/);
    expect(built.stdout).toContain(`wrote ${tarball}`);
    expect(readdirSync(out).sort()).toEqual(
      [`${built.name}.tar.gz`, `${built.name}.tar.gz.sha256`, `roadside_${VERSION}_amd64.deb`].sort(),
    );
    expect(readFileSync(`${tarball}.sha256`, "utf8")).toMatch(new RegExp(`^[0-9a-f]{64}  ${built.name}\\.tar\\.gz\\n$`));
    expect(sh("sha256sum", ["-c", `${built.name}.tar.gz.sha256`], { cwd: out }).status).toBe(0);
  });

  it("holds the app, production packages only, Node.js, gpiod and BUNDLE-INFO under one top folder", () => {
    const list = sh("tar", ["-tzf", tarball]).stdout.trim().split("\n");
    expect(list.filter((f) => !f.startsWith(`${built.name}/`))).toEqual([]);
    for (const f of [
      "package.json",
      "bin/roadside.js",
      "dist/cli/main.js",
      "dist/app/main.js",
      "boards/raspberry-pi-5.json",
      "docs/field-guide.md",
      "scripts/install.sh",
      "BUNDLE-INFO",
      "runtime/node/bin/node",
      "runtime/node/LICENSE",
      "node_modules/mqtt/package.json",
      "node_modules/better-sqlite3/build/Release/better_sqlite3.node",
      "node_modules/@cbor-extract/cbor-extract-linux-x64/package.json",
    ]) {
      expect(list, f).toContain(`${built.name}/${f}`);
    }
    if (existsSync(join(ROOT, "scripts/firstboot.sh"))) expect(list).toContain(`${built.name}/scripts/firstboot.sh`);
    for (const deb of ["gpiod_", "libgpiod2_", "i2c-tools_", "libi2c0_"])
      expect(
        list.some((f) => f.startsWith(`${built.name}/debs/${deb}`) && f.endsWith("_amd64.deb")),
        deb,
      ).toBe(true);
    for (const dev of ["vitest", "typescript", "@types/better-sqlite3"])
      expect(
        list.some((f) => f.startsWith(`${built.name}/node_modules/${dev}/`)),
        dev,
      ).toBe(false);
    // no compiler leftovers, no tests or source maps
    expect(list.filter((f) => /better-sqlite3\/(deps|src)\/|obj\.target|test_extension/.test(f))).toEqual([]);
    expect(list.filter((f) => f.startsWith(`${built.name}/dist/`) && /\.test\.js$|\.map$/.test(f))).toEqual([]);

    const info = parseInfo(readFileSync(join(app(), "BUNDLE-INFO"), "utf8"));
    expect(Object.keys(info).sort()).toEqual([
      "arch",
      "built",
      "commit",
      "deb_arch",
      "glibc",
      "name",
      "node",
      "node_abi",
      "node_bundled",
      "version",
    ]);
    expect(info).toMatchObject({
      name: built.name,
      version: VERSION,
      arch: "x64",
      node: "20.20.2",
      node_abi: "115",
      deb_arch: "amd64",
      node_bundled: "yes",
    });
    expect(info["glibc"]).toMatch(/^2\.\d+$/);
    expect(info["built"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(info["commit"]).toMatch(/^[0-9a-f]{7,}$|^unknown$/);
  });

  it("every native file is an x86-64 ELF, and only the linux-x64 prebuilds are kept", () => {
    const natives = [...findFiles(app(), ".node"), join(app(), "runtime/node/bin/node")];
    expect(natives.length).toBeGreaterThanOrEqual(4);
    for (const f of natives) expect(readElf(f), f).toEqual({ machine: MACHINE.x64, bits: 64 });
    expect(readdirSync(join(app(), "node_modules/@serialport/bindings-cpp/prebuilds"))).toEqual(["linux-x64"]);
    expect(readdirSync(join(app(), "node_modules/@cbor-extract"))).toEqual(["cbor-extract-linux-x64"]);
    // the reader itself tells machines apart: a non-ELF file is not taken for one
    expect(readElf(join(app(), "package.json"))).toBeUndefined();
  });

  it("unpacked alone, it runs on its own Node.js 20 with its native addons", () => {
    const node = join(app(), "runtime/node/bin/node");
    expect(sh(node, ["--version"]).stdout.trim()).toBe("v20.20.2");
    const sqlite = sh(node, [
      "-e",
      "const D = require(process.argv[1]); const db = new D(':memory:'); console.log(db.prepare('select 6*7 as x').get().x)",
      join(app(), "node_modules/better-sqlite3"),
    ]);
    expect(sqlite.stdout.trim(), sqlite.stderr).toBe("42");
    const v = sh(node, [join(app(), "bin/roadside.js"), "--version"]);
    expect(v.stdout.trim(), v.stderr).toBe(VERSION);
    const cfg = join(work, "sim-1.yaml");
    writeFileSync(cfg, "device: { id: sim-1, board: sim }\ninputs: { a: { line: GPIO17 } }\ndetectors: { lane1: { loops: [a] } }\n");
    const val = sh(node, [join(app(), "bin/roadside.js"), "validate", cfg], { cwd: work });
    expect(val.status, val.stderr).toBe(0);
  });

  it("the .deb: same app in /usr/lib/roadside, Depends on nodejs 20 and gpiod, the unit and maintainer scripts", () => {
    const deb = join(out, `roadside_${VERSION}_amd64.deb`);
    const field = (f: string): string => sh("dpkg-deb", ["-f", deb, f]).stdout.trim();
    expect(field("Package")).toBe("roadside");
    expect(field("Version")).toBe(VERSION);
    expect(field("Architecture")).toBe("amd64");
    expect(field("Depends")).toMatch(/^nodejs \(>= 20\), nodejs \(<< 21\), gpiod, i2c-tools, passwd, libc6 \(>= 2\.\d+\)$/);
    const contents = sh("dpkg-deb", ["--contents", deb]).stdout;
    for (const f of [
      "./usr/bin/roadside",
      "./lib/systemd/system/roadside.service",
      "./lib/udev/rules.d/60-roadside-gpio.rules",
      "./usr/lib/roadside/bin/roadside.js",
      "./usr/lib/roadside/node_modules/better-sqlite3/build/Release/better_sqlite3.node",
    ]) {
      expect(contents, f).toContain(` ${f}`);
    }
    expect(contents).not.toMatch(/usr\/lib\/roadside\/(runtime|debs)\//);
    expect(contents).toMatch(/^-rwxr-xr-x root\/root .* \.\/usr\/bin\/roadside$/m);

    const x = join(work, "deb");
    expect(sh("dpkg-deb", ["-R", deb, x]).status).toBe(0);
    const unit = readFileSync(join(x, "lib/systemd/system/roadside.service"), "utf8");
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/node \/usr\/lib\/roadside\/bin\/roadside\.js run --config \/etc\/roadside\/device\.yaml$/m,
    );
    expect(unit).toMatch(/^SupplementaryGroups=gpio dialout i2c$/m);
    expect(unit).toMatch(/^ReadWritePaths=\/etc\/roadside$/m);
    expect(unit).not.toContain(ROOT);
    expect(unit).not.toContain(tmpdir());
    expect(readFileSync(join(x, "usr/bin/roadside"), "utf8")).toBe(
      '#!/bin/sh\nexec /usr/bin/node /usr/lib/roadside/bin/roadside.js "$@"\n',
    );
    const postinst = readFileSync(join(x, "DEBIAN/postinst"), "utf8");
    expect(postinst).toMatch(/useradd --system --user-group/);
    expect(postinst).toMatch(/install -d -m 0770 -o root -g roadside \/etc\/roadside/);
    expect(postinst).toMatch(/systemctl enable roadside[\s\S]*systemctl restart roadside/);
    expect(readFileSync(join(x, "DEBIAN/prerm"), "utf8")).toMatch(
      /"\$1" = remove[\s\S]*systemctl stop roadside[\s\S]*systemctl disable roadside/,
    );
    const postrm = readFileSync(join(x, "DEBIAN/postrm"), "utf8");
    expect(postrm).toMatch(/purge\)[\s\S]*rm -rf \/etc\/roadside \/var\/lib\/roadside/);
    expect(postrm).not.toMatch(/remove\)[^;]*rm -rf/);
    for (const s of ["postinst", "prerm", "postrm"]) {
      expect(statSync(join(x, "DEBIAN", s)).mode & 0o777, s).toBe(0o755);
      expect(sh("sh", ["-n", join(x, "DEBIAN", s)]).status, s).toBe(0);
    }
  });
});

describe("scripts/install.sh", () => {
  const sum = (): string => readFileSync(`${tarball}.sha256`, "utf8").split(" ")[0]!;
  /** A folder holding the bundle (a symlink to it) and, when given, a .sha256 beside it. */
  function place(dir: string, sha256?: string): string {
    const d = join(work, dir);
    mkdirSync(d, { recursive: true });
    const f = join(d, basename(tarball));
    symlinkSync(tarball, f);
    if (sha256 !== undefined) writeFileSync(`${f}.sha256`, `${sha256}  ${basename(tarball)}\n`);
    return f;
  }
  const run = (args: string[]): ReturnType<typeof sh> => sh("bash", [install, ...args]);

  it("refuses a bundle with no .sha256 beside it, also with --dry-run, and names the way out", () => {
    const f = place("no-sum");
    for (const extra of [[], ["--dry-run"]]) {
      const r = run(["--bundle", f, "--root", join(work, "root-refused"), ...extra]);
      expect(r.status, r.stdout).toBe(1);
      expect(r.stderr).toContain(`refusing ${f}: no ${basename(f)}.sha256 beside it`);
      expect(r.stderr).toContain("--skip-checksum");
    }
    expect(existsSync(join(work, "root-refused/opt"))).toBe(false);
  });

  it("refuses a bundle whose sha256 does not match, also with --dry-run; --skip-checksum lets it through", () => {
    const wrong = "0".repeat(64);
    const f = place("bad-sum", wrong);
    for (const extra of [[], ["--dry-run"]]) {
      const r = run(["--bundle", f, "--root", join(work, "root-refused"), ...extra]);
      expect(r.status, r.stdout).toBe(1);
      expect(r.stderr).toContain(`its sha256 is ${sum()}, ${basename(f)}.sha256 says ${wrong}`);
    }
    // a damaged copy (cut short) with the right .sha256 is refused too
    const cut = join(work, "cut", basename(tarball));
    mkdirSync(join(work, "cut"));
    writeFileSync(cut, readFileSync(tarball).subarray(0, 1 << 20));
    copyFileSync(`${tarball}.sha256`, `${cut}.sha256`);
    expect(run(["--bundle", cut, "--dry-run"]).stderr).toMatch(/refusing .*: its sha256 is [0-9a-f]{64}, .* says/);

    const skip = run(["--bundle", f, "--dry-run", "--skip-checksum", "--prefix", join(work, "skip-prefix")]);
    expect(skip.status, skip.stderr).toBe(0);
    expect(skip.stderr).toContain("not checking");
    expect(skip.stdout).toContain("done (dry run): nothing was changed");
  });

  it("--dry-run checks the bundle and prints the plan: release folder, atomic switch of current, the unit by the new release", () => {
    const prefix = join(work, "dry-prefix");
    const r = run(["--bundle", tarball, "--dry-run", "--prefix", prefix]);
    expect(r.status, r.stderr).toBe(0);
    const rel = `${built.name}-${sum().slice(0, 8)}`;
    expect(r.stdout).toContain(`==> checksum of ${basename(tarball)} matches its .sha256`);
    expect(r.stdout).toMatch(new RegExp(`==> bundle ${built.name} \\(roadside ${VERSION}, linux-x64, Node.js 20.20.2 bundled`));
    expect(r.stdout).toContain(`+ tar -xzf ${tarball} -C ${prefix}/releases/${rel}.tmp --strip-components=1`);
    expect(r.stdout).toContain(`+ ln -sfn releases/${rel} ${prefix}/current.new\n+ mv -T ${prefix}/current.new ${prefix}/current`);
    expect(r.stdout).toContain(
      `install --node ${prefix}/current/runtime/node/bin/node --app-dir ${prefix}/current --config /etc/roadside/device.yaml --output /etc/systemd/system/roadside.service`,
    );
    expect(r.stdout).toContain("done (dry run): nothing was changed");
    expect(existsSync(prefix)).toBe(false);
  });

  it("installs into a root folder: release, current link, a roadside command and a unit that run the bundled Node.js; again is a no-op", () => {
    const root = join(work, "root");
    const r = run(["--bundle", tarball, "--root", root]);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const rel = `${built.name}-${sum().slice(0, 8)}`;
    expect(readlinkSync(join(root, "opt/roadside/current"))).toBe(`releases/${rel}`);
    expect(existsSync(join(root, "opt/roadside/previous"))).toBe(false);
    expect(statSync(join(root, "etc/roadside")).mode & 0o777).toBe(0o770);
    const cmd = join(root, "usr/local/bin/roadside");
    expect(sh(cmd, ["--version"]).stdout.trim()).toBe(VERSION);
    expect(readFileSync(cmd, "utf8")).toContain(`node=${root}/opt/roadside/current/runtime/node/bin/node`);
    const unit = readFileSync(join(root, "etc/systemd/system/roadside.service"), "utf8");
    expect(unit).toContain(
      `ExecStart=${root}/opt/roadside/current/runtime/node/bin/node ${root}/opt/roadside/current/bin/roadside.js run --config ${root}/etc/roadside/device.yaml`,
    );
    expect(r.stdout).toMatch(/skipped under --root: useradd --system/);

    const again = run(["--bundle", tarball, "--root", root]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`release ${rel} is already unpacked`);
    expect(readdirSync(join(root, "opt/roadside/releases"))).toEqual([rel]);
  });
});
