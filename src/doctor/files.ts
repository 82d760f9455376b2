import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import type { CheckResult, DoctorCheck, DoctorContext } from "./check.js";

/** iotedge check warns 30 days ahead too: time for a ticket, a new certificate and a site visit. */
export const CERT_WARN_DAYS = 30;
const DAY_MS = 86_400_000;

export interface CertInfo {
  subject: string;
  notBefore: number;
  notAfter: number;
}

/** Every certificate in a PEM file (a CA bundle holds several). */
export function parsePemCertificates(pem: string): CertInfo[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => {
    const c = new X509Certificate(b);
    return { subject: c.subject.replace(/\n/g, ", "), notBefore: Date.parse(c.validFrom), notAfter: Date.parse(c.validTo) };
  });
}

/** One certificate against the clock: ✗ expired or not yet valid, ! within CERT_WARN_DAYS, else ✓. */
export function judgeCertificate(field: string, file: string, cert: CertInfo, nowMs: number): CheckResult {
  const daysLeft = Math.floor((cert.notAfter - nowMs) / DAY_MS);
  const until = new Date(cert.notAfter).toISOString().slice(0, 10);
  const values = {
    field,
    file,
    subject: cert.subject,
    notBefore: new Date(cert.notBefore).toISOString(),
    notAfter: new Date(cert.notAfter).toISOString(),
    daysLeft,
  };
  const renew =
    field === "mqtt.tls.ca"
      ? "get the broker's current CA certificate from the city's platform team and replace the file"
      : "issue a new client certificate for this device (same key or a new one) and replace the file";
  if (cert.notAfter <= nowMs) {
    return {
      status: "fail",
      label: "cert",
      title: `${field} ${file} (${cert.subject}) expired on ${until}`,
      fix: `${renew}; the broker refuses every TLS connection with it. If the date looks wrong, check the clock first`,
      values,
    };
  }
  if (cert.notBefore > nowMs) {
    return {
      status: "fail",
      label: "cert",
      title: `${field} ${file} (${cert.subject}) is not valid before ${new Date(cert.notBefore).toISOString().slice(0, 10)}`,
      fix: "the clock is behind (see the clock check) or the certificate was issued post-dated",
      values,
    };
  }
  if (daysLeft < CERT_WARN_DAYS) {
    return {
      status: "warn",
      label: "cert",
      title: `${field} ${file} (${cert.subject}) expires in ${daysLeft} day${daysLeft === 1 ? "" : "s"}, on ${until}`,
      fix: `${renew} before then`,
      values,
    };
  }
  return { status: "pass", label: "cert", title: `${field} ${file} (${cert.subject}) valid until ${until} (${daysLeft} days)`, values };
}

/** The files a device reads or writes, with what it needs: read, or read and write. */
function deviceFiles(ctx: DoctorContext, configDir: string): { field: string; path: string; need: "r" | "rw" | "dir-rw" }[] {
  const c = ctx.loaded!.config;
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(configDir, p));
  const out: { field: string; path: string; need: "r" | "rw" | "dir-rw" }[] = [
    { field: "config", path: resolve(ctx.configPath), need: "r" },
  ];
  if (c.mqtt.passwordFile) out.push({ field: "mqtt.passwordFile", path: abs(c.mqtt.passwordFile), need: "r" });
  for (const k of ["ca", "cert", "key"] as const) {
    const p = c.mqtt.tls?.[k];
    if (p) out.push({ field: `mqtt.tls.${k}`, path: abs(p), need: "r" });
  }
  if (c.control.publicKeyFile) out.push({ field: "control.publicKeyFile", path: abs(c.control.publicKeyFile), need: "r" });
  out.push({ field: "state dir", path: resolve(ctx.options.stateDir), need: "dir-rw" });
  return out;
}

export interface Identity {
  uid: number;
  gids: number[];
}

/**
 * Whether `who` may read (and write) `path`, from the mode bits of the file and every folder on
 * the way (search permission), as the kernel decides it for a process without capabilities.
 * Root is not special-cased: the service never runs as root.
 */
export function accessAs(
  path: string,
  who: Identity,
  need: "r" | "rw",
  stat: (p: string) => { uid: number; gid: number; mode: number } = statSync,
): { ok: true } | { ok: false; why: string } {
  const bits = (s: { uid: number; gid: number; mode: number }): number =>
    s.uid === who.uid ? (s.mode >> 6) & 7 : who.gids.includes(s.gid) ? (s.mode >> 3) & 7 : s.mode & 7;
  const dirs: string[] = [];
  for (let d = dirname(path); ; d = dirname(d)) {
    dirs.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of dirs) {
    const s = stat(d);
    if ((bits(s) & 1) === 0)
      return { ok: false, why: `cannot enter folder ${d} (owner uid ${s.uid}, gid ${s.gid}, mode ${(s.mode & 0o777).toString(8)})` };
  }
  const s = stat(path);
  const b = bits(s);
  if ((b & 4) === 0)
    return { ok: false, why: `cannot read it (owner uid ${s.uid}, gid ${s.gid}, mode ${(s.mode & 0o777).toString(8).padStart(4, "0")})` };
  if (need === "rw" && (b & 2) === 0)
    return { ok: false, why: `cannot write it (owner uid ${s.uid}, gid ${s.gid}, mode ${(s.mode & 0o777).toString(8).padStart(4, "0")})` };
  return { ok: true };
}

