import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import type { AddressInfo, Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceConfigInput } from "../../src/config/schema.js";
import { silentLogger } from "../../src/log/logger.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { SqliteOutbox } from "../../src/outbox/sqlite.js";
import type { BudgetReport } from "../../src/publish/budget.js";
import { ByteBudget, nextPeriod, periodStart } from "../../src/publish/budget.js";
import { simulate } from "../../src/sim/session.js";
import type { Received } from "../helpers/brokers.js";
import type { Mosquitto } from "../helpers/brokers.js";
import { hasMosquitto, MOSQUITTO_MISSING, startAedes, startMosquitto, subscribe } from "../helpers/brokers.js";
import { makePki } from "../delivery/pki.js";
import { mustLoad } from "../helpers/sim-device.js";

const SEED = 90210;
const START = Date.UTC(2026, 0, 5, 7);
/** The counter's estimate against a proxy's count of the same TCP stream, plain MQTT (docs/delivery.md "Monthly byte budget"). */
const PLAIN_TOLERANCE = 0.01;
/** The same over TLS 1.3, where the handshake and the records are estimated (docs/delivery.md "Monthly byte budget"). */
const TLS_TOLERANCE = 0.1;
/**
 * A budget these runs never come near, so no window is widened whatever the timing: at full speed the
 * simulated hours may pass before the broker connects (one heartbeat) or with it connected (one a
 * simulated minute, ~110 KB an hour, which at 50 MB would widen the windows after the first hour).
 */
const AMPLE = 1_000_000_000;

