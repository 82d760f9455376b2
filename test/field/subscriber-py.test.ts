import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodePack } from "../../src/publish/envelope.js";
import type { SenmlRecord } from "../../src/publish/senml.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { hasMosquitto, MOSQUITTO_MISSING, startMosquitto } from "../helpers/brokers.js";

/**
 * docs/examples/subscriber.py as a platform engineer runs it: a real paho-mqtt against Mosquitto.
 * Debian 12 / Raspberry Pi OS bookworm ship paho-mqtt 1.6 (apt-get install python3-paho-mqtt
 * python3-cbor2; .ci/run installs them); paho-mqtt 2.x is tested too where ROADSIDE_PAHO2_PATH names
 * a folder holding its `paho` package (PyPI is out of CI's reach).
 */
const SCRIPT = fileURLToPath(new URL("../../docs/examples/subscriber.py", import.meta.url));
const PYTHON = "/usr/bin/python3";
const pahoVersion = (pythonPath?: string): string | undefined => {
  const r = spawnSync(PYTHON, ["-c", "import cbor2, paho.mqtt; print(paho.mqtt.__version__)"], {
    encoding: "utf8",
    env: { ...process.env, ...(pythonPath ? { PYTHONPATH: pythonPath } : {}) },
  });
  return r.status === 0 ? r.stdout.trim() : undefined;
};
const debianPaho = pahoVersion();
const paho2Path = process.env["ROADSIDE_PAHO2_PATH"];
const paho2 = paho2Path ? pahoVersion(paho2Path) : undefined;
const MISSING =
  "python3-paho-mqtt and python3-cbor2 are not installed: `apt-get install -y python3-paho-mqtt python3-cbor2` (.ci/run does this)";

function pack(device: string, seq: number, volume: number): SenmlRecord[] {
  return [
    { bn: `${device}:traffic:lane1:`, bt: 1767596400 + seq * 60, n: "seq", v: seq },
    { n: "schema", v: 1 },
    { n: "window", u: "s", v: 60 },
    { n: "observed", u: "s", v: 60 },
    { n: "timeq", vs: "synced" },
    { n: "volume", u: "count", v: volume },
  ];
}

async function runSubscriber(
  broker: Mosquitto,
  pythonPath: string | undefined,
): Promise<{ stdout: string; stderr: string; alive: boolean }> {
  const port = new URL(broker.url).port;
  const child = spawn(PYTHON, ["-u", "-B", SCRIPT, "127.0.0.1", port], {
    env: { ...process.env, ...(pythonPath ? { PYTHONPATH: pythonPath } : {}) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const until = (pred: () => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (pred()) resolve();
        else if (child.exitCode !== null) reject(new Error(`subscriber.py exited ${child.exitCode}: ${stderr}`));
        else setTimeout(check, 20);
      };
      check();
    });
  const pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  let result = { stdout: "", stderr: "", alive: false };
  try {
    // a retained status tells when the subscriber's subscription is in place
    await pub.publishAsync("roadside/p1/status", "online", { qos: 1, retain: true });
    await until(() => stdout.includes("p1 is online"));
    // anyone with write access may publish under the prefix: junk must not stop the subscriber
    await pub.publishAsync("roadside/p1/traffic/lane1", Buffer.from([0x9f, 0x01]), { qos: 1 }); // truncated CBOR (CBORDecodeEOF)
    await pub.publishAsync("roadside/other/traffic/x", "hello", { qos: 1 });
    await pub.publishAsync("roadside/other/level/y", '[{"n": 1}]', { qos: 1 });
    await pub.publishAsync("roadside/other/bin/z", Buffer.from([0x18, 0x2a]), { qos: 1 }); // CBOR 42, not a pack
    await pub.publishAsync("roadside/p1/traffic/lane1", Buffer.from(encodePack(pack("p1", 1, 23), "cbor")), { qos: 1 });
    await pub.publishAsync("roadside/p1/traffic/lane1", Buffer.from(encodePack(pack("p1", 3, 20), "json")), { qos: 1 });
    await until(() => stdout.includes("p1 traffic/lane1 3"));
  } finally {
    const alive = child.exitCode === null;
    if (alive) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    await pub.publishAsync("roadside/p1/status", "", { qos: 1, retain: true }); // the next run starts clean
    await pub.endAsync();
    result = { stdout, stderr, alive };
  }
  return result;
}

const expectRun = (r: { stdout: string; stderr: string; alive: boolean }): void => {
  expect(r.alive, r.stderr).toBe(true);
  expect(r.stdout.split("\n").filter(Boolean)).toEqual([
    "p1 is online",
    "p1 traffic/lane1 1 1767596460 {'volume': (23, 'count')}",
    "p1: gap, seq 2..2 missing",
    "p1 traffic/lane1 3 1767596580 {'volume': (20, 'count')}",
  ]);
  const ignored = r.stderr.split("\n").filter((l) => l.includes("ignored, not a roadside SenML pack"));
  expect(ignored.map((l) => l.split(":")[0])).toEqual([
    "roadside/p1/traffic/lane1",
    "roadside/other/traffic/x",
    "roadside/other/level/y",
    "roadside/other/bin/z",
  ]);
};

const can = hasMosquitto() && debianPaho !== undefined;
describe.skipIf(!can)(
  `docs/examples/subscriber.py with a real paho-mqtt against Mosquitto${can ? "" : `: skipped, ${hasMosquitto() ? MISSING : MOSQUITTO_MISSING}`}`,
  () => {
    let broker: Mosquitto;
    beforeAll(async () => {
      broker = await startMosquitto();
    });
    afterAll(async () => {
      await broker?.stop();
    });

    it(`runs with Debian's paho-mqtt ${debianPaho ?? ""} and survives junk payloads under the prefix`, async () => {
      expectRun(await runSubscriber(broker, undefined));
    });

    it.skipIf(paho2 === undefined || !paho2.startsWith("2."))(
      `runs with paho-mqtt 2.x${paho2 ? ` (${paho2})` : ": skipped, set ROADSIDE_PAHO2_PATH to a folder holding paho-mqtt 2's paho package (PyPI is not reachable from CI)"}`,
      async () => {
        expectRun(await runSubscriber(broker, paho2Path));
      },
    );
  },
);
