import { describe, expect, it } from "vitest";
import { validateConfig } from "../config/load.js";
import { explainError } from "./errors.js";
import { loadTransport, redactUrl } from "./secrets.js";

function mqttConfig(mqtt: Record<string, unknown>) {
  const r = validateConfig({ device: { id: "d1", board: "sim" }, mqtt });
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join("; "));
  return r.loaded.config.mqtt;
}

describe("broker credentials and TLS material", () => {
  const files: Record<string, { mode: number; data: string }> = {
    "/etc/roadside/pw": { mode: 0o100600, data: "hunter2\n" },
    "/etc/roadside/pw-open": { mode: 0o100644, data: "hunter2\n" },
    "/etc/roadside/ca.crt": { mode: 0o100644, data: "CA" },
  };
  const fs = {
    baseDir: "/etc/roadside",
    read: (p: string) => {
      const f = files[p];
      if (!f) throw Object.assign(new Error("nope"), { code: "ENOENT" });
      return Buffer.from(f.data);
    },
    mode: (p: string) => {
      const f = files[p];
      if (!f) throw Object.assign(new Error("nope"), { code: "ENOENT" });
      return f.mode;
    },
  };

  it("reads a private password file (without its newline) and verifies certificates by default", () => {
    const t = loadTransport(mqttConfig({ url: "mqtts://b:8883", username: "u", passwordFile: "pw", tls: { ca: "ca.crt" } }), fs);
    expect(t.problems).toEqual([]);
    expect(t.options).toMatchObject({ username: "u", rejectUnauthorized: true });
    expect(String(t.options.password)).toBe("hunter2");
    expect(String(t.options.ca)).toBe("CA");
  });

  it("names the file and the fix for an open or missing secret", () => {
    const t = loadTransport(mqttConfig({ url: "mqtts://b:8883", username: "u", passwordFile: "pw-open", tls: { ca: "missing.crt" } }), fs);
    expect(t.problems).toEqual([
      "mqtt.passwordFile: /etc/roadside/pw-open is readable by group or others (mode 0644); it holds a secret: run `chmod 600 /etc/roadside/pw-open` (and chown it to the user roadside runs as)",
      "mqtt.tls.ca: cannot read /etc/roadside/missing.crt: no such file; check the path",
    ]);
  });

  it("warns when verification is turned off", () => {
    const t = loadTransport(mqttConfig({ url: "mqtts://b:8883", tls: { verify: false } }), fs);
    expect(t.options.rejectUnauthorized).toBe(false);
    expect(t.warnings[0]).toMatch(/not checked/);
  });

  it("rejects passwords in URLs at validation, and redacts them in logs anyway", () => {
    const r = validateConfig({ device: { id: "d1", board: "sim" }, mqtt: { url: "mqtt://u:secret@b:1883" } });
    expect(r.ok).toBe(false);
    expect(redactUrl("mqtts://u:secret@broker:8883/x")).toBe("mqtts://***@broker:8883/x");
    expect(explainError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "mqtt://u:secret@b:1")).not.toContain(
      "secret",
    );
  });

  it("explains broker refusals and TLS failures with what to check", () => {
    expect(explainError(Object.assign(new Error("Connection refused: Bad username or password"), { code: 134 }), "mqtt://b")).toMatch(
      /mqtt\.username and the password file/,
    );
    expect(
      explainError(
        Object.assign(new Error("self-signed certificate in certificate chain"), { code: "SELF_SIGNED_CERT_IN_CHAIN" }),
        "mqtts://b",
      ),
    ).toMatch(/mqtt\.tls\.ca/);
  });
});
