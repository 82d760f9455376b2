import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort } from "../helpers/brokers.js";

/**
 * The virtual device: a Debian bookworm amd64 VM under QEMU, driven from the host. Root disk = a
 * qcow2 overlay on the cached image (scripts/vm/build-image.sh); seed disk = a FAT image labelled
 * `bootfs` (what Raspberry Pi Imager leaves on a card's boot partition); SSH through user-mode
 * networking's hostfwd; the host is 10.0.2.2 from the guest; ttyS0 = console (a log file), ttyS1 =
 * a sensor line wired to a host unix socket.
 */

export const REPO = resolve(import.meta.dirname, "../..");

export interface VmImage {
  dir: string;
  kernel: string;
  initrd: string;
  rootfs: string;
  /** Seconds the image took to build (when it was built, not when it came from the cache). */
  buildSeconds: number;
  cached: boolean;
}

/** Build (or take from the cache) the VM image. */
export function buildImage(): VmImage {
  const t0 = Date.now();
  const r = spawnSync(join(REPO, "scripts/vm/build-image.sh"), ["--print-dir"], { encoding: "utf8", timeout: 40 * 60_000 });
  if (r.status !== 0) throw new Error(`scripts/vm/build-image.sh failed (${r.status ?? r.signal}):\n${r.stderr.slice(-4000)}`);
  const dir = r.stdout.trim().split("\n").pop()!;
  const cached = /image cached/.test(r.stderr);
  const buildSeconds = cached ? Number(readFileSync(join(dir, "BUILT"), "utf8")) : Math.round((Date.now() - t0) / 1000);
  return { dir, kernel: join(dir, "vmlinuz"), initrd: join(dir, "initrd.img"), rootfs: join(dir, "rootfs.qcow2"), buildSeconds, cached };
}

function run(cmd: string, args: string[], what: string, timeoutMs = 120_000): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${what}: ${cmd} ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what}: ${cmd} ${args.join(" ")} exited ${r.status ?? r.signal}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

function duBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? duBytes(p) + 4096 : statSync(p).size;
  }
  return n;
}

/**
 * A FAT image labelled `bootfs` holding a folder's files, made without mounting anything
 * (mkfs.vfat + mtools), as Imager's boot partition is FAT32 labelled bootfs on Raspberry Pi OS.
 */
export function makeSeedImage(dir: string, image: string): void {
  const mb = Math.max(64, Math.ceil((duBytes(dir) * 1.1) / (1 << 20)) + 32);
  if (existsSync(image)) spawnSync("rm", ["-f", image]);
  run("mkfs.vfat", ["-F", "32", "-n", "bootfs", "-C", image, String(mb * 1024)], "seed image");
  const entries = readdirSync(dir).map((n) => join(dir, n));
  if (entries.length > 0) run("mcopy", ["-s", "-p", "-i", image, ...entries, "::/"], "seed image");
}