async function identityOf(ctx: DoctorContext, user: string): Promise<Identity | undefined> {
  const u = await ctx.env.exec("id", ["-u", user]);
  const g = await ctx.env.exec("id", ["-G", user]);
  if (u.code !== 0 || g.code !== 0) return undefined;
  return { uid: Number(u.stdout.trim()), gids: g.stdout.trim().split(/\s+/).map(Number) };
}

/**
 * The files `roadside run` reads before it connects: the same checks run makes (secret files
 * owner-only, every file readable: `options.checkDelivery` is run's own code), the certificates'
 * dates, and, when doctor runs as root on a device, every file as the service user sees it: a
 * 0600 key owned by root passes for root and stops the service.
 */
export const filesCheck: DoctorCheck = {
  id: "files",
  needsConfig: true,
  async run(ctx) {
    const out: CheckResult[] = [];
    const configDir = dirname(resolve(ctx.configPath));
    const problems = ctx.options.checkDelivery?.(ctx.loaded!, configDir) ?? [];
    for (const p of problems) {
      const cut = p.indexOf("; ");
      out.push({
        status: "fail",
        label: "files",
        title: cut > 0 ? p.slice(0, cut) : p,
        fix:
          cut > 0 ? `${p.slice(cut + 2)} (roadside run refuses to start until then)` : "roadside run refuses to start until this is fixed",
        values: { field: p.split(":")[0] ?? "", problem: p },
      });
    }
    const c = ctx.loaded!.config;
    const named = [
      c.mqtt.passwordFile && "mqtt.passwordFile",
      c.mqtt.tls?.ca && "mqtt.tls.ca",
      c.mqtt.tls?.cert && "mqtt.tls.cert",
      c.mqtt.tls?.key && "mqtt.tls.key",
      c.control.publicKeyFile && "control.publicKeyFile",
    ].filter((x): x is string => typeof x === "string");
    if (problems.length === 0) {
      out.push(
        named.length > 0
          ? {
              status: "pass",
              label: "files",
              title: `${named.join(", ")}: readable, secrets owner-only (the checks roadside run makes)`,
              values: { files: named.join(","), problems: 0 },
            }
          : {
              status: "pass",
              label: "files",
              title: "no password file, TLS files or signing key configured",
              values: { files: "", problems: 0 },
            },
      );
    }
    const tls = ctx.loaded!.config.mqtt.tls;
    for (const k of ["ca", "cert"] as const) {
      const p = tls?.[k];
      if (!p) continue;
      const file = isAbsolute(p) ? p : resolve(configDir, p);
      let certs: CertInfo[];
      try {
        certs = parsePemCertificates(readFileSync(file, "utf8"));
      } catch (err) {
        // unreadable files are reported above, by run's own check
        if ((err as NodeJS.ErrnoException).code) continue;
        out.push({
          status: "fail",
          label: "cert",
          title: `mqtt.tls.${k} ${file} is not a PEM certificate: ${(err as Error).message}`,
          fix: "give the PEM file (-----BEGIN CERTIFICATE-----…)",
        });
        continue;
      }
      if (certs.length === 0)
        out.push({
          status: "fail",
          label: "cert",
          title: `mqtt.tls.${k} ${file} holds no PEM certificate`,
          fix: "give the PEM file (-----BEGIN CERTIFICATE-----…), not a DER or a key",
        });
      for (const c of certs) out.push(judgeCertificate(`mqtt.tls.${k}`, file, c, ctx.env.now()));
    }
    const user = ctx.options.serviceUser ?? "roadside";
    const asRoot = (ctx.options.uid ?? process.getuid?.()) === 0;
    if (asRoot) {
      const who = await identityOf(ctx, user);
      if (!who) {
        out.push({
          status: "skip",
          label: "files",
          title: `no user ${user} on this machine: the files were checked as root only`,
          fix: "scripts/install.sh creates the service user; run doctor again after it",
        });
      } else {
        const bad: string[] = [];
        for (const f of deviceFiles(ctx, configDir)) {
          try {
            const r = accessAs(f.path, who, f.need === "r" ? "r" : "rw");
            if (!r.ok) bad.push(`${f.field} ${f.path}: user ${user} ${r.why}`);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOENT" && f.need === "dir-rw") continue; // made by systemd's StateDirectory=
            if ((err as NodeJS.ErrnoException).code !== "ENOENT") bad.push(`${f.field} ${f.path}: ${(err as Error).message}`);
          }
        }
        if (bad.length > 0) {
          out.push({
            status: "fail",
            label: "files",
            title: `the service user ${user} cannot use ${bad.length} file${bad.length === 1 ? "" : "s"} that root can`,
            detail: bad,
            fix: `sudo chown ${user} FILE for secrets (mode 0600), sudo chgrp ${user} FILE with mode 0640 for the config; the service runs as ${user}, not root`,
            values: { user, uid: who.uid, problems: bad.length },
          });
        } else {
          out.push({
            status: "pass",
            label: "files",
            title: `the service user ${user} can read every file the device needs`,
            values: { user, uid: who.uid, problems: 0 },
          });
        }
      }
    }
    return out;
  },
};