/** A TCP proxy in front of the broker that counts every byte both ways. */
async function countingProxy(target: string, scheme = "mqtt"): Promise<{ url: string; bytes: () => number; close: () => Promise<void> }> {
  const u = new URL(target.replace(/^mqtts:/, "mqtt:"));
  let bytes = 0;
  const server: Server = createServer((client) => {
    const up = createConnection({ host: u.hostname, port: Number(u.port) });
    client.on("data", (d: Buffer) => {
      bytes += d.length;
      up.write(d);
    });
    up.on("data", (d: Buffer) => {
      bytes += d.length;
      client.write(d);
    });
    const end = (): void => {
      client.destroy();
      up.destroy();
    };
    client.on("close", end).on("error", end);
    up.on("close", end).on("error", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return { url: `${scheme}://127.0.0.1:${port}`, bytes: () => bytes, close: () => new Promise((r) => server.close(() => r())) };
}

function device(monthlyBytes: number): DeviceConfigInput {
  return {
    device: { id: "pole-budget", board: "sim" },
    inputs: { "l1.up": { line: "GPIO17" }, "l1.down": { line: "GPIO27" }, "l2.up": { line: "GPIO22" }, "l2.down": { line: "GPIO23" } },
    detectors: { lane1: { loops: ["l1.up", "l1.down"] }, lane2: { loops: ["l2.up", "l2.down"] } },
    windows: { default: "5m" },
    health: { interval: "1m" },
    publish: { budget: { monthlyBytes } },
    sim: { seed: SEED, traffic: { lane1: { vehiclesPerHour: 900, speedKmh: 90 }, lane2: { vehiclesPerHour: 400, speedKmh: 80 } } },
  } as DeviceConfigInput;
}

async function run(
  broker: { url: string },
  stateDir: string,
  monthlyBytes: number,
  startWallMs: number,
  durationS: number,
  tls?: { ca: Buffer },
): Promise<{ proxied: number; health: BudgetReport[]; delivered: number }> {
  const proxy = await countingProxy(broker.url, tls ? "mqtts" : "mqtt");
  const sub = await subscribe(broker.url, "roadside/pole-budget/health", tls ? { ca: [tls.ca] } : {});
  try {
    const r = await simulate({
      loaded: mustLoad(device(monthlyBytes)),
      brokerUrl: proxy.url,
      speed: "max",
      logger: silentLogger,
      mqtt: { backoffMinMs: 50, backoffMaxMs: 500, ...(tls ? { connectOptions: { ca: [tls.ca] } } : {}) },
      drainTimeoutMs: 20_000,
      startWallMs,
      durationS,
      stateDir,
    });
    expect(r.undelivered, `seed ${SEED}`).toBe(0);
    // the proxy sees the connection's last bytes (the offline status, DISCONNECT) after the session closed
    await new Promise((res) => setTimeout(res, 200));
    const health = (sub.messages as Received[])
      .filter((m) => !m.retain) // the last run's retained heartbeat
      .map((m) => JSON.parse(m.payload.toString()) as { budget?: BudgetReport })
      .flatMap((h) => (h.budget ? [h.budget] : []));
    return { proxied: proxy.bytes(), health, delivered: r.delivered };
  } finally {
    await sub.close();
    await proxy.close();
  }
}

function stored(stateDir: string): { bytes: number; periodMs: number; fromMs: number } {
  const o = SqliteOutbox.open({ path: join(stateDir, "pole-budget", "outbox.db"), seqFile: false, now: () => START });
  try {
    const a = o.airtime();
    if (!a) throw new Error("no byte count stored in the outbox");
    return a;
  } finally {
    o.close();
  }
}

describe(`monthly byte budget: counted, persisted, reported in health (seed ${SEED})`, () => {
  let broker: EmbeddedBroker;
  const dirs: string[] = [];
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), "roadside-budget-"));
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("counts within 1 % of the bytes a proxy sees on the wire, and keeps the count across a restart", async () => {
    const state = dir();
    const first = await run(broker, state, AMPLE, START, 2 * 3600);
    const a = stored(state);
    const err1 = Math.abs(a.bytes - first.proxied) / first.proxied;
    console.log(`byte budget, plain MQTT: counted ${a.bytes} B, proxy ${first.proxied} B (${(err1 * 100).toFixed(3)} %)`);
    expect(err1, `counted ${a.bytes} B, proxy ${first.proxied} B (seed ${SEED})`).toBeLessThanOrEqual(PLAIN_TOLERANCE);
    expect(first.delivered).toBeGreaterThan(40); // 2 lanes × 24 windows, and the counter saw more than a connect
    expect(a.periodMs).toBe(Date.UTC(2026, 0, 1));
    // the device starts again an hour later: the month's count goes on from where it was
    const second = await run(broker, state, AMPLE, START + 3 * 3600_000, 3600);
    const b = stored(state);
    const total = first.proxied + second.proxied;
    expect(Math.abs(b.bytes - total) / total, `counted ${b.bytes} B, proxy ${total} B over both runs`).toBeLessThanOrEqual(PLAIN_TOLERANCE);
    expect(b.fromMs, "counting began at the first start").toBe(START);
    // the heartbeat reports the same growing count, never one that started over
    const counts = second.health.map((h) => h.bytes);
    expect(counts[0]!).toBeGreaterThan(a.bytes);
    expect(counts).toEqual([...counts].sort((x, y) => x - y));
  }, 120_000);

  it("every heartbeat carries the budget: the month's growing count, the budget, the plan's month", async () => {
    const r = await run(broker, dir(), 1_000_000, START, 2 * 3600);
    // at full speed the simulated hours pass before the broker connects: the heartbeat at connect (and any after it)
    expect(r.health.length, `seed ${SEED}`).toBeGreaterThanOrEqual(1);
    for (const h of r.health) {
      expect(h.monthlyBytes).toBe(1_000_000);
      expect(h.since).toBe("2026-01-01T00:00:00.000Z");
      expect(h.resets).toBe("2026-02-01T00:00:00.000Z");
    }
    const counts = r.health.map((h) => h.bytes);
    expect(counts[0]!).toBeGreaterThan(0);
    expect(counts).toEqual([...counts].sort((x, y) => x - y));
    expect(r.health.at(-1)!.projectedBytes!).toBeGreaterThan(counts.at(-1)!);
  }, 120_000);
});

