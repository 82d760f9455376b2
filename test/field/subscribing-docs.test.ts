import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import type { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodePack } from "../../src/publish/envelope.js";
import type { SenmlRecord } from "../../src/publish/senml.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { hasMosquitto, MOSQUITTO_MISSING, startMosquitto } from "../helpers/brokers.js";

const EXAMPLES = fileURLToPath(new URL("../../docs/examples/", import.meta.url));
const PYTHON = "/usr/bin/python3";
const hasCbor2 = spawnSync(PYTHON, ["-c", "import cbor2"]).status === 0;
const hasPasswd = spawnSync("sh", ["-c", "command -v mosquitto_passwd"]).status === 0;

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

describe("docs/examples/subscriber.py", () => {
  it("compiles", () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-py-"));
    const r = spawnSync(
      PYTHON,
      [
        "-c",
        `import py_compile; py_compile.compile(${JSON.stringify(join(EXAMPLES, "subscriber.py"))}, cfile=${JSON.stringify(join(dir, "s.pyc"))}, doraise=True)`,
      ],
      { encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(0);
  });

  it.skipIf(!hasCbor2)(
    "decodes real CBOR and JSON payloads, drops the redelivery, reports the gap and accepts the late message (paho stubbed)",
    () => {
      // paho-mqtt is not needed to exercise on_message: a stub module stands in for it
      const msgs = [
        { topic: "roadside/p1/status", payload: Buffer.from("online") },
        { topic: "roadside/p1/traffic/lane1", payload: encodePack(pack("p1", 1, 23), "cbor") },
        { topic: "roadside/p1/traffic/lane1", payload: encodePack(pack("p1", 1, 23), "cbor") }, // redelivered
        { topic: "roadside/p1/traffic/lane1", payload: encodePack(pack("p1", 4, 20), "json") },
        { topic: "roadside/p1/traffic/lane1", payload: encodePack(pack("p1", 2, 19), "cbor") }, // late
        { topic: "roadside/p1/manifest", payload: Buffer.from("{}") },
        { topic: "roadside/p1/status", payload: Buffer.from("offline") },
      ];
      const script = `
import sys, types, json
paho = types.ModuleType("paho"); m = types.ModuleType("paho.mqtt"); c = types.ModuleType("paho.mqtt.client")
paho.mqtt = m; m.client = c
sys.modules.update({"paho": paho, "paho.mqtt": m, "paho.mqtt.client": c})
sys.path.insert(0, ${JSON.stringify(EXAMPLES)})
import subscriber
class Msg:
    def __init__(self, topic, payload): self.topic, self.payload = topic, payload
for line in sys.stdin.read().split():
    topic, hexpayload = line.split(",")
    subscriber.on_message(None, None, Msg(topic, bytes.fromhex(hexpayload)))
`;
      const r = spawnSync(PYTHON, ["-B", "-c", script], {
        input: msgs.map((m) => `${m.topic},${m.payload.toString("hex")}`).join("\n"),
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.split("\n").filter(Boolean)).toEqual([
        "p1 is online",
        "p1 traffic/lane1 1 1767596460 {'volume': (23, 'count')}",
        "p1: gap, seq 2..3 missing",
        "p1 traffic/lane1 4 1767596640 {'volume': (20, 'count')}",
        "p1 traffic/lane1 2 1767596520 {'volume': (19, 'count')}",
        "p1 is offline",
      ]);
    },
  );
});

const canAcl = hasMosquitto() && hasPasswd;
describe.skipIf(!canAcl)(
  `docs/examples/mosquitto/roadside.acl against Mosquitto${canAcl ? "" : `: skipped, ${MOSQUITTO_MISSING} (with mosquitto_passwd)`}`,
  () => {
    let broker: Mosquitto;
    const clients: MqttClient[] = [];
    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), "roadside-acl-"));
      const acl = join(dir, "roadside.acl");
      copyFileSync(join(EXAMPLES, "mosquitto", "roadside.acl"), acl); // the file as documented
      const passwd = join(dir, "passwd");
      for (const [i, user] of ["pole-1", "pole-2", "platform"].entries()) {
        const r = spawnSync("mosquitto_passwd", [...(i === 0 ? ["-c"] : []), "-b", passwd, user, `${user}-secret`], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`mosquitto_passwd: ${r.stderr}`);
      }
      chmodSync(acl, 0o600);
      chmodSync(passwd, 0o600);
      broker = await startMosquitto({ listenerLines: ["allow_anonymous false", `password_file ${passwd}`, `acl_file ${acl}`] });
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => new Promise<void>((r) => c.end(true, {}, () => r()))));
      await broker?.stop();
    });

    const connect = (user: string, password = `${user}-secret`): Promise<MqttClient> =>
      new Promise((resolve, reject) => {
        const c = mqtt.connect(broker.url, {
          protocolVersion: 5,
          clientId: `roadside-${user}-${clients.length}`,
          username: user,
          password,
          reconnectPeriod: 0,
        });
        clients.push(c);
        c.once("connect", () => resolve(c));
        c.once("error", reject);
      });
    const publish = (c: MqttClient, topic: string, payload: Buffer | string): Promise<Error | undefined> =>
      new Promise((resolve) => c.publish(topic, payload, { qos: 1 }, (e) => resolve(e ?? undefined)));

    it("lets a device write only its own topics and read only its own commands; the platform reads all", async () => {
      const platform = await connect("platform");
      const seen: string[] = [];
      platform.on("message", (t) => seen.push(t));
      await new Promise<void>((r) => platform.subscribe("roadside/#", { qos: 1 }, () => r()));
      const pole1 = await connect("pole-1");
      const pole1Got: string[] = [];
      pole1.on("message", (t) => pole1Got.push(t));
      await new Promise<void>((r) => pole1.subscribe("roadside/#", { qos: 1 }, () => r()));

      expect(await publish(pole1, "roadside/pole-1/traffic/lane1", encodePack(pack("pole-1", 1, 3), "cbor"))).toBeUndefined();
      const denied = await publish(pole1, "roadside/pole-2/traffic/lane1", encodePack(pack("pole-2", 1, 3), "cbor"));
      expect(denied?.message).toMatch(/Not authorized/i); // MQTT 5 PUBACK reason 0x87
      expect(await publish(pole1, "roadside/pole-2/status", "offline")).toBeDefined();
      expect(await publish(platform, "roadside/pole-1/cmd/ping", "{}")).toBeUndefined();
      expect(await publish(platform, "roadside/pole-2/cmd/ping", "{}")).toBeUndefined();
      await new Promise((r) => setTimeout(r, 500));
      expect(seen.sort()).toEqual(["roadside/pole-1/cmd/ping", "roadside/pole-1/traffic/lane1", "roadside/pole-2/cmd/ping"]);
      expect(pole1Got).toEqual(["roadside/pole-1/cmd/ping"]); // not its own data, not another device's commands

      await expect(connect("pole-2", "wrong")).rejects.toThrow(/Bad User Name or Password|Not authorized/i);
    });
  },
);

describe("docs name what the code does", () => {
  it("subscribing.md and field-guide.md exist and point at the example files and commands", () => {
    const sub = readFileSync(fileURLToPath(new URL("../../docs/subscribing.md", import.meta.url)), "utf8");
    for (const s of ["examples/subscriber.py", "examples/mosquitto/roadside.acl", "message.schema.json", "payloads.md", "roadside watch"])
      expect(sub, s).toContain(s);
    const guide = readFileSync(fileURLToPath(new URL("../../docs/field-guide.md", import.meta.url)), "utf8");
    for (const s of [
      "scripts/install.sh",
      "roadside provision",
      "roadside validate",
      "roadside doctor",
      "roadside install",
      "roadside watch",
      "scripts/bundle.sh",
    ])
      expect(guide, s).toContain(s);
  });
});
