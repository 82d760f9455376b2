import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { NS_PER_S } from "../../src/clock/clock.js";
import { VirtualClock } from "../../src/clock/virtual.js";
import type { DeviceConfigInput } from "../../src/config/schema.js";
import type { FeatureFactory } from "../../src/features/index.js";
import { JohnnyFiveInputs } from "../../src/io/johnny-five.js";
import { SerialLink } from "../../src/io/serial.js";
import { createLogger } from "../../src/log/logger.js";
import { SqliteOutbox } from "../../src/outbox/sqlite.js";
import { Device } from "../../src/runtime.js";
import type { TruthRecord } from "../../src/sim/scenario.js";
import type { SimPortBinding } from "../../src/sim/serial.js";
import { SimSite } from "../../src/sim/site.js";
import type { Received } from "../helpers/brokers.js";
import { subscribe } from "../helpers/brokers.js";
import { mustLoad } from "../helpers/sim-device.js";

v8.setFlagsFromString("--expose-gc");
/** A full garbage collection (V8's `gc`, exposed at run time). */
export const gc = runInNewContext("gc") as () => void;

export interface AuditRun {
  truth: TruthRecord[];
  /** Every message a subscriber to `roadside/{id}/#` received. */
  payloads: Received[];
  /** Every file of the state folder: read while the device ran (WAL present) and after it stopped. */
  disk: { name: string; bytes: Buffer }[];
  /** Every log line (debug level) and everything written to stdout/stderr during the run. */
  logs: string[];
  /** The serial stream's read pools (where received bytes land on any hardware). */
  pools: Buffer[];
  /** Heap snapshot taken after the last window with identifiers closed and a forced GC. */
  snapshotPath: string;
  /** Summaries published on …/presence/ (to show the run counted something). */
  presenceMessages: number;
}

/**
 * A simulated device run for the leak audit: the real device path (simulated serial bus →
 * SerialLink → parser → gate → publisher → SQLite outbox on a real file → MQTT), debug logging
 * captured, the serial read pools recorded, and a heap snapshot at the end.
 *
 * Nothing here builds an identifier: the simulator derives them from the seed when it emits bytes,
 * and truth records hold numbers. The caller derives the identifiers after the snapshot.
 */
export async function auditRun(
  config: DeviceConfigInput,
  opts: { brokerUrl: string; hours: number; features?: readonly FeatureFactory[]; windowS: number },
): Promise<AuditRun> {
  const loaded = mustLoad(config);
  const id = loaded.config.device.id;
  const dir = mkdtempSync(join(tmpdir(), `roadside-leak-${id}-`));
  const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 0, 5, 0, 0, 0) });
  const truth: TruthRecord[] = [];
  const site = new SimSite(loaded, { clock, onTruth: (r) => truth.push(r) });
  const pools: Buffer[] = [];
  const open = site.serial.binding.open;
  site.serial.binding.open = async (o) => {
    const port: SimPortBinding = await open(o);
    const read = port.read.bind(port);
    port.read = (buffer, offset, length) => {
      if (!pools.includes(buffer)) pools.push(buffer);
      return read(buffer, offset, length);
    };
    return port;
  };
  const logs: string[] = [];
  const logger = createLogger({ level: "debug", format: "json", write: (l) => logs.push(l), now: () => clock.wallMs() });
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const capture = (orig: typeof out) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logs.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("latin1"));
      return (orig as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof out;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  const outbox = SqliteOutbox.open({ path: join(dir, "outbox.db"), now: () => clock.wallMs() });
  const sub = await subscribe(opts.brokerUrl, `roadside/${id}/#`);
  const device = new Device(loaded, {
    clock,
    logger,
    inputs: new JohnnyFiveInputs({ io: site.board, clock, timestampSource: "virtual" }),
    serial: () => new SerialLink({ binding: site.serial.binding, clock, logger, reopenMinMs: 20, reopenMaxMs: 200 }),
    ioPlugin: site.board,
    outbox,
    brokerUrl: opts.brokerUrl,
    mqtt: { backoffMinMs: 50, backoffMaxMs: 500 },
    ...(opts.features ? { features: opts.features } : {}),
  });
  try {
    await device.start();
    const deadline = Date.now() + 10_000;
    while (device.session.state !== "connected") {
      if (Date.now() > deadline) throw new Error(`device did not connect to ${opts.brokerUrl}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    site.start();
    await clock.runUntil(clock.monoNs() + opts.hours * 3600 * NS_PER_S, { yieldEvery: 500 });
    site.stop();
    // let the last window with identifiers close: its key is zeroed, its tokens dropped
    await clock.runUntil(clock.monoNs() + (opts.windowS + 2) * NS_PER_S, { yieldEvery: 500 });
    await device.drained(10_000);
    await sub.waitFor((m) => m.filter((x) => x.topic.includes("/presence/")).length >= Math.floor((opts.hours * 3600) / opts.windowS));
    const disk: AuditRun["disk"] = readdirSync(dir).map((name) => ({ name: `${name} (running)`, bytes: readFileSync(join(dir, name)) }));
    gc();
    gc();
    const snapshotPath = v8.writeHeapSnapshot(join(dir, "heap.heapsnapshot"), { exposeNumericValues: true } as unknown as undefined);
    await device.stop(5_000);
    outbox.close();
    for (const name of readdirSync(dir))
      if (!name.endsWith(".heapsnapshot")) disk.push({ name: `${name} (stopped)`, bytes: readFileSync(join(dir, name)) });
    return {
      truth,
      payloads: sub.messages,
      disk,
      logs,
      pools,
      snapshotPath,
      presenceMessages: sub.messages.filter((m) => m.topic.includes("/presence/")).length,
    };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    await sub.close();
  }
}
