import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceConfigInput } from "../../src/config/schema.js";
import type { Manifest } from "../../src/control/manifest.js";
import { FEATURES } from "../../src/features/index.js";
import { binAccessFeature, createBinAccessFeature } from "../../src/features/bin-access.js";
import { createPresenceFeature, presenceFeature } from "../../src/features/presence.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { hllRse } from "../../src/privacy/index.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import { Rng } from "../../src/sim/rng.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { startSimDevice } from "../helpers/sim-device.js";
import { readerTruth, scannerTruth, span } from "./truth.js";

function site(
  id: string,
  seed: number,
  extra: {
    identifiers?: Record<string, unknown>;
    sim?: Record<string, unknown>;
    scanner?: Record<string, unknown>;
    reader?: Record<string, unknown>;
  } = {},
): DeviceConfigInput {
  return {
    device: { id, board: "sim" },
    identifiers: {
      window: "5m",
      scanners: { ped1: { port: { path: "sim0" } } },
      readers: { bin7: { port: { path: "sim1" } } },
      ...extra.identifiers,
    },
    sim: {
      seed,
      identifiers: {
        scanners: { ped1: { devicesPerHour: 600, ...extra.scanner } },
        readers: { bin7: { depositsPerHour: 90, users: 30, ...extra.reader } },
      },
      ...extra.sim,
    },
  } as DeviceConfigInput;
}

const presence = (messages: { topic: string; payload: Buffer }[], name: string) =>
  messages.filter((m) => m.topic.endsWith(`/presence/${name}`)).map((m) => decodeMessage(m.payload));