describe(`monthly byte budget over TLS 1.3 to Mosquitto (seed ${SEED})`, () => {
  let mosquitto: Mosquitto | undefined;
  let ca: Buffer;
  const state = mkdtempSync(join(tmpdir(), "roadside-budget-tls-"));
  beforeAll(async () => {
    if (!hasMosquitto()) throw new Error(MOSQUITTO_MISSING);
    const pki = makePki();
    ca = readFileSync(pki.ca);
    mosquitto = await startMosquitto({
      scheme: "mqtts",
      listenerLines: ["allow_anonymous true", `cafile ${pki.ca}`, `certfile ${pki.serverCert}`, `keyfile ${pki.serverKey}`],
    });
  });
  afterAll(async () => {
    await mosquitto?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  it("the estimate (TLS records and handshake) is within 10 % of the bytes a proxy counts on the wire", async () => {
    const r = await run(mosquitto!, state, AMPLE, START, 2 * 3600, { ca });
    const a = stored(state);
    const err = (a.bytes - r.proxied) / r.proxied;
    console.log(`byte budget, TLS 1.3: counted ${a.bytes} B, proxy ${r.proxied} B (${(err * 100).toFixed(2)} %)`);
    expect(Math.abs(err), `counted ${a.bytes} B, proxy ${r.proxied} B (seed ${SEED})`).toBeLessThanOrEqual(TLS_TOLERANCE);
  }, 120_000);
});

describe("ByteBudget: the plan's month and its persistence", () => {
  it("a month starts at UTC midnight of the reset day and rolls only forwards", () => {
    expect(periodStart(Date.UTC(2026, 2, 14, 12), 15)).toBe(Date.UTC(2026, 1, 15));
    expect(periodStart(Date.UTC(2026, 2, 15, 0), 15)).toBe(Date.UTC(2026, 2, 15));
    expect(periodStart(Date.UTC(2026, 0, 3), 5)).toBe(Date.UTC(2025, 11, 5));
    expect(nextPeriod(Date.UTC(2025, 11, 5), 5)).toBe(Date.UTC(2026, 0, 5));
    let now = Date.UTC(2026, 0, 31, 23);
    const saved: { periodMs: number; fromMs: number; bytes: number }[] = [];
    const b = new ByteBudget({ monthlyBytes: 10_000, resetDay: 1, wallMs: () => now, store: { setAirtime: (c) => saved.push({ ...c }) } });
    b.add(700);
    now = Date.UTC(2026, 1, 1, 0, 30); // the plan's month turns
    b.add(300);
    expect(b.bytes()).toBe(300);
    expect(saved.at(-1)).toEqual({
      periodMs: Date.UTC(2026, 1, 1),
      fromMs: Date.UTC(2026, 1, 1),
      bytes: 300,
      level: 0,
      stepMs: Date.UTC(2026, 1, 1),
      stepBytes: 0,
    });
    now = Date.UTC(2026, 0, 20); // the wall clock is set back (no RTC, before NTP): the new month goes on
    b.add(50);
    expect(b.bytes()).toBe(350);
    expect(b.report().state).toBe("ok");
    b.add(9_650);
    expect(b.report().state).toBe("spent");
  });

  it("projects the month from the rate so far: at-risk when a day's bytes would run the budget out, ok when not", () => {
    const day = 120_000; // bytes a day on the wire, about two lanes at 5-minute windows with a heartbeat a minute (cellular)
    for (const [budget, state] of [
      [3_000_000, "at-risk"],
      [4_000_000, "ok"],
    ] as const) {
      let now = Date.UTC(2026, 0, 1);
      const b = new ByteBudget({ monthlyBytes: budget, resetDay: 1, wallMs: () => now, store: {} });
      now += 60_000;
      expect(b.report().projectedBytes, "no projection in the first hour (a connect's manifest is not a month's rate)").toBeNull();
      now -= 60_000;
      for (let h = 0; h < 24; h++) {
        now += 3600_000;
        b.add(day / 24);
      }
      const r = b.report();
      expect(r.projectedBytes).toBe(31 * day); // January: 31 days at a day's rate
      expect(r.state, `budget ${budget}`).toBe(state);
    }
  });

  it("the count is written with the next commit, so a crash keeps what the last window commit wrote", () => {
    const d = mkdtempSync(join(tmpdir(), "roadside-budget-"));
    try {
      const path = join(d, "outbox.db");
      const a = SqliteOutbox.open({ path, seqFile: false, now: () => START });
      a.setAirtime({ periodMs: Date.UTC(2026, 0, 1), fromMs: START, bytes: 1234, level: 0, stepMs: START, stepBytes: 0 });
      a.commit([], [{ topic: "roadside/x/traffic/lane1", fromMs: START }]);
      a.setAirtime({ periodMs: Date.UTC(2026, 0, 1), fromMs: START, bytes: 5678, level: 0, stepMs: START, stepBytes: 0 }); // staged, not written
      // a second handle reads the file as a process started after a crash would
      const b = SqliteOutbox.open({ path, seqFile: false, now: () => START });
      expect(b.airtime()).toEqual({ periodMs: Date.UTC(2026, 0, 1), fromMs: START, bytes: 1234, level: 0, stepMs: START, stepBytes: 0 });
      a.close(); // a clean stop writes what was staged
      expect(b.airtime()?.bytes).toBe(5678);
      b.close();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
