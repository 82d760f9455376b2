import { VirtualClock } from "../../src/clock/virtual.js";
import { NS_PER_S } from "../../src/clock/clock.js";
import type { DeviceConfigInput } from "../../src/config/schema.js";
import type { LoadedConfig } from "../../src/config/load.js";
import { formatIssues, validateConfig } from "../../src/config/load.js";
import { JohnnyFiveInputs } from "../../src/io/johnny-five.js";
import type { Logger } from "../../src/log/logger.js";
import { silentLogger } from "../../src/log/logger.js";
import { SqliteOutbox } from "../../src/outbox/sqlite.js";
import type { DeviceDeps } from "../../src/runtime.js";
import { Device } from "../../src/runtime.js";
import { SerialLink } from "../../src/io/serial.js";
import type { TruthRecord } from "../../src/sim/scenario.js";
import { SimSite } from "../../src/sim/site.js";
import type { VehicleTruth } from "../../src/sim/traffic.js";

/** Validate a config object or throw with every issue listed. */
export function mustLoad(input: DeviceConfigInput): LoadedConfig {
  const r = validateConfig(input);
  if (!r.ok) throw new Error(`test config invalid:\n${formatIssues(r.issues).join("\n")}`);
  return r.loaded;
}

export interface SimDevice {
  clock: VirtualClock;
  device: Device;
  site: SimSite;
  outbox: SqliteOutbox;
  vehicles: VehicleTruth[];
  /** Every ground-truth record, in order. */
  truth: TruthRecord[];
  /** Run virtual time forward by `seconds`, yielding to the event loop so MQTT traffic flows. */
  run(seconds: number): Promise<void>;
  /** Stop the site and the device (closing open windows) and wait for delivery. */
  stop(): Promise<void>;
}

/**
 * A simulated device in virtual time, publishing to a real broker: the integration-test rig.
 * Wall time starts at `startWallMs` (default 2026-01-05T07:00:00Z, a Monday morning).
 */
export async function startSimDevice(
  input: DeviceConfigInput,
  opts: { brokerUrl: string; seed?: number; startWallMs?: number; logger?: Logger; outboxPath?: string; deps?: Partial<DeviceDeps> },
): Promise<SimDevice> {
  const loaded = mustLoad(input);
  const clock = new VirtualClock({ startWallMs: opts.startWallMs ?? Date.UTC(2026, 0, 5, 7, 0, 0) });
  const vehicles: VehicleTruth[] = [];
  const truth: TruthRecord[] = [];
  const site = new SimSite(loaded, {
    clock,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    onTruth: (r) => {
      truth.push(r);
      if (r.kind === "vehicle") vehicles.push(r as unknown as VehicleTruth);
    },
  });
  const outbox = SqliteOutbox.open({ path: opts.outboxPath ?? ":memory:", now: () => clock.wallMs() });
  const device = new Device(loaded, {
    clock,
    logger: opts.logger ?? silentLogger,
    inputs: new JohnnyFiveInputs({ io: site.board, clock, timestampSource: "virtual" }),
    serial: () => new SerialLink({ binding: site.serial.binding, clock, logger: opts.logger ?? silentLogger, jitter: false }),
    ioPlugin: site.board,
    outbox,
    brokerUrl: opts.brokerUrl,
    mqtt: { backoffMinMs: 50, backoffMaxMs: 500 },
    ...opts.deps,
  });
  await device.start();
  const deadline = Date.now() + 10_000;
  while (device.session.state !== "connected") {
    if (Date.now() > deadline) throw new Error(`device did not connect to ${opts.brokerUrl} within 10 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  site.start();
  return {
    clock,
    device,
    site,
    outbox,
    vehicles,
    truth,
    run: (seconds) => clock.runUntil(clock.monoNs() + seconds * NS_PER_S, { yieldEvery: 500 }),
    stop: async () => {
      site.stop();
      await device.stop(10_000);
      outbox.close();
    },
  };
}
