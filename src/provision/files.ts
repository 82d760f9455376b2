import { existsSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import { setIn } from "./build.js";

/**
 * Files a device config refers to (CA, client certificate and key, broker password, the public key
 * signed commands are checked with). The service reads them as user roadside under a sandbox that
 * hides home folders, so provision copies them beside the config: public ones readable by group
 * roadside, secrets (`secrets/`) by user roadside only, and the config names the copies.
 */

export interface FileSetting {
  /** Where the path sits in the config. */
  at: readonly string[];
  /** The flag that sets it, for messages. */
  flag: string;
  /** What the file is, for messages. */
  what: string;
  /** Readable by its owner only (the runtime refuses a group-readable one). */
  secret: boolean;
}

export const FILE_SETTINGS: readonly FileSetting[] = [
  { at: ["mqtt", "tls", "ca"], flag: "--ca", what: "the broker's CA certificate (PEM)", secret: false },
  { at: ["mqtt", "tls", "cert"], flag: "--cert", what: "the client certificate (PEM)", secret: false },
  { at: ["mqtt", "tls", "key"], flag: "--key", what: "the client key (PEM)", secret: true },
  { at: ["mqtt", "passwordFile"], flag: "--password-file", what: "the broker password (one line)", secret: true },
  {
    at: ["control", "publicKeyFile"],
    flag: "--control-key",
    what: "the Ed25519 public key signed commands are checked with (PEM)",
    secret: false,
  },
];

export const SECRETS_DIR = "secrets";

export interface Placement {
  setting: FileSetting;
  /** Absolute path of the file now. */
  source: string;
  /** Path under the config folder: `ca.pem`, `secrets/broker.pw`. */
  dest: string;
}

function get(config: Record<string, unknown>, at: readonly string[]): unknown {
  return at.reduce<unknown>((n, k) => (n && typeof n === "object" ? (n as Record<string, unknown>)[k] : undefined), config);
}

/**
 * Find the files `config` refers to, check each exists, and decide where its copy goes. Relative
 * paths are taken from `cwd` (where the technician typed them). Every problem is returned.
 */
export function planFiles(config: Record<string, unknown>, cwd: string): { placements: Placement[]; errors: string[] } {
  const placements: Placement[] = [];
  const errors: string[] = [];
  const taken = new Map<string, string>();
  for (const setting of FILE_SETTINGS) {
    const value = get(config, setting.at);
    if (typeof value !== "string" || value === "") continue;
    const source = resolve(cwd, value);
    const name = setting.at.join(".");
    if (!existsSync(source)) {
      errors.push(`${setting.flag} ${value} (${name}): no such file; give the path of ${setting.what}`);
      continue;
    }
    if (!statSync(source).isFile()) {
      errors.push(`${setting.flag} ${value} (${name}): not a file; give the path of ${setting.what}`);
      continue;
    }
    const dest = setting.secret ? `${SECRETS_DIR}/${basename(source)}` : basename(source);
    const other = taken.get(dest);
    if (other !== undefined) {
      errors.push(
        `${setting.flag} ${value} (${name}): has the same file name as ${other}; rename one of them, since both are copied beside the config`,
      );
      continue;
    }
    if (dest === "device.yaml") {
      errors.push(`${setting.flag} ${value} (${name}): a file named device.yaml would overwrite the config beside it; rename it`);
      continue;
    }
    taken.set(dest, name);
    placements.push({ setting, source, dest });
  }
  return { placements, errors };
}

/** Point the config's settings at the copies in `finalDir` (the folder the device will read them from). */
export function retarget(config: Record<string, unknown>, placements: readonly Placement[], finalDir: string): void {
  for (const p of placements) setIn(config, [...p.setting.at], `${finalDir.replace(/\/$/, "")}/${p.dest}`);
}
