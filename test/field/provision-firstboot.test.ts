import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

/**
 * scripts/firstboot.sh run for real, as root, with its real useradd, install and chown, against
 * this machine's /etc and /var seen through overlays in a private mount namespace: every change
 * lands in a temporary upper folder, which the test then inspects. Only the bundle's install.sh is
 * a stub (it records how it was called and what it found in place): the virtual device's suite
 * (npm run test:device) runs the real one under systemd.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BUNDLE = "roadside-0.1.0-linux-x64-node20";

const STUB = `#!/usr/bin/env bash
{
  echo "args: $*"
  echo "user: $(id -un roadside 2>/dev/null || echo missing)"
  stat -c 'config: %U:%G %a' /etc/roadside/device.yaml
  stat -c 'ca: %U:%G %a' /etc/roadside/ca.pem
  stat -c 'secret: %U:%G %a' /etc/roadside/secrets/broker.pw
  echo "password: $(cat /etc/roadside/secrets/broker.pw)"
} >>/var/lib/install-stub.log 2>&1
echo "==> stub install done"
exit "\${STUB_EXIT:-0}"
`;

interface Rig {
  root: string;
  seed: string;
  /** Upper folders of the /etc and /var overlays: what the script changed. */
  etc: string;
  var: string;
}

function rig(): Rig {
  const root = mkdtempSync(join(tmpdir(), "roadside-firstboot-"));
  const seed = join(root, "bootfs", "roadside");
  mkdirSync(join(seed, "etc", "secrets"), { recursive: true });
  writeFileSync(join(seed, "etc", "device.yaml"), "device: { id: pole-1, board: sim }\n");
  writeFileSync(join(seed, "etc", "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
  writeFileSync(join(seed, "etc", "secrets", "broker.pw"), "hunter2\n");
  copyFileSync(join(ROOT, "scripts", "firstboot.sh"), join(seed, "firstboot.sh"));
  const b = join(root, "b", BUNDLE, "scripts");
  mkdirSync(b, { recursive: true });
  writeFileSync(join(b, "install.sh"), STUB);
  const tar = spawnSync("tar", ["-czf", join(seed, `${BUNDLE}.tar.gz`), "-C", join(root, "b"), BUNDLE]);
  expect(tar.status).toBe(0);
  writeFileSync(join(seed, `${BUNDLE}.tar.gz.sha256`), `${"0".repeat(64)}  ${BUNDLE}.tar.gz\n`);
  for (const d of ["eu", "ew", "vu", "vw"]) mkdirSync(join(root, d));
  return { root, seed, etc: join(root, "eu"), var: join(root, "vu") };
}

/** Run firstboot.sh in a private mount namespace with /etc and /var overlaid onto the rig's folders. */
function firstboot(r: Rig, args: string[] = [], env: Record<string, string> = {}): { code: number | null; out: string } {
  const script = [
    "set -e",
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${r.root}/eu,workdir=${r.root}/ew /etc`,
    `mount -t overlay overlay -o lowerdir=/var,upperdir=${r.root}/vu,workdir=${r.root}/vw /var`,
    "set +e",
    `bash ${r.seed}/firstboot.sh ${args.join(" ")}`,
  ].join("\n");
  const p = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", script], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  if (p.error) throw new Error(`unshare (util-linux) is needed to run firstboot.sh in a private mount namespace: ${p.error.message}`);
  return { code: p.status, out: `${p.stdout}${p.stderr}` };
}

function account(r: Rig, file: "passwd" | "group", name: string): number {
  const row = readFileSync(join(r.etc, file), "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!row) throw new Error(`no ${name} in the overlay's /etc/${file}`);
  return Number(row.split(":")[2]);
}

const own = (p: string): [number, number, string] => {
  const s = statSync(p);
  return [s.uid, s.gid, (s.mode & 0o777).toString(8)];
};

describe("scripts/firstboot.sh", () => {
  if (process.getuid?.() !== 0)
    throw new Error("these tests run firstboot.sh as root (useradd, chown, mount namespaces): run them as root, as CI does");

  it("is shellcheck-clean and parses", () => {
    const sc = spawnSync("shellcheck", [join(ROOT, "scripts", "firstboot.sh")], { encoding: "utf8" });
    if (sc.error) throw new Error("shellcheck is not installed: apt-get install shellcheck");
    expect(sc.stdout + sc.stderr).toBe("");
    expect(spawnSync("bash", ["-n", join(ROOT, "scripts", "firstboot.sh")]).status).toBe(0);
  });

  it("creates the user, places config and secrets with their owners before install.sh --enable runs, deletes the secrets from the card, and runs once", () => {
    const r = rig();
    const first = firstboot(r);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain("creating system user roadside");
    expect(first.out).toContain("placed /etc/roadside/device.yaml (root:roadside 0640)");
    expect(first.out).toContain("placed /etc/roadside/secrets/broker.pw (roadside:roadside 0600)");
    expect(first.out).toContain("deleted the secrets from the boot partition");
    expect(first.out).toContain("  ==> stub install done");
    const uid = account(r, "passwd", "roadside");
    const gid = account(r, "group", "roadside");
    expect(own(join(r.etc, "roadside"))).toEqual([0, gid, "770"]);
    expect(own(join(r.etc, "roadside", "device.yaml"))).toEqual([0, gid, "640"]);
    expect(own(join(r.etc, "roadside", "ca.pem"))).toEqual([0, gid, "640"]);
    expect(own(join(r.etc, "roadside", "secrets"))).toEqual([0, gid, "750"]);
    expect(own(join(r.etc, "roadside", "secrets", "broker.pw"))).toEqual([uid, gid, "600"]);
    // what install.sh found when it ran: the user, the files in place with their owners
    expect(readFileSync(join(r.var, "lib", "install-stub.log"), "utf8")).toBe(
      [
        `args: --bundle ${r.seed}/${BUNDLE}.tar.gz --enable`,
        "user: roadside",
        "config: root:roadside 640",
        "ca: root:roadside 640",
        "secret: roadside:roadside 600",
        "password: hunter2",
        "",
      ].join("\n"),
    );
    // the card: secrets gone, config and bundle still there, a log for whoever pulls it
    expect(existsSync(join(r.seed, "etc", "secrets"))).toBe(false);
    expect(existsSync(join(r.seed, "etc", "device.yaml"))).toBe(true);
    expect(readFileSync(join(r.seed, "firstboot.log"), "utf8")).toContain("done: roadside is installed and running");
    expect(readFileSync(join(r.var, "log", "roadside-firstboot.log"), "utf8")).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ roadside first boot from /,
    );
    expect(readFileSync(join(r.var, "lib", "roadside", "firstboot.done"), "utf8")).toMatch(
      new RegExp(`^done \\S+ with ${BUNDLE}\\.tar\\.gz\\n$`),
    );

    const again = firstboot(r);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/already done \(done \S+ with roadside-.*\); nothing to do/);
    expect(readFileSync(join(r.var, "lib", "install-stub.log"), "utf8").match(/^args:/gm)).toHaveLength(1);
  });

  it("when install.sh fails: exit 1, no marker, the log on the card; --again after the fix keeps the placed secrets", () => {
    const r = rig();
    const failed = firstboot(r, [], { STUB_EXIT: "1" });
    expect(failed.code).toBe(1);
    expect(failed.out).toContain("FAILED: install.sh exited 1");
    expect(existsSync(join(r.var, "lib", "roadside", "firstboot.done"))).toBe(false);
    expect(readFileSync(join(r.seed, "firstboot.log"), "utf8")).toContain("FAILED: install.sh exited 1");
    const retry = firstboot(r, ["--again"]);
    expect(retry.code, retry.out).toBe(0);
    expect(retry.out).toContain("user roadside exists");
    expect(readFileSync(join(r.etc, "roadside", "secrets", "broker.pw"), "utf8")).toBe("hunter2\n");
    expect(existsSync(join(r.var, "lib", "roadside", "firstboot.done"))).toBe(true);
  });

  it("runs from what `roadside provision --seed` wrote: the service user can read the config and its secret, nobody else can", async () => {
    const r = rig();
    // a card seeded by provision, with the rig's stub bundle
    const card = join(r.root, "card");
    mkdirSync(card);
    writeFileSync(join(card, "config.txt"), "\n");
    const bundle = join(r.root, "bundle", `${BUNDLE}.tar.gz`);
    mkdirSync(join(r.root, "bundle"));
    copyFileSync(join(r.seed, `${BUNDLE}.tar.gz`), bundle);
    const sum = spawnSync("sha256sum", [`${BUNDLE}.tar.gz`], { cwd: join(r.root, "bundle"), encoding: "utf8" });
    writeFileSync(`${bundle}.sha256`, sum.stdout);
    writeFileSync(join(r.root, "broker.pw"), "hunter2\n");
    writeFileSync(join(r.root, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    const p = spawnSync(
      process.execPath,
      [
        join(ROOT, "bin", "roadside.js"),
        "provision",
        "--id",
        "pole-1",
        "--board",
        "sim",
        "--broker",
        "mqtts://10.0.2.2:8883",
        "--username",
        "pole-1",
        "--password-file",
        join(r.root, "broker.pw"),
        "--ca",
        join(r.root, "ca.pem"),
        "--seed",
        card,
        "--bundle",
        bundle,
      ],
      { encoding: "utf8" },
    );
    expect(p.status, p.stderr).toBe(0);
    const seeded: Rig = { ...r, seed: join(card, "roadside") };
    const check = [
      `bash ${seeded.seed}/firstboot.sh >/dev/null`,
      `${process.execPath} ${join(ROOT, "bin", "roadside.js")} validate /etc/roadside/device.yaml`,
      "setpriv --reuid=roadside --regid=roadside --init-groups cat /etc/roadside/device.yaml /etc/roadside/ca.pem /etc/roadside/secrets/broker.pw >/dev/null && echo service-reads",
      "setpriv --reuid=nobody --regid=nogroup --clear-groups cat /etc/roadside/secrets/broker.pw 2>/dev/null || echo others-cannot",
    ].join("\n");
    const res = spawnSync(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "bash",
        "-c",
        [
          `mount -t overlay overlay -o lowerdir=/etc,upperdir=${r.root}/eu,workdir=${r.root}/ew /etc`,
          `mount -t overlay overlay -o lowerdir=/var,upperdir=${r.root}/vu,workdir=${r.root}/vw /var`,
          check,
        ].join("\n"),
      ],
      { encoding: "utf8" },
    );
    expect(res.stdout + res.stderr).toContain("/etc/roadside/device.yaml: ok (device pole-1 on");
    expect(res.stdout).toContain("service-reads");
    expect(res.stdout).toContain("others-cannot");
    expect(parse(readFileSync(join(r.etc, "roadside", "device.yaml"), "utf8"))).toMatchObject({
      mqtt: { passwordFile: "/etc/roadside/secrets/broker.pw", tls: { ca: "/etc/roadside/ca.pem" } },
    });
    expect(existsSync(join(card, "roadside", "etc", "secrets"))).toBe(false);
  });

  it("refuses a seed without a bundle or a config, saying what to do", () => {
    const r = rig();
    spawnSync("rm", [join(r.seed, `${BUNDLE}.tar.gz`)]);
    const res = firstboot(r);
    expect(res.code).toBe(1);
    expect(res.out).toContain("FAILED: expected one roadside-*.tar.gz in");
    expect(res.out).toContain("write the card again with roadside provision --seed");
  });
});