describe("identifier counts against the simulator's ground truth", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  const SEED = 11;
  it(`exact counts below the set limit, and small counts suppressed (k = 5, seed ${SEED})`, async () => {
    const sub = await subscribe(broker.url, "roadside/id-1/#");
    // a burst of line noise on the scanner, 12 min in, for 60 s
    // few Bluetooth devices (5 % of 600 passers-by an hour, ~2.5 a window), so some windows fall below k
    const dev = await startSimDevice(
      site("id-1", SEED, { scanner: { bleShare: 0.05 }, sim: { faults: [{ at: "12m", for: "60s", kind: "garbage", target: "ped1" }] } }),
      { brokerUrl: broker.url },
    );
    await dev.run(2 * 3600);
    await dev.stop();
    // two hours of 5-min windows: 24 per stream (a run ending on a boundary publishes no empty 25th)
    await sub.waitFor((m) => presence(m, "bin7").length >= 24);
    await sub.close();

    const scans = presence(sub.messages, "ped1");
    expect(scans.length).toBeGreaterThanOrEqual(24);
    let compared = 0;
    let suppressedSeen = 0;
    for (const msg of scans) {
      const { startNs, endNs } = span(dev.clock, msg);
      const t = scannerTruth(dev.truth, "ped1", startNs, endNs);
      const at = new Date(msg.windowStartMs).toISOString();
      expect(msg.kind).toBe("presence");
      expect(msg.measures["distinct"]?.vs).toBe("exact");
      for (const radio of ["wifi", "ble"] as const) {
        const c = t[radio];
        const devices = c.random + c.global;
        const m = msg.measures;
        if (devices >= 5) {
          expect(m[`${radio}.devices`]?.v, `${radio}.devices at ${at}`).toBe(devices);
          expect(m[`${radio}.sightings`]?.v, `${radio}.sightings at ${at}`).toBe(c.sightings);
          if (c.random >= 5 && c.global >= 5) expect(m[`${radio}.random`]?.v).toBeCloseTo(c.random / devices, 4);
          else expect(m[`${radio}.random.suppressed`]?.vb).toBe(true);
          compared++;
        } else {
          expect(m[`${radio}.devices`], `${radio} at ${at}: ${devices} devices must not be published`).toBeUndefined();
          expect(m[`${radio}.devices.suppressed`]?.vb).toBe(true);
          expect(m[`${radio}.sightings.suppressed`]?.vb).toBe(true);
          suppressedSeen++;
        }
      }
    }
    // every Wi-Fi window (24) and the Bluetooth windows with 5 or more devices
    expect(compared).toBeGreaterThan(24);
    expect(suppressedSeen).toBeGreaterThan(5);
    const errors = scans.map((s) => s.measures["errors"]?.v ?? 0);
    expect(errors.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(55);
    expect(errors.filter((e) => e > 0).length).toBeLessThanOrEqual(2);

    const bins = presence(sub.messages, "bin7");
    let binCompared = 0;
    let binSuppressed = 0;
    for (const msg of bins) {
      const { startNs, endNs } = span(dev.clock, msg);
      const t = readerTruth(dev.truth, "bin7", startNs, endNs);
      const at = new Date(msg.windowStartMs).toISOString();
      if (t.users >= 5) {
        expect(msg.measures["deposits"]?.v, `deposits at ${at}`).toBe(t.deposits);
        expect(msg.measures["users"]?.v, `users at ${at}`).toBe(t.users);
        binCompared++;
      } else {
        expect(msg.measures["deposits"]).toBeUndefined();
        expect(msg.measures["users"]).toBeUndefined();
        expect(msg.measures["users.suppressed"]?.vb).toBe(true);
        binSuppressed++;
      }
      expect(msg.measures["errors"]?.v, `bad frames at ${at}`).toBe(t.badFrames);
    }
    expect(binCompared).toBeGreaterThan(10);
    expect(binSuppressed).toBeGreaterThan(0);
  });

  const HLL_SEED = 12;
  it(`above the exact limit the counts are HyperLogLog estimates within their error (p = 12, seed ${HLL_SEED})`, async () => {
    const sub = await subscribe(broker.url, "roadside/id-2/#");
    const cfg = site("id-2", HLL_SEED, {
      identifiers: { exactLimit: 100, hllPrecision: 12, readers: {} },
      scanner: { devicesPerHour: 9000, dwell: "60s", wifiShare: 1, bleShare: 0.5, randomShare: 0.6, bleRandomShare: 0.5 },
      reader: undefined,
    });
    (cfg.sim as { identifiers: { readers: object } }).identifiers.readers = {};
    const dev = await startSimDevice(cfg, { brokerUrl: broker.url });
    await dev.run(30 * 60);
    await dev.stop();
    await sub.waitFor((m) => presence(m, "ped1").length >= 6);
    await sub.close();
    const rse = hllRse(12);
    let estimated = 0;
    for (const msg of presence(sub.messages, "ped1")) {
      const { startNs, endNs } = span(dev.clock, msg);
      const t = scannerTruth(dev.truth, "ped1", startNs, endNs);
      if (t.wifi.random + t.wifi.global < 300) continue;
      expect(msg.measures["distinct"]?.vs).toBe("hll");
      expect(msg.measures["rse"]?.v).toBeCloseTo(rse, 6);
      for (const radio of ["wifi", "ble"] as const) {
        const c = t[radio];
        const published = msg.measures[`${radio}.devices`]?.v ?? NaN;
        // each cell above the limit has error rse·n; 5σ of the sum fails with probability < 10⁻⁶
        const sigma = rse * Math.sqrt(c.random ** 2 + c.global ** 2);
        expect(
          Math.abs(published - (c.random + c.global)),
          `${radio} at ${new Date(msg.windowStartMs).toISOString()}: ${published} vs ${c.random + c.global}`,
        ).toBeLessThanOrEqual(Math.max(1, 5 * sigma));
        expect(msg.measures[`${radio}.sightings`]?.v).toBe(c.sightings);
      }
      estimated++;
    }
    expect(estimated).toBeGreaterThanOrEqual(5);
  });

  const NOISE_SEED = 13;
  it(`geometric noise (ε = 1) has the configured spread over many windows (noise seed ${NOISE_SEED})`, async () => {
    const sub = await subscribe(broker.url, "roadside/id-3/#");
    const rng = new Rng(NOISE_SEED);
    const uniform = () => (rng.next() * 4294967295 + 0.5) / 4294967296;
    const features = FEATURES.filter((f) => f !== presenceFeature && f !== binAccessFeature).concat([
      createPresenceFeature({ uniform }),
      createBinAccessFeature({ uniform }),
    ]);
    const cfg = site("id-3", NOISE_SEED, {
      identifiers: { window: "1m", noise: { mechanism: "geometric", epsilon: 1 } },
      scanner: { devicesPerHour: 3000 },
      reader: { depositsPerHour: 600, users: 200 },
    });
    const dev = await startSimDevice(cfg, { brokerUrl: broker.url, deps: { features } });
    await dev.run(3 * 3600);
    await dev.stop();
    await sub.waitFor((m) => presence(m, "ped1").length >= 170);
    await sub.close();
    const residuals: number[] = [];
    for (const msg of presence(sub.messages, "ped1")) {
      const { startNs, endNs } = span(dev.clock, msg);
      const t = scannerTruth(dev.truth, "ped1", startNs, endNs);
      for (const radio of ["wifi", "ble"] as const) {
        const s = msg.measures[`${radio}.sightings`]?.v;
        const d = msg.measures[`${radio}.devices`]?.v;
        // sightings far above devices: the consistency clamp never binds, so the residual is the noise
        if (s === undefined || d === undefined || t[radio].sightings < t[radio].random + t[radio].global + 10) continue;
        residuals.push(s - t[radio].sightings);
      }
    }
    for (const msg of presence(sub.messages, "bin7")) {
      const { startNs, endNs } = span(dev.clock, msg);
      const t = readerTruth(dev.truth, "bin7", startNs, endNs);
      const u = msg.measures["users"]?.v;
      if (u !== undefined && t.users >= 8) residuals.push(u - t.users);
    }
    expect(residuals.length).toBeGreaterThan(400);
    expect(residuals.every(Number.isInteger)).toBe(true);
    const n = residuals.length;
    const mean = residuals.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(residuals.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    const alpha = Math.exp(-1);
    const expectedSd = Math.sqrt(2 * alpha) / (1 - alpha); // ≈ 1.357
    expect(Math.abs(mean), `mean ${mean}`).toBeLessThan((4 * expectedSd) / Math.sqrt(n));
    expect(Math.abs(sd / expectedSd - 1), `sd ${sd} vs ${expectedSd}`).toBeLessThan(0.15);
    const zeros = residuals.filter((r) => r === 0).length / n;
    expect(Math.abs(zeros - (1 - alpha) / (1 + alpha)), `P(0) ${zeros}`).toBeLessThan(0.08);
    // noise is really there: some residuals are not 0
    expect(residuals.filter((r) => r !== 0).length).toBeGreaterThan(n / 3);
  });

  it("a scanner missing at start is retried while the device runs, and counts once it appears", async () => {
    const sub = await subscribe(broker.url, "roadside/id-5/presence/#");
    const cfg = {
      device: { id: "id-5", board: "sim" },
      identifiers: { window: "1m", k: 2, scanners: { ped1: { port: { path: "sim3" } } } },
    } as DeviceConfigInput;
    const dev = await startSimDevice(cfg, { brokerUrl: broker.url });
    expect(dev.device.health.snapshot()["sensor.ped1"]?.["port"]).toBe("missing");
    // the technician plugs the scanner in
    const scanner = dev.site.serial.createDevice("/dev/ttySIM3", 115200);
    await dev.run(30);
    // the retry fired in virtual time; the open itself completes in real time (as on hardware)
    const portState = () => dev.device.health.snapshot()["sensor.ped1"]?.["port"];
    for (let i = 0; i < 200 && portState() !== "open"; i++) await new Promise((r) => setTimeout(r, 10));
    expect(portState()).toBe("open");
    for (const first of ["70", "DA", "72"]) scanner.emit(`wifi,${first}:00:00:00:00:01,-50\n`);
    scanner.emit("wifi,garbage\n");
    await dev.run(40);
    await dev.stop();
    await sub.waitFor((m) => m.length >= 2);
    await sub.close();
    const counted = sub.messages.map((m) => decodeMessage(m.payload)).find((m) => m.measures["wifi.devices"]?.v !== undefined);
    expect(counted?.measures["wifi.devices"]?.v).toBe(3);
    expect(counted?.measures["errors"]?.v).toBe(1);
    const health = dev.device.health.snapshot()["sensor.ped1"]!;
    expect(health["badAddress"]).toBe(1);
    expect(Object.keys(health)).not.toContain("accepted");
  });

  it("publishes a retained manifest with the privacy parameters a city can audit", async () => {
    const cfg = site("id-4", 1, {
      identifiers: { k: 7, noise: { mechanism: "laplace", epsilon: 0.5 }, exactLimit: 5000, hllPrecision: 12, maxKeyLifetime: "10m" },
    });
    const dev = await startSimDevice(cfg, { brokerUrl: broker.url, deps: { version: "9.9.9" } });
    await dev.run(60);
    await dev.stop();
    // a subscriber arriving later gets the retained manifest
    const sub = await subscribe(broker.url, "roadside/id-4/manifest");
    await sub.waitFor((m) => m.length >= 1);
    await sub.close();
    expect(sub.messages[0]!.retain).toBe(true);
    const m = JSON.parse(sub.messages[0]!.payload.toString("utf8")) as Manifest;
    expect(m.software.version).toBe("9.9.9");
    expect(m.configHash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.privacy?.suppression.k).toBe(7);
    expect(m.privacy?.key).toMatchObject({ maxLifetimeS: 600, storage: "RAM only", bytes: 32 });
    expect(m.privacy?.noise).toEqual({ mechanism: "laplace", epsilon: 0.5, sensitivity: 1, std: 2.828 });
    expect(m.privacy?.distinct).toEqual({ exactLimit: 5000, hllPrecision: 12, hllRelativeError: 0.01625 });
    expect(m.privacy?.sources).toEqual([
      { name: "ped1", reads: "wifi-ble-addresses", windowS: 300 },
      { name: "bin7", reads: "rfid-cards", windowS: 300 },
    ]);
    expect(m.privacy?.summary.join(" ")).toMatch(/never stores, logs or sends/);
    const streams = m.streams.filter((s) => s.kind === "presence");
    expect(streams.map((s) => s.topic)).toEqual(["roadside/id-4/presence/ped1", "roadside/id-4/presence/bin7"]);
    expect(streams[0]!.measures.map((x) => x.n)).toContain("wifi.devices");
    expect(streams[1]!.description).toMatch(/destroyed every 5m/);
  });
});