/** Files on a FAT image, read without mounting (mtools). */
export function readSeedFile(image: string, path: string): string | undefined {
  const r = spawnSync("mtype", ["-i", image, `::/${path}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout : undefined;
}

export function listSeed(image: string, path = ""): string {
  return spawnSync("mdir", ["-/", "-b", "-i", image, `::/${path}`], { encoding: "utf8" }).stdout;
}

export interface SshKey {
  key: string;
  pub: string;
}

export function makeSshKey(dir: string): SshKey {
  const key = join(dir, "id_ed25519");
  if (!existsSync(key)) run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "roadside-device-test", "-f", key], "ssh key");
  return { key, pub: readFileSync(`${key}.pub`, "utf8").trim() };
}

/**
 * Whether KVM can run this guest here. The issue found KVM failing on this machine kind (an MSR
 * assertion with -cpu host, a hang with the default CPU), so it is probed: the image's kernel with
 * no root disk must reach its panic (and exit, -no-reboot) within 20 s. ROADSIDE_VM_ACCEL=kvm|tcg decides.
 */
let kvmVerdict: boolean | undefined;
export function kvmWorks(image: VmImage): boolean {
  if (kvmVerdict !== undefined) return kvmVerdict;
  const forced = process.env["ROADSIDE_VM_ACCEL"];
  if (forced) {
    kvmVerdict = forced === "kvm";
    return kvmVerdict;
  }
  if (!existsSync("/dev/kvm")) {
    kvmVerdict = false;
    return kvmVerdict;
  }
  const r = spawnSync(
    "qemu-system-x86_64",
    [
      "-accel",
      "kvm",
      "-m",
      "256",
      "-nodefaults",
      "-display",
      "none",
      "-no-reboot",
      "-serial",
      "stdio",
      "-kernel",
      image.kernel,
      "-append",
      "console=ttyS0 panic=-1",
    ],
    { timeout: 20_000, encoding: "utf8", killSignal: "SIGKILL" },
  );
  kvmVerdict = /Kernel panic/.test(r.stdout ?? "");
  return kvmVerdict;
}

export interface VmOptions {
  image: VmImage;
  /** Working folder: overlay, console log, sockets. */
  dir: string;
  seedImage: string;
  key: SshKey;
  /** The user the test's key logs in as (the Imager-style user in user-data). */
  user: string;
  /** `-rtc base=` (e.g. 2021-03-01T00:00:00): a guest clock far from the truth. */
  rtcBase?: string;
  memoryMb?: number;
}

/** One QEMU guest: boot, ssh, reboot, power cut. The overlay persists across boots of this object. */
export class Vm {
  readonly overlay: string;
  readonly consoleLog: string;
  readonly serialSocket: string;
  sshPort = 0;
  private proc: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  boots = 0;
  accel = "tcg";

  constructor(readonly opts: VmOptions) {
    mkdirSync(opts.dir, { recursive: true });
    this.overlay = join(opts.dir, "root.qcow2");
    this.consoleLog = join(opts.dir, "console.log");
    this.serialSocket = join(opts.dir, "ttyS1.sock");
    if (!existsSync(this.overlay))
      run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", opts.image.rootfs, this.overlay], "overlay");
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Start QEMU (returns at once; use waitSsh). */
  async start(opts: { rtcBase?: string } = {}): Promise<void> {
    if (this.running) throw new Error("the VM is already running");
    this.sshPort = await freePort();
    this.accel = kvmWorks(this.opts.image) ? "kvm" : "tcg";
    const rtc = opts.rtcBase ?? this.opts.rtcBase;
    const args = [
      "-accel",
      this.accel,
      ...(this.accel === "tcg" ? ["-cpu", "max"] : []),
      "-m",
      String(this.opts.memoryMb ?? 1024),
      "-smp",
      "1",
      "-nodefaults",
      "-display",
      "none",
      "-no-user-config",
      "-kernel",
      this.opts.image.kernel,
      "-initrd",
      this.opts.image.initrd,
      // net.ifnames=0: eth0, as on a Pi, so Imager-style network-config names it
      "-append",
      "root=/dev/vda rw console=ttyS0,115200 net.ifnames=0 quiet systemd.show_status=1",
      // cache=writeback honours the guest's flushes (fsync reaches the host file before it returns),
      // which is what a power-cut test needs: a SIGKILL keeps exactly what the guest had flushed
      "-drive",
      `file=${this.overlay},if=virtio,format=qcow2,cache=writeback`,
      "-drive",
      `file=${this.opts.seedImage},if=virtio,format=raw,cache=writeback`,
      "-netdev",
      `user,id=n0,hostfwd=tcp:127.0.0.1:${this.sshPort}-:22`,
      "-device",
      "virtio-net-pci,netdev=n0",
      "-serial",
      `file:${this.consoleLog}.${this.boots}`,
      "-serial",
      `unix:${this.serialSocket},server=on,wait=off`,
      "-device",
      "virtio-rng-pci",
      ...(rtc ? ["-rtc", `base=${rtc},clock=host`] : ["-rtc", "base=utc,clock=host"]),
    ];
    this.boots++;
    const proc = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    this.proc = proc;
    this.exited = new Promise((res) => proc.once("exit", () => res()));
    await new Promise((r) => setTimeout(r, 500));
    if (!this.running) throw new Error(`qemu exited at once: ${stderr}`);
  }

  /** Console output of the current (or last) boot. */
  console(): string {
    const p = `${this.consoleLog}.${this.boots - 1}`;
    return existsSync(p) ? readFileSync(p, "utf8") : "";
  }

  consoleTail(lines = 40): string {
    return this.console().split("\n").slice(-lines).join("\n");
  }

  private sshArgs(): string[] {
    return [
      "-i",
      this.opts.key.key,
      "-p",
      String(this.sshPort),
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "LogLevel=ERROR",
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=30",
      "-o",
      "ServerAliveInterval=5",
      "-o",
      "ServerAliveCountMax=3",
      `${this.opts.user}@127.0.0.1`,
    ];
  }

  /** Run a command on the guest as the Imager user (prefix sudo for root). */
  sshRaw(cmd: string, timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("ssh", [...this.sshArgs(), cmd], { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
    return { status: r.status, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
  }

  ssh(cmd: string, timeoutMs = 60_000): string {
    let r = this.sshRaw(cmd, timeoutMs);
    // a guest busy under TCG can miss ssh's banner deadline: that is the connection, not the command
    for (let i = 0; i < 3 && r.status === 255 && /banner exchange|Connection (timed out|reset|refused|closed)/.test(r.stderr); i++)
      r = this.sshRaw(cmd, timeoutMs);
    if (r.status !== 0) throw new Error(`on the guest: ${cmd}\nexited ${r.status}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** Copy a host file to the guest. */
  scp(from: string, to: string): void {
    const a = this.sshArgs();
    const r = spawnSync(
      "scp",
      [
        "-q",
        "-i",
        this.opts.key.key,
        "-P",
        String(this.sshPort),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "BatchMode=yes",
        from,
        `${a[a.length - 1]}:${to}`,
      ],
      { encoding: "utf8", timeout: 300_000 },
    );
    if (r.status !== 0) throw new Error(`scp ${from} -> guest:${to} failed: ${r.stderr}`);
  }

  /** Poll ssh until the guest answers, bounded; on timeout the error carries the console tail. */
  async waitSsh(timeoutMs = 300_000): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      if (!this.running) throw new Error(`qemu exited while waiting for ssh\n--- console ---\n${this.consoleTail()}`);
      const r = this.sshRaw("true", 15_000);
      if (r.status === 0) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs)
        throw new Error(
          `no ssh on the guest within ${timeoutMs / 1000} s (last: ${r.stderr.trim()})\n--- console ---\n${this.consoleTail()}`,
        );
      await new Promise((res) => setTimeout(res, 2000));
    }
  }

  /** Poll a guest command until it succeeds, bounded. */
  async waitFor(what: string, cmd: string, timeoutMs: number): Promise<string> {
    const t0 = Date.now();
    let last = "";
    for (;;) {
      const r = this.sshRaw(cmd, 30_000);
      if (r.status === 0) return r.stdout;
      last = r.stdout + r.stderr;
      if (Date.now() - t0 > timeoutMs)
        throw new Error(
          `${what}: not within ${timeoutMs / 1000} s (last: ${last.trim().slice(-2000)})\n--- console ---\n${this.consoleTail(20)}`,
        );
      await new Promise((res) => setTimeout(res, 2000));
    }
  }

  /** Power cut: SIGKILL QEMU, no shutdown of any kind. */
  async powerCut(): Promise<void> {
    if (!this.proc) return;
    this.proc.kill("SIGKILL");
    await this.exited;
    this.proc = undefined;
  }

  /** The guest's boot id (changes at every boot). */
  bootId(): string {
    return this.ssh("cat /proc/sys/kernel/random/boot_id").trim();
  }

  /** Clean reboot through systemd (`systemctl reboot`, same QEMU), then wait until the guest is back on ssh. */
  async reboot(timeoutMs = 300_000): Promise<void> {
    const before = this.bootId();
    this.sshRaw("sudo systemctl reboot", 20_000);
    const t0 = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 3000));
      if (!this.running) throw new Error(`qemu exited during the reboot\n${this.consoleTail()}`);
      const r = this.sshRaw("cat /proc/sys/kernel/random/boot_id", 15_000);
      if (r.status === 0 && r.stdout.trim() !== before) return;
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`the guest did not come back from a reboot within ${timeoutMs / 1000} s\n${this.consoleTail()}`);
    }
  }

  async stop(): Promise<void> {
    await this.powerCut();
  }
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(resolve(p, ".."), { recursive: true });
    writeFileSync(p, text);
  }
}
