import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throwaway PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1, a client certificate, and an unrelated CA. */
export interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: trusting it must not let a device talk to the broker. */
  wrongCa: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), "roadside-pki-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=roadside test CA"], dir);
  openssl(["req", "-x509", ...ec, "-keyout", "wrong-ca.key", "-out", "wrong-ca.crt", "-days", "2", "-subj", "/CN=someone else's CA"], dir);
  writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const [name, cn] of [
    ["server", "localhost"],
    ["client", "tls-device"],
  ] as const) {
    openssl(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`], dir);
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${name}.crt`,
        "-days",
        "2",
        "-extfile",
        `${name}.ext`,
      ],
      dir,
    );
    chmodSync(join(dir, `${name}.key`), 0o600);
  }
  return {
    dir,
    ca: join(dir, "ca.crt"),
    serverCert: join(dir, "server.crt"),
    serverKey: join(dir, "server.key"),
    clientCert: join(dir, "client.crt"),
    clientKey: join(dir, "client.key"),
    wrongCa: join(dir, "wrong-ca.crt"),
  };
}

/** A Mosquitto password file for `user`/`password` (mosquitto_passwd). */
export function passwordFile(dir: string, user: string, password: string): string {
  const file = join(dir, "mosquitto.passwd");
  execFileSync("mosquitto_passwd", ["-b", "-c", file, user, password], { stdio: "ignore" });
  return file;
}
