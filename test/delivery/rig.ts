import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Alarm } from "../../src/aggregate/alarm.js";
import { NS_PER_S } from "../../src/clock/clock.js";
import { VirtualClock } from "../../src/clock/virtual.js";
import type { DeviceConfigInput } from "../../src/config/schema.js";
import type { SystemProbe } from "../../src/control/system.js";
import type { FeatureFactory } from "../../src/features/feature.js";
import { FEATURES } from "../../src/features/index.js";
import { JohnnyFiveInputs } from "../../src/io/johnny-five.js";
import type { Logger } from "../../src/log/logger.js";
import { createLogger, silentLogger } from "../../src/log/logger.js";
import type { Outbox } from "../../src/outbox/outbox.js";
import { SqliteOutbox } from "../../src/outbox/sqlite.js";
import { annotateLoss } from "../../src/publish/envelope.js";
import type { SqliteOutboxOptions } from "../../src/outbox/sqlite.js";
import type { DeviceDeps } from "../../src/runtime.js";
import { Device } from "../../src/runtime.js";
import { SimSite } from "../../src/sim/site.js";
import { mustLoad } from "../helpers/sim-device.js";

export const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);

/** An outbox with nothing to send, for tests about a session alone (its timing, its subscriptions). */
export const emptyOutbox: Outbox = {
  commit: () => [],
  next: () => [],
  pending: () => [],
  ack: () => {},
  expire: () => 0,
  stats: () => ({
    depth: 0,
    bytes: 0,
    maxBytes: 0,
    oldestMs: undefined,
    nextSeq: 1,
    drops: { routine: 0, alarms: 0, expired: 0, damaged: 0, interrupted: 0 },
    unreported: 0,
  }),
  close: () => {},
};

/** A two-lane simulated site with 1-minute windows (traffic light enough to simulate days quickly). */
export function siteConfig(id: string, extra: Partial<DeviceConfigInput> = {}): DeviceConfigInput {
  return {
    device: { id, board: "sim" },
    inputs: { "l1.up": { line: 17 }, "l2.up": { line: 22 } },
    detectors: { lane1: { loops: ["l1.up"] }, lane2: { loops: ["l2.up"] } },
    windows: { default: "1m" },
    sim: { seed: 7, traffic: { lane1: { vehiclesPerHour: 30, speedKmh: 50 }, lane2: { vehiclesPerHour: 20, speedKmh: 50 } } },
    ...extra,
  };
}

/** A feature that raises an `event` alarm on `source` every `everyS` seconds of device time. */
export function alarmEvery(everyS: number, source = "cabinet"): FeatureFactory {
  return (ctx) => {
    let timer: ReturnType<typeof ctx.clock.setTimer> | undefined;
    let n = 0;
    const arm = (): void => {
      timer = ctx.clock.setTimer(ctx.clock.monoNs() + everyS * NS_PER_S, () => {
        const a: Alarm = { source, kind: "door-open", state: "event", tNs: ctx.clock.monoNs(), code: ++n };
        ctx.alarm(a);
        arm();
      });
    };
    return {
      name: "test-alarms",
      start: arm,
      stop: () => {
        if (timer) ctx.clock.clearTimer(timer);
      },
    };
  };
}

/** Log lines captured for assertions (text format). */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: "debug", format: "text", write: (l) => lines.push(l) }), lines };
}

export interface Rig {
  clock: VirtualClock;
  device: Device;
  site: SimSite;
  outbox: SqliteOutbox;
  dir: string;
  run(seconds: number): Promise<void>;
  waitConnected(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A simulated device in virtual time with a real outbox file in a temp folder. Unlike
 * test/helpers/sim-device.ts it does not wait for the broker, so tests can start it cut off.
 */
export async function startRig(
  input: DeviceConfigInput,
  opts: {
    brokerUrl: string;
    startWallMs?: number;
    logger?: Logger;
    outbox?: Partial<SqliteOutboxOptions>;
    /** Extra device dependencies; a function gets the rig's virtual clock (for verifiers and such). */
    deps?: Partial<DeviceDeps> | ((clock: VirtualClock) => Partial<DeviceDeps>);
    alarms?: FeatureFactory[];
    system?: SystemProbe;
  },
): Promise<Rig> {
  const loaded = mustLoad(input);
  const clock = new VirtualClock({ startWallMs: opts.startWallMs ?? T0 });
  const dir = mkdtempSync(join(tmpdir(), "roadside-delivery-"));
  const logger = opts.logger ?? silentLogger;
  const site = new SimSite(loaded, { clock });
  const outbox = SqliteOutbox.open({
    path: join(dir, "outbox.db"),
    now: () => clock.wallMs(),
    maxBytes: loaded.config.outbox.maxBytes,
    annotate: annotateLoss,
    ...opts.outbox,
  });
  const deps = typeof opts.deps === "function" ? opts.deps(clock) : opts.deps;
  const device = new Device(loaded, {
    clock,
    logger,
    inputs: new JohnnyFiveInputs({ io: site.board, clock, timestampSource: "virtual" }),
    ioPlugin: site.board,
    outbox,
    brokerUrl: opts.brokerUrl,
    stateDir: dir,
    version: "9.9.9-test",
    features: [...FEATURES, ...(opts.alarms ?? [])],
    system: opts.system ?? { cpuTempC: () => null, disk: () => ({ freeBytes: 1e9, totalBytes: 2e9 }) },
    ...deps,
    mqtt: { backoffMinMs: 50, backoffMaxMs: 400, ...deps?.mqtt },
  });
  await device.start();
  site.start();
  const waitConnected = async (timeoutMs = 10_000): Promise<void> => {
    const end = Date.now() + timeoutMs;
    while (device.session.state !== "connected") {
      if (Date.now() > end)
        throw new Error(
          `device did not connect to ${opts.brokerUrl} within ${timeoutMs} ms (last error: ${device.session.stats().lastError})`,
        );
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return {
    clock,
    device,
    site,
    outbox,
    dir,
    run: (seconds) => clock.runUntil(clock.monoNs() + seconds * NS_PER_S, { yieldEvery: 200 }),
    waitConnected,
    stop: async () => {
      site.stop();
      await device.stop(10_000);
      outbox.close();
    },
  };
}

/** Poll until `pred` holds (real time), or throw with `what`. */
export async function until(pred: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A file of the built device (dist/) that a test runs in a child process. Missing is a failure that
 * says how to build, never a skip: `npm test` builds first.
 */
export function builtDist(rel: string): string {
  const path = new URL(`../../dist/${rel}`, import.meta.url).pathname;
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` (npm test builds first)`);
  return path;
}

export interface HeldChild {
  /** The wall time, ms, the child holds its windows open at (what it printed as `held <ms>`). */
  at: number;
  end(sig: NodeJS.Signals): Promise<void>;
}

/**
 * Start a fixture child (test/delivery/fixtures/*-child.mjs) and wait until it prints `held <ms>`:
 * its windows are open and it waits to be killed or stopped.
 */
export async function holdChild(args: string[], what: string, timeoutMs: number): Promise<HeldChild> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let at = -1;
  let err = "";
  let code: number | null = null;
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.stdout.on("data", (d: Buffer) => {
    const m = /held (\d+)/.exec(d.toString());
    if (m) at = Number(m[1]);
  });
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (c) => {
      code = c;
      resolve();
    }),
  );
  await until(() => at > 0 || code !== null, `the ${what} to hold its windows`, timeoutMs);
  if (at < 0) throw new Error(`${what} exited (${code}): ${err}`);
  return {
    at,
    end: async (sig) => {
      child.kill(sig);
      await exited;
    },
  };
}
