import { spawnSync } from "node:child_process";
import type { SpawnSyncReturns } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
export const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

/** ELF e_machine numbers (the System V ABI's list) of the three targets. */
export const MACHINE = { x64: 62, arm64: 183, arm: 40 } as const;

export interface Elf {
  machine: number;
  bits: 32 | 64;
}

/** e_ident[EI_CLASS] and e_machine of an ELF file, or undefined when it is not one. */
export function readElf(file: string): Elf | undefined {
  const b = Buffer.alloc(20);
  const fd = openSync(file, "r");
  try {
    readSync(fd, b, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  if (b.readUInt32BE(0) !== 0x7f454c46) return undefined;
  return { machine: b.readUInt16LE(18), bits: b[4] === 2 ? 64 : 32 };
}

/** Every file under dir whose name ends with suffix. */
export function findFiles(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p, suffix));
    else if (e.isFile() && e.name.endsWith(suffix)) out.push(p);
  }
  return out;
}

export function parseInfo(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

export function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 256 << 20, ...opts });
}

/** bundle.sh for one target into out (dist/ is built by `npm test` before the tests run). */
export function buildBundle(arch: string, out: string): { status: number | null; stdout: string; stderr: string; name: string } {
  const r = sh("bash", [join(ROOT, "scripts/bundle.sh"), "--no-build", "--arch", arch, "--output", out]);
  const node = arch === "armhf" ? "arm" : arch;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, name: `roadside-${VERSION}-linux-${node}-node20` };
}

export const sizeMiB = (file: string): string => (statSync(file).size / 1048576).toFixed(1);
