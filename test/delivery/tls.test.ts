import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceConfigInput } from "../../src/config/schema.js";
import { loadTransport } from "../../src/mqtt/secrets.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { hasMosquitto, startMosquitto, subscribe } from "../helpers/brokers.js";
import { mustLoad } from "../helpers/sim-device.js";
import type { Pki } from "./pki.js";
import { makePki, passwordFile } from "./pki.js";
import type { Rig } from "./rig.js";
import { builtDist, captureLogger, siteConfig, startRig, until } from "./rig.js";

const PASSWORD = "s3cret-Pa55word-never-logged";
const BIN = new URL("../../bin/roadside.js", import.meta.url).pathname;

/** A device whose mqtt section is `mqtt` (files relative to the PKI folder), connecting through loadTransport. */
async function tlsRig(id: string, pki: Pki, mqtt: Record<string, unknown>): Promise<{ rig: Rig; lines: string[] }> {
  const input = siteConfig(id, { mqtt } as Partial<DeviceConfigInput>);
  const t = loadTransport(mustLoad(input).config.mqtt, { baseDir: pki.dir });
  expect(t.problems).toEqual([]);
  const { logger, lines } = captureLogger();
  const rig = await startRig(input, { brokerUrl: String(mqtt["url"]), logger, deps: { mqtt: { connectOptions: t.options } } });
  return { rig, lines };
}

describe.skipIf(!hasMosquitto())("TLS and mutual TLS against Mosquitto with a CA made by the test", () => {
  let pki: Pki;
  let tls: Mosquitto;
  let mtls: Mosquitto;
  let auth: Mosquitto;
  beforeAll(async () => {
    pki = makePki();
    const certs = [`cafile ${pki.ca}`, `certfile ${pki.serverCert}`, `keyfile ${pki.serverKey}`];
    tls = await startMosquitto({ scheme: "mqtts", listenerLines: ["allow_anonymous true", ...certs, "require_certificate false"] });
    mtls = await startMosquitto({ scheme: "mqtts", listenerLines: ["allow_anonymous true", ...certs, "require_certificate true"] });
    const pw = passwordFile(pki.dir, "pole-0042", PASSWORD);
    auth = await startMosquitto({ scheme: "mqtts", listenerLines: ["allow_anonymous false", `password_file ${pw}`, ...certs] });
  });
  afterAll(async () => {
    await tls?.stop();
    await mtls?.stop();
    await auth?.stop();
  });

  it("connects when the broker's certificate chains to the configured CA, and data flows", async () => {
    const sub = await subscribe(tls.url, "roadside/tls-1/#", { ca: [readFileSync(pki.ca)] });
    const { rig } = await tlsRig("tls-1", pki, { url: tls.url, tls: { ca: "ca.crt" } });
    await rig.waitConnected();
    await rig.run(120);
    await sub.waitFor((m) => m.some((x) => x.topic.includes("/traffic/")));
    await rig.stop();
    await sub.close();
  });

  it("refuses a broker whose certificate is not signed by the configured CA, and says what to check", async () => {
    const { rig, lines } = await tlsRig("tls-2", pki, { url: tls.url, tls: { ca: "wrong-ca.crt" } });
    await until(() => rig.device.session.stats().lastError !== null, "a TLS error");
    await new Promise((r) => setTimeout(r, 300));
    expect(rig.device.session.stats().connects).toBe(0);
    expect(rig.device.session.stats().lastError).toMatch(/TLS .*mqtt\.tls\.ca/);
    expect(lines.some((l) => /WARN .*TLS .*mqtt\.tls\.ca/.test(l))).toBe(true);
    await rig.stop();
  });

  it("mutual TLS: refused without a client certificate, accepted with one", async () => {
    const without = await tlsRig("mtls-1", pki, { url: mtls.url, tls: { ca: "ca.crt" } });
    await until(() => without.rig.device.session.stats().lastError !== null, "a handshake failure");
    await new Promise((r) => setTimeout(r, 300));
    expect(without.rig.device.session.stats().connects).toBe(0);
    await without.rig.stop();
    const withCert = await tlsRig("mtls-2", pki, { url: mtls.url, tls: { ca: "ca.crt", cert: "client.crt", key: "client.key" } });
    await withCert.rig.waitConnected();
    await withCert.rig.stop();
  });

  it("user name and password from a 0600 file: accepted, and the password appears in no log line", async () => {
    writeFileSync(join(pki.dir, "good.pw"), `${PASSWORD}\n`, { mode: 0o600 });
    writeFileSync(join(pki.dir, "bad.pw"), "wrong\n", { mode: 0o600 });
    const good = await tlsRig("pole-0042", pki, { url: auth.url, username: "pole-0042", passwordFile: "good.pw", tls: { ca: "ca.crt" } });
    await good.rig.waitConnected();
    await good.rig.run(60);
    await good.rig.stop();
    const bad = await tlsRig("pole-0042", pki, { url: auth.url, username: "pole-0042", passwordFile: "bad.pw", tls: { ca: "ca.crt" } });
    await until(() => bad.rig.device.session.stats().lastError !== null, "the broker's refusal");
    expect(bad.rig.device.session.stats().lastError).toMatch(/bad user name or password|not authorised/);
    await bad.rig.stop();
    for (const line of [...good.lines, ...bad.lines]) {
      expect(line).not.toContain(PASSWORD);
      expect(line).not.toContain("wrong\n");
    }
    expect(good.lines.some((l) => l.includes("connected to"))).toBe(true);
  });

  it("refuses a password file or client key readable by group or others, naming the file and the fix", () => {
    const pw = join(pki.dir, "open.pw");
    writeFileSync(pw, `${PASSWORD}\n`);
    chmodSync(pw, 0o644);
    const key = join(pki.dir, "open.key");
    writeFileSync(key, "not really a key");
    chmodSync(key, 0o640);
    const t = loadTransport(
      mustLoad(
        siteConfig("perm-1", {
          mqtt: { url: tls.url, username: "u", passwordFile: "open.pw", tls: { ca: "ca.crt", cert: "client.crt", key: "open.key" } },
        }),
      ).config.mqtt,
      { baseDir: pki.dir },
    );
    expect(t.problems).toHaveLength(2);
    expect(t.problems[0]).toContain(pw);
    expect(t.problems[0]).toContain(`chmod 600 ${pw}`);
    expect(t.problems[0]).toContain("0644");
    expect(t.problems[1]).toContain(`chmod 600 ${key}`);
    expect(t.options.password).toBeUndefined();
    expect(t.options.key).toBeUndefined();
    expect(JSON.stringify(t.problems)).not.toContain(PASSWORD);
  });

  it("roadside run refuses to start with a world-readable password file (exit 2)", () => {
    builtDist("app/main.js");
    const pw = join(pki.dir, "run-open.pw");
    writeFileSync(pw, `${PASSWORD}\n`);
    chmodSync(pw, 0o644);
    const cfg = join(pki.dir, "device.json");
    writeFileSync(
      cfg,
      JSON.stringify(
        siteConfig("perm-2", { mqtt: { url: auth.url, username: "pole-0042", passwordFile: "run-open.pw", tls: { ca: "ca.crt" } } }),
      ),
    );
    const r = spawnSync(process.execPath, [BIN, "run", "--config", cfg, "--state-dir", join(pki.dir, "state"), "--quiet"], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`chmod 600 ${pw}`);
    expect(r.stderr + r.stdout).not.toContain(PASSWORD);
  });
});
