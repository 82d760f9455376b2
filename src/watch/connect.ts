import { readFileSync } from "node:fs";
import type { IClientOptions } from "mqtt";

/** How a command line tool (watch, doctor) authenticates to a broker. */
export interface BrokerAuth {
  /** PEM files: the CA that signed the broker's certificate, and a client certificate and key (mTLS). */
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  username?: string | undefined;
  /** File holding the password (first line). Files, not flags: flags show in `ps`. */
  passwordFile?: string | undefined;
}

/** A file the user named could not be read: the message names the flag, the path and the fix. */
export class AuthFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthFileError";
  }
}

function read(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AuthFileError(
      `${what} ${path}: ${code === "ENOENT" ? "no such file; check the path" : code === "EACCES" ? "permission denied; run as a user who can read it" : (err as Error).message}`,
    );
  }
}

/**
 * mqtt.js options for `auth`. TLS verifies the broker's certificate always (never
 * rejectUnauthorized: false: a roadside link crosses networks nobody on the ladder controls).
 */
export function brokerOptions(auth: BrokerAuth, env: NodeJS.ProcessEnv = process.env): Partial<IClientOptions> {
  const o: Partial<IClientOptions> = {};
  if (auth.ca) o.ca = read("CA file", auth.ca);
  if (auth.cert) o.cert = read("client certificate", auth.cert);
  if (auth.key) o.key = read("client key", auth.key);
  if ((auth.cert === undefined) !== (auth.key === undefined))
    throw new AuthFileError("a client certificate needs its key and a key its certificate: give both --cert and --key");
  if (auth.username) o.username = auth.username;
  if (auth.passwordFile) o.password = read("password file", auth.passwordFile).toString("utf8").split(/\r?\n/)[0] ?? "";
  else if (env["ROADSIDE_MQTT_PASSWORD"]) o.password = env["ROADSIDE_MQTT_PASSWORD"];
  return o;
}
