import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signCommand } from "../../src/control/signing.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { freePort, hasMosquitto, startMosquitto } from "../helpers/brokers.js";
import { builtDist, siteConfig, until } from "./rig.js";

const BIN = new URL("../../bin/roadside.js", import.meta.url).pathname;
builtDist("app/main.js"); // a missing build fails here, never skips
const DEV = "ctl-1";

/** `roadside run` as systemd would run it, with its exit code and stderr kept. */
function runDevice(args: string[]): { child: ChildProcess; exit: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, "run", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return { child, exit: new Promise((r) => child.once("exit", (code) => r(code))), stderr: () => err };
}

describe.skipIf(!hasMosquitto())("roadside run: signed config apply with rollback, and restart (real process, Mosquitto)", () => {
  let mosq: Mosquitto;
  beforeAll(async () => {
    mosq = await startMosquitto();
  });
  afterAll(async () => {
    await mosq?.stop();
  });

  it("applies a good config, rolls back one that cannot connect, and restarts with exit code 75", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-ctl-"));
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    writeFileSync(join(dir, "cmd.pub"), publicKey.export({ type: "spki", format: "pem" }));
    const base = siteConfig(DEV, { windows: { default: "10s" } });
    const config = (site: string, url = mosq.url): Record<string, unknown> => ({
      ...base,
      device: { id: DEV, board: "sim", site },
      mqtt: { url, backoffMin: "200ms", backoffMax: "1s" },
      control: { publicKeyFile: "cmd.pub", applyTimeout: "3s" },
      health: { interval: "5s" },
    });
    const cfg = join(dir, "device.json");
    writeFileSync(cfg, JSON.stringify(config("Main St")));
    const args = ["--config", cfg, "--state-dir", join(dir, "state"), "--quiet"];

    const op = mqtt.connect(mosq.url, { protocolVersion: 5 });
    const replies: {
      topic: string;
      body: { id: string; ok: boolean; result?: { configHash?: string }; error?: { code: string; message: string } };
    }[] = [];
    const manifests: string[] = [];
    const seqs: number[] = [];
    op.on("message", (topic, payload) => {
      if (topic.endsWith("/reply")) replies.push({ topic, body: JSON.parse(payload.toString()) as (typeof replies)[number]["body"] });
      else if (topic.endsWith("/manifest")) manifests.push((JSON.parse(payload.toString()) as { configHash: string }).configHash);
      else if (topic.includes("/traffic/")) seqs.push(decodeMessage(payload).seq);
    });
    await new Promise<void>((r) =>
      op.once("connect", () =>
        op.subscribe([`roadside/${DEV}/cmd/+/reply`, `roadside/${DEV}/manifest`, `roadside/${DEV}/traffic/+`], { qos: 1 }, () => r()),
      ),
    );
    let issued = Date.now();
    const send = async (command: string, id: string, extra: Record<string, unknown>): Promise<(typeof replies)[number]["body"]> => {
      const signed = signCommand(privateKey, { device: DEV, command, issuedAt: ++issued, ...extra });
      op.publish(`roadside/${DEV}/cmd/${command}`, JSON.stringify({ id, ...signed }), { qos: 1 });
      await until(() => replies.some((r) => r.body.id === id), `the reply to ${id}`, 20_000);
      return replies.find((r) => r.body.id === id)!.body;
    };

    let dev = runDevice(args);
    await until(() => manifests.length > 0, "the first manifest", 20_000);
    const h0 = manifests[manifests.length - 1]!;

    // a good config: applied, file replaced (old one kept as .prev), new manifest
    const applied = await send("config", "c1", { config: config("Main St / 5th Ave") });
    expect(applied.ok, JSON.stringify(applied)).toBe(true);
    const h1 = applied.result!.configHash!;
    expect(h1).not.toBe(h0);
    expect((JSON.parse(readFileSync(cfg, "utf8")) as { device: { site: string } }).device.site).toBe("Main St / 5th Ave");
    expect((JSON.parse(readFileSync(`${cfg}.prev`, "utf8")) as { device: { site: string } }).device.site).toBe("Main St");
    await until(() => manifests[manifests.length - 1] === h1, "the new manifest");

    // a config that cannot reach its broker: rolled back after applyTimeout, file unchanged
    const dead = `mqtt://127.0.0.1:${await freePort()}`;
    const before = readFileSync(cfg, "utf8");
    const rolled = await send("config", "c2", { config: config("Nowhere", dead) });
    expect(rolled.ok).toBe(false);
    expect(rolled.error?.code).toBe("rolled-back");
    expect(rolled.error?.message).toMatch(/not connected to the broker within 3 s/);
    expect(readFileSync(cfg, "utf8")).toBe(before);
    await until(() => manifests[manifests.length - 1] === h1, "the previous config's manifest again");
    op.publish(`roadside/${DEV}/cmd/ping`, JSON.stringify({ id: "p1" }), { qos: 1 });
    await until(() => replies.some((r) => r.body.id === "p1" && r.body.ok), "a ping reply after the rollback");

    // restart: reply first, then exit 75 for systemd
    await until(() => seqs.length >= 2, "some summaries", 30_000);
    const restarting = await send("restart", "r1", {});
    expect(restarting.ok).toBe(true);
    expect(await dev.exit).toBe(75);
    const maxBefore = Math.max(...seqs);

    // systemd starts it again: the applied config, numbering continued
    dev = runDevice(args);
    const n = manifests.length;
    await until(() => manifests.length > n, "the manifest after the restart", 20_000);
    expect(manifests[manifests.length - 1]).toBe(h1);
    await until(() => seqs.some((s) => s > maxBefore), "summaries after the restart", 30_000);
    expect(Math.min(...seqs.filter((s) => s > maxBefore))).toBe(maxBefore + 1);
    dev.child.kill("SIGTERM");
    expect(await dev.exit).toBe(0);
    expect(dev.stderr()).not.toMatch(/"level":"error".*(?:failed|crash)/);
    op.end(true);
  }, 120_000);
});
