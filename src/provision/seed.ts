import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  openSync,
  readSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { Placement } from "./files.js";
import { SECRETS_DIR } from "./files.js";
import { mergeUserData, SEED_FOLDER } from "./userdata.js";

/**
 * `roadside provision --seed DIR`: the first-boot seed on a card's boot partition (the FAT
 * "bootfs", mounted at /boot/firmware on the device). Layout (docs/field-guide.md, "First boot"):
 *
 *   DIR/user-data                    Imager's cloud-config + one runcmd entry that runs firstboot.sh
 *   DIR/meta-data                    only written when missing (NoCloud needs one)
 *   DIR/roadside/firstboot.sh        places etc/ in /etc/roadside, runs the bundle's install.sh
 *   DIR/roadside/roadside-….tar.gz   the offline bundle for the board's architecture (+ .sha256)
 *   DIR/roadside/etc/device.yaml     the config; it names its files by their final /etc/roadside paths
 *   DIR/roadside/etc/…               public files; secrets under etc/secrets/ (deleted after first boot)
 *
 * DIR/network-config (Imager's Wi-Fi) is never touched.
 */

/** Where the seed's etc/ ends up on the device. */
export const DEVICE_ETC = "/etc/roadside";

/** CPU architectures of bundles, as scripts/bundle.sh names them (--arch) and as Node names them (file names). */
export const ARCHES = { arm64: "arm64", armhf: "arm", x64: "x64" } as const;
export type Arch = keyof typeof ARCHES;

/** Raspberry Pi OS comes in 64-bit (arm64, the default since 2023) and 32-bit (armhf) builds for these boards. */
const PI_ARCHES: readonly Arch[] = ["arm64", "armhf"];

/** The architectures a board can run, the first being the default; undefined: any (simulated boards). */
export function boardArches(board: string): readonly Arch[] | undefined {
  if (board.startsWith("raspberry-pi-")) return PI_ARCHES;
  if (board === "virtual-device") return ["x64"];
  return undefined;
}

export function hostArch(): Arch {
  return process.arch === "arm64" ? "arm64" : process.arch === "arm" ? "armhf" : "x64";
}

export class SeedError extends Error {
  constructor(
    message: string,
    /** 2: bad usage or input (the technician can fix the command); 1: something failed. */
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
  }
}

export interface SeedInput {
  dir: string;
  force: boolean;
  board: string;
  /** Device id, for meta-data's instance-id. */
  id: string;
  /** The config text, paths already pointing at DEVICE_ETC. */
  configText: string;
  placements: readonly Placement[];
  /** A bundle already built (with its .sha256 beside it). */
  bundle?: string | undefined;
  arch?: string | undefined;
  /** The app's folder: scripts/firstboot.sh and (in a checkout) scripts/bundle.sh are there. */
  appDir: string;
  /** Progress lines for the technician (bundle.sh's output goes here too). */
  log: (line: string) => void;
}

export interface SeedResult {
  bundle: string;
  userData: "created" | "merged";
  metaData: "created" | "kept";
  files: string[];
}

