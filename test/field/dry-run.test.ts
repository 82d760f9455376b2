import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { runCli } from "../helpers/cli.js";

/**
 * `roadside test`, the technician's dry run (telegraf --test for roadside): the config's pipeline on
 * the simulator's inputs, printing what it would publish; nothing reaches the broker in the config
 * and no outbox is written.
 */
const dir = mkdtempSync(join(tmpdir(), "roadside-dry-"));

describe("roadside test -c CONFIG [--for DURATION]", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it("prints the summaries and alarms a config would publish, publishes nothing, writes no outbox", async () => {
    const state = join(dir, "state");
    const file = join(dir, "site.yaml");
    writeFileSync(
      file,
      `device: { id: dry-1, board: sim }
inputs: { lane1.up: { line: GPIO17 }, lane1.down: { line: GPIO27 } }
detectors: { lane1: { loops: [lane1.up, lane1.down] } }
windows: { default: 1m }
mqtt: { url: "${broker.url}" }
state: { dir: ${state} }
sim: { seed: 3, traffic: { lane1: { vehiclesPerHour: 900 } }, faults: [ { at: "30s", kind: stuck-on, target: lane1.down, for: 10m } ] }
`,
    );
    const sub = await subscribe(broker.url, "#");
    const r = await runCli(["test", "-c", file, "--for", "5m", "--utc"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^roadside test: dry-1 on roadside hardware simulator, 300 s of simulated time; what it would publish \(nothing is sent, no outbox is written\):\n/,
    );
    const lines = r.stdout.split("\n").filter(Boolean);
    const traffic = lines.filter((l) => /^\d\d:\d\d:\d\d {2}traffic\/lane1 +60s {2}volume \d+ {2}flow \d+ veh\/h {2}occupancy/.test(l));
    // five simulated minutes from an arbitrary second: 5 or 6 windows, the first and last partial
    expect(traffic.length).toBeGreaterThanOrEqual(5);
    expect(traffic.at(-1)).toMatch(/partial \d+\.\ds$/);
    // the stuck loop raises the detector-fault alarm the device would send
    expect(
      lines.some((l) => /alarm\/lane1 .*alarm detector-fault {2}state start {2}code 210/.test(l)),
      r.stdout,
    ).toBe(true);
    expect(r.stderr).toMatch(/WARN {2}lane1\.down \(lane1\): locked on/);
    expect(r.stderr).not.toContain("stay in the outbox");
    expect(r.stderr).toMatch(new RegExp(`\\n${traffic.length} summaries and 1 alarm would have been published`));
    // nothing reached the broker the config names, nothing was written where the device keeps state
    expect(sub.messages).toEqual([]);
    expect(existsSync(state)).toBe(false);
    await sub.close();

    const j = await runCli(["test", "-c", file, "--for", "90s", "--json"]);
    expect(j.code).toBe(0);
    const msgs = j.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { topic: string; kind: string; seq: number; windowS: number; measures: Record<string, unknown> });
    expect(msgs[0]).toMatchObject({ topic: "roadside/dry-1/traffic/lane1", kind: "traffic", seq: 1, windowS: 60 });
    expect(msgs[0]!.measures).toHaveProperty("volume");
  });

  it("bad usage and bad configs exit 2 with the reason", async () => {
    const u = await runCli(["test", "-c", join(dir, "site.yaml"), "--for", "soon"]);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('--for "soon" is not a duration up to 7 days');
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "device: { id: 'a b', board: sim }\n");
    const b = await runCli(["test", "-c", bad]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('device.id: "a b" is not safe in MQTT topics');
    const h = await runCli(["--help"]);
    expect(h.stdout).toMatch(/\n {2}test +dry run: print the summaries and alarms a config would publish/);
  });
});
