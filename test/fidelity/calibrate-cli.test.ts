import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { simulate } from "../../src/sim/session.js";
import { startAedes } from "../helpers/brokers.js";
import { runCli } from "../helpers/cli.js";
import { mustLoad } from "../helpers/sim-device.js";

const SEED = 1406;

describe(`roadside calibrate: a recorded test drive at a known speed gives the latencyMs to configure (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  let dir: string;
  beforeAll(async () => {
    broker = await startAedes();
    dir = mkdtempSync(join(tmpdir(), "roadside-cal-"));
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("downstream card 20 ms slower: prints inputs.down.latencyMs ≈ 20", async () => {
    const device = {
      device: { id: "cal-cli", board: "sim" },
      inputs: { up: { line: 5 }, down: { line: 6 } },
      detectors: { lane: { loops: ["up", "down"] } },
    };
    const tracePath = join(dir, "drive.jsonl");
    // the test drive: a lone vehicle every ~3 min at exactly 60 km/h, cards 10 and 30 ms
    const loaded = mustLoad({
      ...device,
      sim: {
        seed: SEED,
        traffic: {
          lane: {
            vehiclesPerHour: 20,
            speedKmh: 60,
            speedSdKmh: 0,
            classMix: { motorcycle: 0, short: 1, medium: 0, long: 0 },
            card: { latencyMs: [10, 10], jitterMs: 0.5, skewMs: 20 },
          },
        },
      },
    });
    const r = await simulate({
      loaded,
      brokerUrl: broker.url,
      speed: "max",
      logger: silentLogger,
      startWallMs: Date.UTC(2026, 0, 5, 10),
      durationS: 20 * 60,
      recordPath: tracePath,
      mqtt: { backoffMinMs: 50, backoffMaxMs: 500 },
      drainTimeoutMs: 10_000,
    });
    expect(r.traceLines).toBeGreaterThan(10);
    const cfgPath = join(dir, "device.json");
    writeFileSync(cfgPath, JSON.stringify(device));
    const out = await runCli(["calibrate", "--config", cfgPath, "--speed", "60", "--trace", tracePath]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const m = /inputs\.down\.latencyMs: ([\d.]+)/.exec(out.stdout);
    expect(m, out.stdout).not.toBeNull();
    expect(Math.abs(Number(m![1]) - 20), `seed ${SEED}: ${out.stdout}`).toBeLessThan(1);

    const bad = await runCli(["calibrate", "--config", cfgPath, "--speed", "120", "--trace", tracePath]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no vehicle crossed lane within ±30 % of 120 km\/h/);
    const usage = await runCli(["calibrate", "--config", cfgPath, "--trace", tracePath]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--speed/);
  });

  it("live on the (simulated) board: reads the trap's inputs until 3 passes, prints the same latencyMs", async () => {
    const cfgPath = join(dir, "live.json");
    writeFileSync(
      cfgPath,
      JSON.stringify({
        device: { id: "cal-live", board: "sim" },
        inputs: { up: { line: 5 }, down: { line: 6 } },
        detectors: { lane: { loops: ["up", "down"] } },
        sim: {
          seed: SEED,
          traffic: {
            lane: {
              vehiclesPerHour: 60,
              speedKmh: 60,
              speedSdKmh: 0,
              classMix: { motorcycle: 0, short: 1, medium: 0, long: 0 },
              card: { latencyMs: [10, 10], jitterMs: 0.5, skewMs: 20 },
            },
          },
        },
      }),
    );
    const out = await runCli(["calibrate", "--config", cfgPath, "--speed", "60", "--passes", "3", "--for", "30m"]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/lane: 3 pass\(es\)/);
    const m = /inputs\.down\.latencyMs: ([\d.]+)/.exec(out.stdout);
    expect(Math.abs(Number(m?.[1]) - 20), `seed ${SEED}: ${out.stdout}`).toBeLessThan(1);
  });
});