/** sha256 of a file, read in 1 MiB chunks (a bundle with Node.js in it is tens of MB). */
function sha256(file: string): string {
  const h = createHash("sha256");
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(file, "r");
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/** Parse `HASH  name` (sha256sum format). */
function readSum(file: string): string | undefined {
  const m = /^([0-9a-f]{64})\s/i.exec(readFileSync(file, "utf8"));
  return m ? m[1]!.toLowerCase() : undefined;
}

/** The architecture in a bundle's file name (roadside-VERSION-linux-ARCH-nodeN.tar.gz), if it has one. */
export function bundleArch(file: string): Arch | undefined {
  const m = /-linux-(arm64|arm|x64)-node\d+\.tar\.gz$/.exec(basename(file));
  if (!m) return undefined;
  return (Object.keys(ARCHES) as Arch[]).find((a) => ARCHES[a] === m[1]);
}

function looksLikeBootPartition(dir: string): boolean {
  return ["config.txt", "cmdline.txt", "user-data"].some((f) => existsSync(join(dir, f)));
}

function chooseArch(board: string, arch: string | undefined): Arch {
  const allowed = boardArches(board);
  if (arch !== undefined) {
    if (!(arch in ARCHES)) throw new SeedError(`--arch ${JSON.stringify(arch)}: use arm64, armhf or x64`);
    if (allowed && !allowed.includes(arch as Arch)) throw new SeedError(`--arch ${arch}: ${board} runs ${allowed.join(" or ")}`);
    return arch as Arch;
  }
  return allowed?.[0] ?? hostArch();
}

/** Check a given bundle: its checksum file, its checksum, its architecture against the board. */
function checkBundle(file: string, board: string, arch: string | undefined): void {
  if (arch !== undefined) chooseArch(board, arch);
  if (!existsSync(file) || !statSync(file).isFile())
    throw new SeedError(`--bundle ${file}: no such file; make one with scripts/bundle.sh --arch ${chooseArch(board, arch)}`);
  if (!/\.tar\.gz$/.test(file)) throw new SeedError(`--bundle ${file}: not a .tar.gz bundle; make one with scripts/bundle.sh`);
  const sumFile = `${file}.sha256`;
  if (!existsSync(sumFile))
    throw new SeedError(
      `--bundle ${file}: no ${basename(sumFile)} beside it, so the device could not check it; use the bundle as scripts/bundle.sh wrote it (tarball and .sha256 together)`,
    );
  const want = readSum(sumFile);
  if (want === undefined)
    throw new SeedError(`--bundle ${file}: ${basename(sumFile)} holds no sha256 sum; rebuild the bundle with scripts/bundle.sh`);
  if (sha256(file) !== want)
    throw new SeedError(
      `--bundle ${file}: its sha256 does not match ${basename(sumFile)}: the copy is damaged or incomplete; copy it again`,
    );
  const has = bundleArch(file);
  const allowed = boardArches(board);
  if (has && allowed && !allowed.includes(has))
    throw new SeedError(
      `--bundle ${basename(file)} is for ${has}, but ${board} runs ${allowed.join(" or ")}; build one with scripts/bundle.sh --arch ${allowed[0]}`,
    );
  if (has && arch !== undefined && has !== arch) throw new SeedError(`--bundle ${basename(file)} is for ${has}, not --arch ${arch}`);
}

/** Build a bundle with the checkout's scripts/bundle.sh into a temporary folder. */
function buildBundle(appDir: string, arch: Arch, log: (l: string) => void): string {
  const script = join(appDir, "scripts", "bundle.sh");
  if (!existsSync(script)) {
    throw new SeedError(
      `no --bundle given and this installation cannot build one (no ${script}: an installed roadside carries no build tools); give a bundle built for ${arch} with --bundle FILE (from a checkout: scripts/bundle.sh --arch ${arch})`,
    );
  }
  const out = mkdtempSync(join(tmpdir(), "roadside-seed-bundle-"));
  log(`building the bundle for ${arch}: ${script} --arch ${arch} --output ${out}`);
  const r = spawnSync("bash", [script, "--arch", arch, "--output", out], { cwd: appDir, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0)
    throw new SeedError(
      `scripts/bundle.sh --arch ${arch} failed (exit ${r.status ?? r.signal}); see its output above, or give a bundle with --bundle FILE`,
      1,
    );
  const tarballs = readdirSync(out).filter((f) => f.endsWith(".tar.gz"));
  if (tarballs.length !== 1) throw new SeedError(`scripts/bundle.sh wrote ${tarballs.length} tarballs to ${out}; expected one`, 1);
  return join(out, tarballs[0]!);
}

/** Write `text` to `file` through a temporary file and a rename: a pulled card never holds half a file. */
function writeAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/**
 * Copy onto the card by reading and writing, never copyFile: libuv's copyfile ends with an fchmod
 * to the source's mode, and the kernel's vfat refuses (EPERM) a mode its mount options cannot
 * show, such as 0600 of a password file, unless the card was mounted with `quiet`.
 */
function copyToCard(src: string, dst: string): void {
  const tmp = `${dst}.tmp-${process.pid}`;
  const buf = Buffer.allocUnsafe(1 << 20);
  const from = openSync(src, "r");
  const to = openSync(tmp, "w");
  try {
    for (let n = readSync(from, buf); n > 0; n = readSync(from, buf)) {
      for (let off = 0; off < n; ) off += writeSync(to, buf, off, n - off);
    }
  } finally {
    closeSync(from);
    closeSync(to);
  }
  renameSync(tmp, dst);
}

export function writeSeed(s: SeedInput): SeedResult {
  if (!existsSync(s.dir) || !statSync(s.dir).isDirectory())
    throw new SeedError(
      `--seed ${s.dir}: no such folder; mount the card's boot partition (bootfs) and give its folder, e.g. /media/$USER/bootfs`,
    );
  if (!s.force && !looksLikeBootPartition(s.dir)) {
    throw new SeedError(
      `--seed ${s.dir}: this does not look like a Raspberry Pi boot partition (no config.txt, cmdline.txt or user-data); give the mounted bootfs folder of a card flashed with Raspberry Pi Imager, or --force to write there anyway`,
    );
  }
  const userDataFile = join(s.dir, "user-data");
  const hadUserData = existsSync(userDataFile);
  const userData = mergeUserData(hadUserData ? readFileSync(userDataFile, "utf8") : undefined, userDataFile);
  const firstboot = join(s.appDir, "scripts", "firstboot.sh");
  if (!existsSync(firstboot)) throw new SeedError(`${firstboot} is missing: this installation is incomplete; reinstall roadside`, 1);

  let bundle: string;
  if (s.bundle !== undefined) {
    checkBundle(s.bundle, s.board, s.arch);
    bundle = s.bundle;
  } else {
    bundle = buildBundle(s.appDir, chooseArch(s.board, s.arch), s.log);
  }

  const seed = join(s.dir, SEED_FOLDER);
  const etc = join(seed, "etc");
  mkdirSync(seed, { recursive: true });
  // etc/ is ours whole: files a previous run placed and this one does not name must not linger
  rmSync(etc, { recursive: true, force: true });
  mkdirSync(join(etc, SECRETS_DIR), { recursive: true });
  const files: string[] = [];
  writeAtomic(join(etc, "device.yaml"), s.configText);
  files.push(join(etc, "device.yaml"));
  for (const p of s.placements) {
    copyToCard(p.source, join(etc, p.dest));
    files.push(join(etc, p.dest));
  }

  // one bundle on the card: firstboot.sh installs the one it finds
  const name = basename(bundle);
  for (const f of readdirSync(seed)) {
    if (/^roadside-.*\.tar\.gz(\.sha256)?$/.test(f) && f !== name && f !== `${name}.sha256`) rmSync(join(seed, f));
  }
  const dest = join(seed, name);
  const want = readSum(`${bundle}.sha256`);
  const same = existsSync(dest) && statSync(dest).size === statSync(bundle).size && want !== undefined && sha256(dest) === want;
  if (!same) {
    s.log(`copying ${name} (${(statSync(bundle).size / 1e6).toFixed(1)} MB) to ${seed}`);
    copyToCard(bundle, dest);
  }
  writeAtomic(`${dest}.sha256`, readFileSync(`${bundle}.sha256`));
  files.push(dest, `${dest}.sha256`);
  writeAtomic(join(seed, "firstboot.sh"), readFileSync(firstboot));
  files.push(join(seed, "firstboot.sh"));
  if (s.bundle === undefined) rmSync(dirname(bundle), { recursive: true, force: true });

  writeAtomic(userDataFile, userData);
  files.push(userDataFile);
  const metaFile = join(s.dir, "meta-data");
  const hadMeta = existsSync(metaFile);
  if (!hadMeta) {
    // a new instance-id per seed: cloud-init runs runcmd once per instance
    writeAtomic(metaFile, `instance-id: roadside-${s.id}-${Date.now()}\n`);
    files.push(metaFile);
  }
  return { bundle: dest, userData: hadUserData ? "merged" : "created", metaData: hadMeta ? "kept" : "created", files };
}
