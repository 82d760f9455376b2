import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/args.js";
import { main } from "../../src/cli/main.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import type { Mosquitto, Received } from "../helpers/brokers.js";
import { hasMosquitto, MOSQUITTO_MISSING, startAedes, startMosquitto, subscribe } from "../helpers/brokers.js";
import { FAULT_KINDS } from "../../src/config/sim-faults.js";

function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    isTTY: false,
    out: (t: string) => {
      io.stdout += t;
    },
    err: (t: string) => {
      io.stderr += t;
    },
  };
  return io;
}

const SEED = 7;
const CONFIG = `
device: { id: cli-1, board: sim }
inputs:
  a.up: { line: GPIO17 }
  a.down: { line: GPIO27 }
  b.up: { line: GPIO22 }
detectors:
  lane-a: { loops: [a.up, a.down] }
  lane-b: { loops: [b.up] }
windows: { default: 5m }
sim:
  seed: ${SEED}
  traffic:
    lane-a: { vehiclesPerHour: 700, speedKmh: 55 }
    lane-b: { vehiclesPerHour: 300, speedKmh: 40 }
  faults:
    - { at: 50m, kind: clock-jump, params: { deltaS: -120 } }
`;

const dataOf = (msgs: Received[]) =>
  msgs.filter((m) => m.topic.includes("/traffic/")).sort((x, y) => decodeMessage(x.payload).seq - decodeMessage(y.payload).seq);

