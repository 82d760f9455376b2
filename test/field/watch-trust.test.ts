import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { encodePack } from "../../src/publish/envelope.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { hasMosquitto, MOSQUITTO_MISSING, startAedes, startMosquitto } from "../helpers/brokers.js";
import { ROADSIDE, runCli, startCli } from "../helpers/cli.js";
import { validate } from "../helpers/json-schema.js";
import { hasScript, startInPty } from "../helpers/terminal.js";

/**
 * What a platform engineer relies on in `roadside watch`: a refused login ends it with the reason,
 * two different payloads for one window are flagged, the heartbeat's health shows per device, and
 * NO_COLOR is honoured (doctor too).
 */
const SCHEMA = JSON.parse(readFileSync(new URL("../../docs/message.schema.json", import.meta.url), "utf8")) as Record<string, unknown>;
const hasPasswd = spawnSync("sh", ["-c", "command -v mosquitto_passwd"]).status === 0;
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;

const pack = (device: string, seq: number, startMs: number, volume: number) =>
  Buffer.from(
    encodePack(
      [
        { bn: `${device}:traffic:lane1:`, bt: startMs / 1000, n: "seq", v: seq },
        { n: "schema", v: 1 },
        { n: "window", u: "s", v: 60 },
        { n: "observed", u: "s", v: 60 },
        { n: "timeq", vs: "synced" },
        { n: "volume", u: "count", v: volume },
      ],
      "cbor",
    ),
  );

const canAuth = hasMosquitto() && hasPasswd;
describe.skipIf(!canAuth)(
  `watch against a broker that refuses its credentials${canAuth ? "" : `: skipped, ${MOSQUITTO_MISSING} (with mosquitto_passwd)`}`,
  () => {
    let broker: Mosquitto;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "roadside-watch-auth-"));
      const passwd = join(dir, "passwd");
      spawnSync("mosquitto_passwd", ["-b", "-c", passwd, "platform", "right-password"]);
      broker = await startMosquitto({ listenerLines: ["allow_anonymous false", `password_file ${passwd}`] });
    });
    afterAll(async () => {
      await broker?.stop();
    });

    it("ends at once with exit 1 and a credentials hint, not a retry loop blaming the URL and firewall", async () => {
      const pw = join(dir, "wrong");
      writeFileSync(pw, "wrong-password\n");
      // --duration 120s: before the fix watch retried until then; now it ends on the first refusal
      const run = startCli([
        "watch",
        "--broker",
        broker.url,
        "--username",
        "platform",
        "--password-file",
        pw,
        "--json",
        "--duration",
        "120s",
      ]);
      const code = await run.exited;
      expect(code).toBe(1);
      expect(run.stderr()).toContain(
        `roadside watch: ${broker.url} refused the credentials (Connection refused: Not authorized); stopped instead of retrying. Check --username and --password-file`,
      );
      expect(run.stderr()).not.toContain("firewall");
      const events = run
        .stdout()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; state?: string });
      expect(events.filter((e) => e.type === "broker" && e.state === "error")).toHaveLength(1);

      const right = join(dir, "right");
      writeFileSync(right, "right-password\n");
      const ok = await runCli([
        "watch",
        "--broker",
        broker.url,
        "--username",
        "platform",
        "--password-file",
        right,
        "--json",
        "--duration",
        "1s",
      ]);
      expect(ok.code, ok.stderr).toBe(0);
    });
  },
);

describe("watch flags conflicting payloads; colours obey NO_COLOR", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it("--json prints a conflict line (valid against docs/message.schema.json) for two payloads of one window", async () => {
    const run = startCli(["watch", "--broker", broker.url, "--json", "--duration", "30s"]);
    const pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    // wait for watch's subscription: a retained status it must report
    await pub.publishAsync("roadside/twin-1/status", "online", { qos: 1, retain: true });
    const until = async (pred: () => boolean): Promise<void> => {
      while (!pred()) {
        if (typeof run.child.exitCode === "number") throw new Error(run.stderr());
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(() => run.stdout().includes('"type":"status"'));
    await pub.publishAsync("roadside/twin-1/traffic/lane1", pack("twin-1", 10, T0, 12), { qos: 1 });
    await pub.publishAsync("roadside/twin-1/traffic/lane1", pack("twin-1", 10, T0, 12), { qos: 1 }); // a redelivery
    await pub.publishAsync("roadside/twin-1/traffic/lane1", pack("twin-1", 3, T0, 40), { qos: 1 }); // the twin's
    await until(() => run.stdout().includes('"type":"conflict"'));
    await pub.publishAsync("roadside/twin-1/status", "", { qos: 1, retain: true });
    await pub.endAsync();
    run.child.kill("SIGINT");
    await run.exited;
    const lines = run
      .stdout()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const conflicts = lines.filter((l) => l["type"] === "conflict");
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({
      device: "twin-1",
      stream: "traffic/lane1",
      windowStart: new Date(T0).toISOString(),
      seqs: [10, 3],
    });
    expect(validate(SCHEMA, conflicts[0])).toEqual([]);
    expect(run.stderr()).toMatch(/, conflicts 1\n/);
  });

  it.skipIf(!hasScript())("on a terminal: colours by default, none with NO_COLOR (watch and doctor)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-nocolor-"));
    const file = join(dir, "d.yaml");
    writeFileSync(file, "device: { id: nc-1, board: sim }\ninputs: { a: { line: GPIO17 } }\ndetectors: { lane1: { loops: [a] } }\n");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: SGR colour sequences start with ESC
    const SGR_COLOUR = /\x1b\[(?:1|3\d|90)m/;
    const draw = async (command: string, env: NodeJS.ProcessEnv): Promise<string> => {
      const r = startInPty(command, { columns: 120, rows: 30, env });
      await r.exited;
      return r.output();
    };
    const watch = `${process.execPath} ${ROADSIDE} watch --broker ${broker.url} --duration 2s`;
    const doctor = `${process.execPath} ${ROADSIDE} doctor -c ${file} --seconds 5 --state-dir ${join(dir, "s")} --skip clock,service`;
    expect(await draw(watch, {})).toMatch(SGR_COLOUR);
    const plain = await draw(watch, { NO_COLOR: "1" });
    expect(plain).not.toMatch(SGR_COLOUR);
    expect(plain).toContain("roadside watch");
    expect(await draw(doctor, {})).toMatch(SGR_COLOUR);
    const doc = await draw(doctor, { NO_COLOR: "1" });
    expect(doc).not.toMatch(SGR_COLOUR);
    expect(doc).toMatch(/[✓!] input {3}a \(GPIO17, pin 11\)/);
  });
});
