import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeMessage } from "../../src/publish/envelope.js";
import { CBOR_LABELS, decodeSenmlCbor } from "../../src/publish/senml.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { hasMosquitto, MOSQUITTO_MISSING, startMosquitto, subscribe } from "../helpers/brokers.js";
import { startCli } from "../helpers/cli.js";

const mosquitto = hasMosquitto();
const PYTHON = "/usr/bin/python3";
const hasCbor2 = spawnSync(PYTHON, ["-c", "import cbor2"]).status === 0;

/** Decode CBOR payloads with Debian's python3-cbor2: an independent decoder. */
function decodeWithCbor2(payloads: Buffer[]): unknown[] {
  const script = `
import sys, json, cbor2
out = []
for line in sys.stdin.read().split():
    obj = cbor2.loads(bytes.fromhex(line))
    out.append([{str(k): v for k, v in rec.items()} for rec in obj])
print(json.dumps(out))
`;
  const r = spawnSync(PYTHON, ["-c", script], { input: payloads.map((p) => p.toString("hex")).join("\n"), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`python3-cbor2 failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown[];
}

function config(dir: string, id: string): string {
  const path = join(dir, `${id}.yaml`);
  writeFileSync(
    path,
    `device: { id: ${id}, board: sim }
inputs:
  a.up: { line: GPIO17 }
  a.down: { line: GPIO27 }
detectors:
  lane1: { loops: [a.up, a.down] }
windows: { default: 5s }
mqtt: { keepaliveS: 5 }
sim: { seed: 7, traffic: { lane1: { vehiclesPerHour: 1800 } } }
`,
  );
  return path;
}

describe.skipIf(!mosquitto || !hasCbor2)(
  `end to end against Mosquitto (MQTT 5)${mosquitto ? "" : `: skipped, ${MOSQUITTO_MISSING}`}${hasCbor2 ? "" : "; python3-cbor2 missing: apt-get install -y python3-cbor2"}`,
  () => {
    let broker: Mosquitto;
    let dir: string;
    beforeAll(async () => {
      broker = await startMosquitto();
      dir = mkdtempSync(join(tmpdir(), "roadside-e2e-"));
    });
    afterAll(async () => {
      await broker?.stop();
    });

    it("the roadside process publishes SenML CBOR over MQTT 5 that an independent decoder reads identically", async () => {
      const sub = await subscribe(broker.url, "roadside/e2e-1/#", { protocolVersion: 5 });
      const run = startCli([
        "run",
        "--config",
        config(dir, "e2e-1"),
        "--broker",
        broker.url,
        "--state-dir",
        join(dir, "s1"),
        "--duration",
        "12s",
        "--quiet",
      ]);
      const code = await run.exited;
      expect(code, run.stderr()).toBe(0);
      await sub.waitFor((m) => m.some((x) => x.topic.endsWith("/status") && x.payload.toString() === "offline"));
      await sub.close();

      const status = sub.messages.filter((m) => m.topic === "roadside/e2e-1/status").map((m) => m.payload.toString());
      expect(status).toEqual(["online", "offline"]); // birth, then the clean-stop status
      const manifest = sub.messages.find((m) => m.topic === "roadside/e2e-1/manifest");
      expect(JSON.parse(manifest!.payload.toString())).toMatchObject({
        device: "e2e-1",
        streams: [{ topic: "roadside/e2e-1/traffic/lane1" }],
      });

      const data = sub.messages.filter((m) => m.topic === "roadside/e2e-1/traffic/lane1");
      expect(data.length).toBeGreaterThanOrEqual(3);
      for (const m of data) {
        expect(m.qos).toBe(1);
        expect(m.properties?.["contentType"]).toBe("application/senml+cbor");
        const seq = decodeMessage(m.payload).seq;
        expect(m.properties?.["userProperties"]).toEqual({ seq: String(seq) });
      }
      // python3-cbor2 decodes every payload to the same records as roadside's own decoder
      const independent = decodeWithCbor2(data.map((m) => m.payload));
      const labelName = new Map(Object.entries(CBOR_LABELS).map(([k, v]) => [String(v), k]));
      data.forEach((m, i) => {
        const ours = decodeSenmlCbor(m.payload);
        const theirs = (independent[i] as Record<string, unknown>[]).map((rec) =>
          Object.fromEntries(Object.entries(rec).map(([k, v]) => [labelName.get(k) ?? k, v])),
        );
        expect(theirs).toEqual(ours);
      });
      const seqs = data.map((m) => decodeMessage(m.payload).seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    });

    it("the broker announces a killed device as offline (last will), retained for late subscribers", async () => {
      const run = startCli(["run", "--config", config(dir, "e2e-2"), "--broker", broker.url, "--state-dir", join(dir, "s2"), "--quiet"]);
      const live = await subscribe(broker.url, "roadside/e2e-2/status", { protocolVersion: 5 });
      await live.waitFor((m) => m.some((x) => x.payload.toString() === "online"));
      run.child.kill("SIGKILL");
      await run.exited;
      // keepalive 5 s: the broker gives up after 1.5 × keepalive and publishes the will
      await live.waitFor((m) => m.some((x) => x.payload.toString() === "offline"), 15_000);
      await live.close();
      const late = await subscribe(broker.url, "roadside/e2e-2/status", { protocolVersion: 5 });
      await late.waitFor((m) => m.length > 0);
      await late.close();
      expect(late.messages[0]).toMatchObject({ retain: true });
      expect(late.messages[0]!.payload.toString()).toBe("offline");
    });
  },
);