describe(`roadside sim and roadside replay (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  let dir: string;
  let config: string;
  beforeAll(async () => {
    broker = await startAedes();
    dir = mkdtempSync(join(tmpdir(), "roadside-cli-"));
    config = join(dir, "site.yaml");
    writeFileSync(config, CONFIG);
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sim records a trace and truth; replay of the trace publishes the same summaries", async () => {
    const trace = join(dir, "trace.jsonl");
    const truth = join(dir, "truth.jsonl");
    const sub1 = await subscribe(broker.url, "roadside/cli-1/#");
    const io1 = capture();
    const code1 = await main(
      ["sim", "-c", config, "-d", "3h", "--start", "2026-03-02T06:00:00Z", "--record", trace, "--truth", truth, "-b", broker.url],
      io1,
    );
    expect(code1, io1.stderr).toBe(0);
    expect(io1.stdout).toMatch(/simulated 03:00:00 in [\d.]+ s \(×\d+\): 1 device, (\d+) messages committed, \1 delivered/);
    expect(io1.stdout).toContain(`trace: ${trace}`);
    const committed = Number(/(\d+) messages committed/.exec(io1.stdout)![1]);
    await sub1.waitFor((m) => dataOf(m).length >= committed);
    await sub1.close();

    const sub2 = await subscribe(broker.url, "roadside/cli-1/#");
    const io2 = capture();
    const code2 = await main(["replay", trace, "--config", config, "--broker", broker.url, "--print"], io2);
    expect(code2, io2.stderr).toBe(0);
    await sub2.waitFor((m) => dataOf(m).length >= committed);
    await sub2.close();
    // --print shows each summary as a person reads it
    expect(io2.stdout).toMatch(/traffic\/lane-a\s+300s\s+volume \d+\s+flow \d+ veh\/h\s+occupancy [\d.]+ %.*\sseq \d+/);

    const live = dataOf(sub1.messages).map((m) => m.payload.toString("hex"));
    const again = dataOf(sub2.messages).map((m) => m.payload.toString("hex"));
    expect(again).toEqual(live);
    expect(live.length).toBe(committed);
    // the backwards NTP step is in the trace and in the summaries
    expect(readFileSync(trace, "utf8")).toContain('"clock":"jump","deltaMs":-120000');
    expect(dataOf(sub1.messages).some((m) => decodeMessage(m.payload).timeq === "jump")).toBe(true);
    expect(readFileSync(truth, "utf8").split("\n")[0]).toContain(`"seed":${SEED}`);
  });

  it("every command has --help and exit code 0 for it", async () => {
    for (const cmd of ["sim", "replay", "run"]) {
      const io = capture();
      expect(await main([cmd, "--help"], io)).toBe(0);
      expect(io.stdout).toMatch(/^Usage: roadside /);
    }
    const io = capture();
    await main(["run", "--help"], io);
    expect(io.stdout).toContain("--record FILE");
  });

  it("bad usage and bad configs exit 2 with the problem named", async () => {
    const cases: [string[], RegExp][] = [
      [["sim", "--speed", "warp"], /--speed "warp": write max, or a multiple/],
      [["sim", "--duration", "forever"], /--duration "forever" is not a duration/],
      [["sim", "--devices", "2", "--record", "x.jsonl"], /--record writes the trace of one device/],
      [["replay", "--config", config], /name one trace file/],
      [["replay", join(dir, "missing.jsonl"), "--config", config], /cannot read .*missing\.jsonl: no such file/],
    ];
    for (const [argv, want] of cases) {
      const io = capture();
      expect(await main(argv, io), argv.join(" ")).toBe(2);
      expect(io.stderr).toMatch(want);
    }
  });

  it("rejects unknown fault kinds and targets as config errors (path: message)", async () => {
    const bad = join(dir, "bad-faults.yaml");
    writeFileSync(
      bad,
      CONFIG.replace(
        "    - { at: 50m, kind: clock-jump, params: { deltaS: -120 } }",
        [
          "    - { at: 1m, kind: clock-jmp }",
          "    - { at: 2m, kind: unplug, target: manhole9 }",
          "    - { at: 3m, kind: clock-jump, target: lane-a, params: { delta: 5 } }",
          "    - { at: 4m, kind: garbage }",
        ].join("\n"),
      ),
    );
    const io = capture();
    expect(await main(["sim", "-c", bad, "-b", broker.url], io)).toBe(2);
    const lines = io.stderr.trim().split("\n").slice(1);
    expect(lines).toEqual([
      `sim.faults[0].kind: unknown fault kind "clock-jmp"; did you mean clock-jump? known kinds: ${FAULT_KINDS.map((k) => k.kind).join(", ")}`,
      'sim.faults[1].target: no port named "manhole9" for unplug; known: none in this config',
      "sim.faults[2].target: clock-jump applies to the whole device and takes no target; remove target",
      "sim.faults[2].params.delta: clock-jump has no parameter delta; did you mean deltaS?",
      "sim.faults[3]: garbage needs a target: the port it applies to",
    ]);
  });

  it("refuses a config for real hardware, pointing at replay", async () => {
    const pi = join(dir, "pi.yaml");
    writeFileSync(
      pi,
      "device: { id: pole-1, board: raspberry-pi-5 }\ninputs: { a: { line: GPIO17 } }\ndetectors: { lane: { loops: [a] } }\n",
    );
    const io = capture();
    expect(await main(["sim", "-c", pi, "-b", broker.url], io)).toBe(2);
    expect(io.stderr).toContain(
      "roadside sim needs a config with device.board: sim (this one runs on raspberry-pi-5); to feed a recording from that board through its config, use roadside replay",
    );
  });
});

describe("fleet mode against Mosquitto", () => {
  let mosq: Mosquitto | undefined;
  beforeAll(async () => {
    if (hasMosquitto()) mosq = await startMosquitto();
  });
  afterAll(async () => {
    await mosq?.stop();
  });

  it.skipIf(!hasMosquitto())(`runs N devices with distinct ids and seeds in one process (${MOSQUITTO_MISSING})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-fleet-"));
    const config = join(dir, "site.yaml");
    writeFileSync(config, CONFIG.replace("id: cli-1", "id: fleet"));
    const sub = await subscribe(mosq!.url, "roadside/+/traffic/#", { protocolVersion: 5 });
    const io = capture();
    const code = await main(["sim", "-c", config, "-d", "1h", "--devices", "5", "-b", mosq!.url], io);
    expect(code, io.stderr).toBe(0);
    expect(io.stdout).toMatch(/5 devices, (\d+) messages committed, \1 delivered/);
    const committed = Number(/(\d+) messages committed/.exec(io.stdout)![1]);
    await sub.waitFor((m) => m.length >= committed);
    await sub.close();
    const byDevice = new Map<string, Received[]>();
    for (const m of sub.messages) byDevice.set(m.topic.split("/")[1]!, [...(byDevice.get(m.topic.split("/")[1]!) ?? []), m]);
    expect([...byDevice.keys()].sort()).toEqual(["fleet-0001", "fleet-0002", "fleet-0003", "fleet-0004", "fleet-0005"]);
    // each device has its own gap-free sequence and its own signals (seed + i)
    const volumes = [...byDevice.values()].map((msgs) => {
      const seqs = msgs.map((m) => decodeMessage(m.payload).seq).sort((a, b) => a - b);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      return msgs.reduce((s, m) => s + (decodeMessage(m.payload).measures["volume"]?.v ?? 0), 0);
    });
    expect(new Set(volumes).size).toBeGreaterThan(1);
    rmSync(dir, { recursive: true, force: true });
  });
});
