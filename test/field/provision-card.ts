import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Cards and bundles for the provision --seed tests. */

export const IMAGER = fileURLToPath(new URL("../fixtures/imager/", import.meta.url));

/** A bundle as scripts/bundle.sh writes it (tarball + sha256sum file); its content does not matter here. */
export function fakeBundle(where: string, arch = "arm64", content = "v1"): string {
  const name = `roadside-0.1.0-linux-${arch}-node20`;
  const src = mkdtempSync(join(tmpdir(), "roadside-fake-bundle-"));
  mkdirSync(join(src, name, "scripts"), { recursive: true });
  writeFileSync(join(src, name, "scripts", "install.sh"), `echo ${content}\n`);
  writeFileSync(join(src, name, "BUNDLE-INFO"), `version=0.1.0\narch=${arch}\n`);
  mkdirSync(where, { recursive: true });
  const file = join(where, `${name}.tar.gz`);
  if (spawnSync("tar", ["-czf", file, "-C", src, name]).status !== 0) throw new Error(`tar could not make ${file}`);
  const sum = createHash("sha256").update(readFileSync(file)).digest("hex");
  writeFileSync(`${file}.sha256`, `${sum}  ${name}.tar.gz\n`);
  return file;
}

/** A boot partition as Raspberry Pi Imager leaves it: firmware files plus its cloud-init seed. */
export function imagerCard(where: string, userData = "user-data-2.0.3"): string {
  mkdirSync(where, { recursive: true });
  writeFileSync(join(where, "config.txt"), "dtparam=audio=on\ncamera_auto_detect=1\n");
  writeFileSync(
    join(where, "cmdline.txt"),
    "console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait ds=nocloud;i=rpi-imager-1764000000000\n",
  );
  copyFileSync(join(IMAGER, userData), join(where, "user-data"));
  copyFileSync(join(IMAGER, "network-config"), join(where, "network-config"));
  copyFileSync(join(IMAGER, "meta-data"), join(where, "meta-data"));
  return where;
}
