import { spawn, spawnSync } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { DEFAULTS, NAMES, UNITS } from "../../src/publish/compact-tables.js";
import { simulate } from "../../src/sim/session.js";
import type { MeasureValue } from "../../src/watch/events.js";
import { WatchModel } from "../../src/watch/model.js";
import type { Mosquitto, Received } from "../helpers/brokers.js";
import { hasMosquitto, MOSQUITTO_MISSING, startAedes, startMosquitto, subscribe } from "../helpers/brokers.js";
import { mustLoad } from "../helpers/sim-device.js";

/**
 * docs/examples/subscriber.py reads the cellular profile: its copy of the tables is the device's, and
 * it turns real packs (a seeded simulated site) into the same per-stream values as `roadside watch`,
 * with Debian's paho-mqtt 1.6 and python3-cbor2 against Mosquitto.
 */
const SCRIPT = fileURLToPath(new URL("../../docs/examples/subscriber.py", import.meta.url));
const PYTHON = "/usr/bin/python3";
const SEED = 8128;
const START = Date.UTC(2026, 0, 5, 7);
const hasPy = spawnSync(PYTHON, ["-c", "import cbor2, paho.mqtt"]).status === 0;
const MISSING =
  "python3-paho-mqtt and python3-cbor2 are not installed: `apt-get install -y python3-paho-mqtt python3-cbor2` (.ci/run does this)";

function py(code: string, input?: string): string {
  const r = spawnSync(
    PYTHON,
    ["-B", "-c", `import sys, json; sys.path.insert(0, ${JSON.stringify(dirname(SCRIPT))}); import subscriber\n${code}`],
    {
      encoding: "utf8",
      input,
    },
  );
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}

const can = hasMosquitto() && hasPy;
describe.skipIf(!can)(
  `subscriber.py and the cellular profile${can ? "" : `: skipped, ${hasPy ? MOSQUITTO_MISSING : MISSING}`} (seed ${SEED})`,
  () => {
    let aedes: EmbeddedBroker;
    let mosquitto: Mosquitto;
    let packs: Received[] = [];
    beforeAll(async () => {
      aedes = await startAedes();
      mosquitto = await startMosquitto();
      const sub = await subscribe(aedes.url, "roadside/py-0001/#");
      const r = await simulate({
        loaded: mustLoad({
          device: { id: "py-0001", board: "sim" },
          inputs: { "l1.up": { line: "GPIO17" }, "l1.down": { line: "GPIO27" }, "l2.up": { line: "GPIO22" } },
          detectors: { lane1: { loops: ["l1.up", "l1.down"] }, lane2: { loops: ["l2.up"] } },
          manholes: {
            mh1: { sensor: { type: "maxbotix", model: "hrxl", port: { path: "sim0" } }, mountHeightMm: 2400, overflowHeightMm: 1500 },
          },
          windows: { default: "5m" },
          publish: { profile: "cellular" },
          sim: { seed: SEED, traffic: { lane1: { vehiclesPerHour: 900, speedKmh: 90 }, lane2: { vehiclesPerHour: 300 } } },
        }),
        brokerUrl: aedes.url,
        speed: "max",
        logger: silentLogger,
        mqtt: { backoffMinMs: 50, backoffMaxMs: 500 },
        drainTimeoutMs: 20_000,
        startWallMs: START,
        durationS: 30 * 60,
      });
      await sub.waitFor((m) => m.filter((x) => x.topic.endsWith("/window") || x.topic.includes("/alarm/")).length >= r.committed);
      await sub.close();
      packs = sub.messages.filter((m) => m.topic.endsWith("/window"));
    }, 60_000);
    afterAll(async () => {
      await aedes?.close();
      await mosquitto?.stop();
    });

    it("has the device's tables: short names, defaults and units", () => {
      const tables = JSON.parse(py("print(json.dumps([subscriber.NAMES, subscriber.DEFAULTS, subscriber.UNITS]))")) as [
        string[],
        [string, number | string | boolean | { same: string }][],
        Record<string, string>,
      ];
      expect(tables[0]).toEqual(NAMES);
      expect(tables[1]).toEqual(DEFAULTS.map((d) => [d.n, d.same !== undefined ? { same: d.same } : (d.v ?? d.vs ?? d.vb)]));
      expect(tables[2]).toEqual(UNITS);
    });

    it("decodes every pack of the run to the values and units `roadside watch` shows", () => {
      expect(packs.length, `seed ${SEED}`).toBeGreaterThanOrEqual(6);
      const out = py(
        "for line in sys.stdin:\n  for d, k, s, seq, bt, vals in subscriber.decode_window(bytes.fromhex(line.strip())):\n    print(json.dumps([d, k, s, seq, bt, vals]))",
        packs.map((p) => p.payload.toString("hex")).join("\n"),
      );
      const fromPy = out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as [string, string, string, number, number, Record<string, [number | string | boolean, string | null]>]);
      const model = new WatchModel({ prefix: "roadside" });
      const events = packs.flatMap((p) => model.message(p.topic, p.payload, false, START + 3600_000)).filter((e) => e.type === "data");
      expect(fromPy.length).toBe(events.length);
      for (const [i, ev] of events.entries()) {
        const [device, kind, stream, seq, bt, vals] = fromPy[i]!;
        expect([device, kind, stream, seq, bt * 1000]).toEqual([ev.device, ev.kind, ev.stream, ev.seq, Date.parse(ev.windowStart)]);
        const asWatch: Record<string, MeasureValue> = {};
        for (const [n, [v, u]] of Object.entries(vals)) {
          const m: MeasureValue = {};
          if (u !== null) m.u = u;
          if (typeof v === "number") m.v = v;
          else if (typeof v === "string") m.vs = v;
          else m.vb = v;
          asWatch[n] = m;
        }
        expect(asWatch, `${kind}/${stream} seq ${seq}`).toEqual(ev.measures);
      }
    });

    it("prints one line per stream of a pack it receives from Mosquitto with Debian's paho-mqtt", async () => {
      const port = new URL(mosquitto.url).port;
      const child = spawn(PYTHON, ["-u", "-B", SCRIPT, "127.0.0.1", port], { stdio: ["ignore", "pipe", "pipe"] });
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
      const pub = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0 });
      try {
        await pub.publishAsync("roadside/py-0001/status", "online", { qos: 1, retain: true });
        await until(() => stdout.includes("py-0001 is online"));
        await pub.publishAsync(packs[1]!.topic, packs[1]!.payload, { qos: 1 });
        await until(() => stdout.includes("level/mh1"));
      } finally {
        child.kill("SIGTERM");
        await pub.publishAsync("roadside/py-0001/status", "", { qos: 1, retain: true });
        await pub.endAsync();
      }
      const lines = stdout.split("\n").filter((l) => l.startsWith("py-0001 ") && !l.includes(" is "));
      expect(lines.map((l) => l.split(" ").slice(0, 2).join(" "))).toEqual([
        "py-0001 traffic/lane1",
        "py-0001 traffic/lane2",
        "py-0001 level/mh1",
      ]);
      expect(lines[0]).toMatch(/'speed\.tms': \(\d+\.\d{1,2}, 'km\/h'\)/);
      expect(stderr).not.toMatch(/ignored/);
    });
  },
);
