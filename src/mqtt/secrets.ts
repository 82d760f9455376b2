import { readFileSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { IClientOptions } from "mqtt";
import type { DeviceConfig } from "../config/schema.js";

/** What `loadTransport` found: options for mqtt.js, every problem (each names the file and the fix). */
export interface Transport {
  options: Partial<IClientOptions>;
  problems: string[];
  /** Things that work but weaken security (certificate verification off). */
  warnings: string[];
}

export interface TransportFiles {
  /** Folder relative paths are resolved against (the config file's). Default: the working folder. */
  baseDir?: string;
  /** Read a file (tests inject). Default readFileSync. */
  read?: (path: string) => Buffer;
  /** File mode bits (tests inject). Default statSync(path).mode. */
  mode?: (path: string) => number;
}

/**
 * Load TLS material and broker credentials named in the config. Secrets (the password file, the
 * client key) must be readable by their owner only: a key that every local user can read is not a
 * secret, and a roadside cabinet's SD card is read by whoever finds it. The loaded values go only
 * into the connection options; nothing here or in the session logs them.
 */
export function loadTransport(mqtt: DeviceConfig["mqtt"], files: TransportFiles = {}): Transport {
  const problems: string[] = [];
  const warnings: string[] = [];
  const options: Partial<IClientOptions> = {};
  const base = files.baseDir ?? process.cwd();
  const read = files.read ?? ((p: string) => readFileSync(p));
  const mode = files.mode ?? ((p: string) => statSync(p).mode);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));

  const load = (field: string, path: string, secret: boolean): Buffer | undefined => {
    const p = abs(path);
    try {
      if (secret) {
        const bits = mode(p) & 0o777;
        if ((bits & 0o077) !== 0) {
          problems.push(
            `${field}: ${p} is readable by group or others (mode ${bits.toString(8).padStart(4, "0")}); it holds a secret: run \`chmod 600 ${p}\` (and chown it to the user roadside runs as)`,
          );
          return undefined;
        }
      }
      return read(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === "ENOENT"
          ? "no such file; check the path"
          : code === "EACCES"
            ? "permission denied; make it readable by the user roadside runs as"
            : (err as Error).message;
      problems.push(`${field}: cannot read ${p}: ${why}`);
      return undefined;
    }
  };

  if (mqtt.username !== undefined) options.username = mqtt.username;
  if (mqtt.passwordFile !== undefined) {
    const pw = load("mqtt.passwordFile", mqtt.passwordFile, true);
    if (pw !== undefined) {
      // one line; a trailing newline from `echo pw > file` is not part of the password
      const text = pw.toString("utf8").replace(/\r?\n$/, "");
      if (text.length === 0) problems.push(`mqtt.passwordFile: ${abs(mqtt.passwordFile)} is empty; write the password on one line`);
      else options.password = Buffer.from(text, "utf8");
    }
  }
  const tls = mqtt.tls;
  if (tls) {
    if (tls.ca !== undefined) {
      const ca = load("mqtt.tls.ca", tls.ca, false);
      if (ca) options.ca = ca;
    }
    if (tls.cert !== undefined) {
      const cert = load("mqtt.tls.cert", tls.cert, false);
      if (cert) options.cert = cert;
    }
    if (tls.key !== undefined) {
      const key = load("mqtt.tls.key", tls.key, true);
      if (key) options.key = key;
    }
    if (tls.servername !== undefined) options.servername = tls.servername;
    options.rejectUnauthorized = tls.verify;
    if (!tls.verify)
      warnings.push(
        "mqtt.tls.verify is false: the broker's certificate is not checked, so anyone on the network path can read and forge this device's traffic",
      );
  } else {
    options.rejectUnauthorized = true;
  }
  return { options, problems, warnings };
}

/** A broker URL fit for logs: a user:password in it is removed. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z0-9+.-]+:\/\/)[^/@]*@/i, "$1***@");
}
