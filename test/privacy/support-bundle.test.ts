import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redactConfig } from "../../src/doctor/support.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { identifierSeed, simTag } from "../../src/sim/identifiers.js";
import { simProbeAddress } from "../../src/sim/identifier-bytes.js";
import { startAedes } from "../helpers/brokers.js";
import { runCli } from "../helpers/cli.js";
import { NeedleIndex, needles } from "./leak-scan.js";

/**
 * `roadside support` bundles go to ticket systems, e-mail and vendors: they must hold no identifier
 * and no secret. The leak audit's method on a device that read a probe scanner and an RFID reader:
 * every identifier the simulator can have emitted, in every encoding, searched in the bundle's bytes.
 */
const SEED = 2026;
const USERS = 40;
const PASSWORD = "S3cr3t-pw-for-the-support-test";

describe("roadside support: a bundle for a ticket without identifiers or secrets", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it("holds versions, board, redacted config, doctor, last health, outbox statistics; no identifier in any encoding, no password", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-support-"));
    const pw = join(dir, "mqtt.pw");
    writeFileSync(pw, `${PASSWORD}\n`);
    chmodSync(pw, 0o600);
    const file = join(dir, "device.yaml");
    writeFileSync(
      file,
      `device: { id: sup-1, board: sim, site: "Market square" }
mqtt: { url: "${broker.url}", username: sup-1, passwordFile: ${pw} }
identifiers:
  scanners: { ped1: { port: { path: sim0 } } }
  readers: { bin7: { port: { path: sim1 } } }
sim:
  seed: ${SEED}
  identifiers:
    scanners: { ped1: { devicesPerHour: 1500 } }
    readers: { bin7: { users: ${USERS}, depositsPerHour: 120 } }
`,
    );
    const state = join(dir, "state");
    // a device that ran two hours: its outbox, its retained heartbeat on the broker
    const sim = await runCli(["sim", "-c", file, "--duration", "2h", "--start", "2026-01-05T08:00:00Z", "--state-dir", state]);
    expect(sim.code, sim.stderr).toBe(0);

    const out = join(dir, "bundle.json");
    const r = await runCli(["support", "-c", file, "-o", out, "--state-dir", join(state, "sup-1"), "--seconds", "120"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`wrote ${out}`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(out);
    const bundle = JSON.parse(bytes.toString("utf8")) as Record<string, any>;
    expect(bundle).toMatchObject({ supportBundle: 1, board: { id: "sim" }, device: { id: "sup-1", site: "Market square" } });
    expect(bundle["versions"]).toMatchObject({ roadside: expect.any(String), node: process.versions.node });
    expect(bundle["config"]["text"]["mqtt"]).toEqual({ url: broker.url, username: "sup-1", passwordFile: pw });
    const checks = (bundle["doctor"] as { check: string; status: string; title: string }[]).map((d) => d.check);
    expect(checks).toEqual(expect.arrayContaining(["config", "board", "serial", "disk", "outbox", "files", "broker"]));
    // doctor's watch read both identifier ports (counting bytes, never keeping one)
    const serial = (bundle["doctor"] as { check: string; title: string }[]).filter((d) => d.check === "serial");
    expect(serial.map((s) => s.title).join("\n")).toMatch(/identifiers\.scanners\.ped1 .*: \d+ bytes in 120 s \(an identifier port/);
    expect(bundle["health"]).toMatchObject({ topic: "roadside/sup-1/health", retained: true, health: { health: 1, device: "sup-1" } });
    expect(bundle["outbox"]).toMatchObject({ exists: true, messages: expect.any(Number), meta: { next_seq: expect.any(Number) } });
    expect(bundle["journal"]).toHaveProperty("unit", "roadside.service");

    // every identifier the simulator can have emitted (ids are handed out from 0; rotated BLE ones as 4k+3)
    const seed = identifierSeed(SEED);
    const ids: Buffer[] = [];
    for (let a = 0; a < 8000; a++) ids.push(simProbeAddress(seed, "ped1", a));
    for (let u = 0; u < USERS; u++) ids.push(simTag(seed, u));
    const index = new NeedleIndex(needles(ids));
    const hits = index.scan("bundle", bytes);
    // the search finds an identifier that is there (in a form a careless log line would use)
    const planted = Buffer.concat([bytes, Buffer.from(`"x": "${[...ids[7]!].map((b) => b.toString(16).padStart(2, "0")).join(":")}"`)]);
    expect(index.scan("planted", planted).map((h) => [h.id, h.form])).toEqual([[7, "colon-lower"]]);
    expect(hits, `identifier found in the bundle: ${JSON.stringify(hits.slice(0, 5))}`).toEqual([]);
    expect(bytes.includes(PASSWORD)).toBe(false);
  }, 120_000);

  it("redacts secrets in a config as written, even one that does not validate", async () => {
    expect(
      redactConfig({
        mqtt: { url: "mqtts://dev:hunter2@broker:8883", password: "hunter2", passwordFile: "/etc/roadside/pw" },
        x: [{ apiKey: "k", token: 5 }],
      }),
    ).toEqual({
      mqtt: { url: "mqtts://***@broker:8883", password: "[redacted]", passwordFile: "/etc/roadside/pw" },
      x: [{ apiKey: "[redacted]", token: "[redacted]" }],
    });
    const dir = mkdtempSync(join(tmpdir(), "roadside-support-bad-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(file, 'device: { id: bad, board: sim }\nmqtt: { url: "mqtt://dev:hunter2@127.0.0.1:1", password: hunter2 }\n');
    const r = await runCli(["support", "-c", file, "-o", "-", "--seconds", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("hunter2");
    const b = JSON.parse(r.stdout) as { config: { problems: string[]; text: { mqtt: Record<string, string> } }; outbox: unknown };
    expect(b.config.text.mqtt).toEqual({ url: "mqtt://***@127.0.0.1:1", password: "[redacted]" });
    expect(b.config.problems.length).toBeGreaterThan(0);
    expect(b.outbox).toEqual({ unavailable: "the config does not validate; give --state-dir" });
  });
});
