import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildBundle, findFiles, MACHINE, parseInfo, readElf, ROOT, sh, sizeMiB, VERSION } from "./bundle-helpers.js";

// A bundle for a 64-bit Raspberry Pi built on this machine: better-sqlite3 and serialport 8 are
// cross-compiled with Debian's aarch64 toolchain (minutes the first time, then cached in
// ~/.cache/roadside-bundle), the rest comes from the packages' arm64 prebuilds and npm.
const work = mkdtempSync(join(tmpdir(), "roadside-bundle-arm64-"));
const out = join(work, "out");
const have = (cmd: string): boolean => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
let built: ReturnType<typeof buildBundle>;
let app = "";

beforeAll(() => {
  built = buildBundle("arm64", out);
  if (built.status === 0) {
    const x = join(work, "unpacked");
    mkdirSync(x);
    sh("tar", ["-xzf", join(out, `${built.name}.tar.gz`), "-C", x]);
    app = join(x, built.name);
    console.log(
      `arm64 bundle: ${sizeMiB(join(out, `${built.name}.tar.gz`))} MiB, .deb ${sizeMiB(join(out, `roadside_${VERSION}_arm64.deb`))} MiB`,
    );
  }
}, 1_200_000);

describe("scripts/bundle.sh --arch arm64 on this machine", () => {
  it("writes an arm64 tarball and an arm64 .deb", () => {
    expect(built.status, built.stderr).toBe(0);
    expect(built.name).toBe(`roadside-${VERSION}-linux-arm64-node20`);
    expect(readdirSync(out).sort()).toEqual(
      [`${built.name}.tar.gz`, `${built.name}.tar.gz.sha256`, `roadside_${VERSION}_arm64.deb`].sort(),
    );
    expect(parseInfo(readFileSync(join(app, "BUNDLE-INFO"), "utf8"))).toMatchObject({
      arch: "arm64",
      deb_arch: "arm64",
      node: "20.20.2",
      node_abi: "115",
      node_bundled: "yes",
    });
    expect(sh("dpkg-deb", ["-f", join(out, `roadside_${VERSION}_arm64.deb`), "Architecture"]).stdout.trim()).toBe("arm64");
    expect(readdirSync(join(app, "debs")).sort()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^gpiod_.*_arm64\.deb$/), expect.stringMatching(/^libgpiod2_.*_arm64\.deb$/)]),
    );
  });

  it("every .node file and the bundled node are 64-bit aarch64 ELF files; only arm64 prebuilds are kept", () => {
    const natives = [...findFiles(app, ".node"), join(app, "runtime/node/bin/node")];
    expect(natives.map((f) => f.slice(app.length + 1))).toEqual(
      expect.arrayContaining(["node_modules/better-sqlite3/build/Release/better_sqlite3.node", "runtime/node/bin/node"]),
    );
    for (const f of natives) expect(readElf(f), f).toEqual({ machine: MACHINE.arm64, bits: 64 });
    expect(readdirSync(join(app, "node_modules/@serialport/bindings-cpp/prebuilds"))).toEqual(["linux-arm64"]);
    expect(readdirSync(join(app, "node_modules/@cbor-extract"))).toEqual(["cbor-extract-linux-arm64"]);
  });

  it.skipIf(process.arch === "arm64")("install.sh on this machine refuses it, naming both architectures", () => {
    const r = sh("bash", [join(ROOT, "scripts/install.sh"), "--bundle", join(out, `${built.name}.tar.gz`), "--dry-run"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${built.name}.tar.gz is for linux-arm64, this device is linux-${process.arch}`);
  });

  // qemu-user runs the aarch64 node on this machine with Debian's aarch64 libc (the cross toolchain's)
  it.skipIf(process.arch === "arm64" || !have("qemu-aarch64-static"))(
    "under qemu-aarch64, the bundled node loads the cross-compiled better-sqlite3, serialport's and cbor-extract's binaries",
    () => {
      const script = [
        "const D = require('better-sqlite3');",
        "const db = new D(':memory:'); db.exec('create table t(x)'); db.prepare('insert into t values (?)').run(41);",
        "const x = db.prepare('select x + 1 as y from t').get().y;",
        "const serial = require('node-gyp-build')(require('path').dirname(require.resolve('@serialport/bindings-cpp/package.json')));",
        "const cbor = require('cbor-extract');",
        "console.log(JSON.stringify({ arch: process.arch, x, serial: typeof serial.open, cbor: typeof cbor.extractStrings }));",
      ].join("\n");
      const r = sh("qemu-aarch64-static", ["-L", "/usr/aarch64-linux-gnu", join(app, "runtime/node/bin/node"), "-e", script], { cwd: app });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim())).toEqual({ arch: "arm64", x: 42, serial: "function", cbor: "function" });
    },
  );

  // poisoned with this machine's own (x86-64) addons: on an arm64 machine they would be the right ones
  it.skipIf(process.arch !== "x64")(
    "stops with the file named when a .node file of another machine would go in (a poisoned addon cache)",
    () => {
      // a cache whose compiled addons are this machine's x86-64 ones under arm64's key: the ELF check must catch it
      const real =
        process.env["ROADSIDE_BUNDLE_CACHE"] ?? join(process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache"), "roadside-bundle");
      const cache = join(work, "poisoned-cache");
      mkdirSync(join(cache, "addons"), { recursive: true });
      for (const d of ["npm", "node"]) symlinkSync(join(real, d), join(cache, d));
      const ver = (p: string): string =>
        (JSON.parse(readFileSync(join(ROOT, "node_modules", p, "package.json"), "utf8")) as { version: string }).version;
      for (const [pkg, key] of [
        ["better-sqlite3", "better-sqlite3"],
        ["@serialport/bindings", "@serialport+bindings"],
      ] as const) {
        const dir = join(cache, "addons", `${key}-${ver(pkg)}-linux-arm64-abi115`);
        mkdirSync(dir);
        for (const f of readdirSync(join(ROOT, "node_modules", pkg, "build/Release")).filter(
          (n) => n.endsWith(".node") && !n.startsWith("test_"),
        )) {
          copyFileSync(join(ROOT, "node_modules", pkg, "build/Release", f), join(dir, f));
        }
      }
      const r = sh(
        "bash",
        [join(ROOT, "scripts/bundle.sh"), "--no-build", "--no-debs", "--arch", "arm64", "--output", join(work, "poisoned-out")],
        {
          env: { ...process.env, ROADSIDE_BUNDLE_CACHE: cache },
        },
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /node_modules\/better-sqlite3\/build\/Release\/better_sqlite3\.node: built for x86-64 \(64-bit\), the target is aarch64 \(64-bit\)/,
      );
      expect(r.stderr).toContain("native addons above do not match linux-arm64: not bundling them");
      expect(() => readdirSync(join(work, "poisoned-out"))).toThrow();
    },
  );
});
