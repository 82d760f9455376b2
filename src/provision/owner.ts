import { chmodSync, chownSync, readFileSync } from "node:fs";

/**
 * Who owns what under /etc/roadside (docs/field-guide.md): the config and public files root:roadside
 * 0640 (the service reads them, cannot change them), the secrets folder root:roadside 0750, secrets
 * roadside:roadside 0600 (the runtime refuses a secret others can read).
 */

export const SERVICE_USER = "roadside";

export type FileRole = "config" | "public" | "secrets-dir" | "secret";

export const MODES: Record<FileRole, number> = { config: 0o640, public: 0o640, "secrets-dir": 0o750, secret: 0o600 };

/** Account look-ups, from /etc/passwd and /etc/group (system users live there, not in a directory service). */
export interface Accounts {
  uid(name: string): number | undefined;
  gid(name: string): number | undefined;
}

export function systemAccounts(etc = "/etc"): Accounts {
  const read = (file: string): string[][] => {
    try {
      return readFileSync(`${etc}/${file}`, "utf8")
        .split("\n")
        .map((l) => l.split(":"));
    } catch {
      return [];
    }
  };
  const find = (file: string, name: string): number | undefined => {
    const row = read(file).find((r) => r[0] === name);
    return row && row[2] !== undefined && /^\d+$/.test(row[2]) ? Number(row[2]) : undefined;
  };
  return { uid: (n) => find("passwd", n), gid: (n) => find("group", n) };
}

/**
 * Give each written file its owner and mode. Only root can hand files to another user; for anyone
 * else the modes are set and nothing more. Returns notes for the technician (what could not be
 * done and what to do about it); empty when all is well.
 */
export function applyOwnership(files: readonly { path: string; role: FileRole }[], accounts: Accounts, isRoot: boolean): string[] {
  for (const f of files) chmodSync(f.path, MODES[f.role]);
  if (!isRoot) return [];
  const gid = accounts.gid(SERVICE_USER);
  const uid = accounts.uid(SERVICE_USER);
  if (gid === undefined) {
    const list = files.map((f) => f.path).join(" ");
    return [
      `there is no group ${SERVICE_USER} on this machine yet, so the service could not read ${files[0]?.path ?? "the config"}: install roadside first (sudo install.sh --bundle FILE), then run \`sudo chgrp ${SERVICE_USER} ${list}\`${
        files.some((f) => f.role === "secret")
          ? ` and \`sudo chown ${SERVICE_USER} ${files
              .filter((f) => f.role === "secret")
              .map((f) => f.path)
              .join(" ")}\``
          : ""
      } (or provision again with --force)`,
    ];
  }
  const notes: string[] = [];
  for (const f of files) {
    if (f.role === "secret") {
      if (uid === undefined) {
        chownSync(f.path, 0, gid);
        notes.push(
          `there is no user ${SERVICE_USER}, so ${f.path} stays root's and the service cannot read it: install roadside first, then \`sudo chown ${SERVICE_USER} ${f.path}\``,
        );
      } else chownSync(f.path, uid, gid);
    } else chownSync(f.path, 0, gid);
  }
  return notes;
}
