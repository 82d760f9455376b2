import { join } from "node:path";
import { NS_PER_S } from "../clock/clock.js";
import { VirtualClock } from "../clock/virtual.js";
import type { LoadedConfig } from "../config/load.js";
import { configHash } from "../config/config-hash.js";
import type { Hardware } from "../io/factory.js";
import type { Logger } from "../log/logger.js";
import type { Outbox, OutboxMessage } from "../outbox/outbox.js";
import { SqliteOutbox } from "../outbox/sqlite.js";
import type { DeviceDeps } from "../runtime.js";
import { Device } from "../runtime.js";
import { createReplayHardware, createSimHardware } from "./hardware.js";
import { identifierPortNames } from "../config/sections/identifier-ports.js";
import { TraceRecorder } from "./recorder.js";
import type { Speed } from "./runner.js";
import { runVirtual } from "./runner.js";
import type { ScenarioFactory } from "./scenario.js";
import type { ParsedTrace } from "./trace.js";
import type { TraceSource } from "./trace-stream.js";
import { arraySource, openTraceFile, TraceError } from "./trace-stream.js";
import { TruthWriter } from "./truth.js";

/** Where a run is, for progress displays. */
export interface Progress {
  /** Virtual seconds done. */
  doneS: number;
  totalS: number;
  wallMs: number;
  committed: number;
  delivered: number;
}

interface Common {
  /** Broker URL (a real broker, or the embedded one). */
  brokerUrl: string;
  speed: Speed;
  logger: Logger;
  /** Folder for outboxes (`<dir>/<device>/outbox.db`); default in memory. */
  stateDir?: string;
  /** How long to wait for the broker to take everything at the end. Default 60 s. */
  drainTimeoutMs?: number;
  onProgress?: (p: Progress) => void;
  /** Real ms between onProgress calls at most (default 250); 0 calls it at every yield, in step with virtual time. */
  progressEveryMs?: number;
  onDelivered?: (device: string, msg: OutboxMessage) => void;
  version?: string;
  /** MQTT session settings (tests shorten backoff). */
  mqtt?: DeviceDeps["mqtt"];
  /** Features to build; default FEATURES (tests add their own). */
  features?: DeviceDeps["features"];
}

export interface SimulateOptions extends Common {
  loaded: LoadedConfig;
  /** Wall time of the start, ms since epoch. */
  startWallMs: number;
  durationS: number;
  /** Overrides sim.seed; device i of a fleet uses seed + i. */
  seed?: number;
  /** Devices with distinct ids `{id}-0001`… (fleet mode). Default 1 (the config's id). */
  devices?: number;
  /** Write the signal trace here (one device only). */
  recordPath?: string;
  /** Write the ground truth here. */
  truthPath?: string;
  /** Scenarios to build; default SCENARIOS (tests add their own). */
  scenarios?: readonly ScenarioFactory[];
}

export interface RunResult {
  devices: number;
  simulatedS: number;
  wallMs: number;
  /** Messages written to the outboxes. */
  committed: number;
  /** Messages the broker acknowledged. */
  delivered: number;
  /** Messages left in the outboxes (the broker did not take them in time). */
  undelivered: number;
  truthRecords: number;
  traceLines: number;
}

/** The config of fleet device i of n: its own id (`{id}-0001`…) and client id. */
export function fleetMember(loaded: LoadedConfig, i: number, n: number): LoadedConfig {
  if (n <= 1) return loaded;
  const id = `${loaded.config.device.id}-${String(i + 1).padStart(4, "0")}`;
  const mqtt = loaded.config.mqtt.clientId
    ? { ...loaded.config.mqtt, clientId: `${loaded.config.mqtt.clientId}-${i + 1}` }
    : loaded.config.mqtt;
  const config = { ...loaded.config, device: { ...loaded.config.device, id }, mqtt };
  return { ...loaded, config, hash: configHash(config) };
}

interface Member {
  id: string;
  device: Device;
  outbox: Outbox;
  hw: Hardware;
}

function outboxFor(clock: VirtualClock, stateDir: string | undefined, id: string): SqliteOutbox {
  return SqliteOutbox.open({ path: stateDir ? join(stateDir, id, "outbox.db") : ":memory:", now: () => clock.wallMs() });
}

/**
 * A simulated run in virtual time: one device (or a fleet) on simulated hardware, publishing through
 * the full pipeline to a broker; optionally recording the signal trace and the ground truth. Resolves
 * once every message is delivered or `drainTimeoutMs` has passed.
 */
export async function simulate(opts: SimulateOptions): Promise<RunResult> {
  const n = opts.devices ?? 1;
  if (n > 1 && opts.recordPath) throw new Error("a trace records one device: drop --record or --devices");
  const started = Date.now();
  const clock = new VirtualClock({ startWallMs: opts.startWallMs });
  const counts = { committed: 0, delivered: 0 };
  const truth = opts.truthPath
    ? new TruthWriter(opts.truthPath, clock, { seed: opts.seed ?? opts.loaded.config.sim?.seed ?? 1, devices: n, config: opts.loaded.hash })
    : undefined;
  const recorder = opts.recordPath
    ? new TraceRecorder({
        path: opts.recordPath,
        clock,
        neverRecord: identifierPortNames(opts.loaded.config.identifiers),
        note: `roadside sim of ${opts.loaded.config.device.id}, seed ${opts.seed ?? opts.loaded.config.sim?.seed ?? 1}`,
      })
    : undefined;
  const members: Member[] = [];
  for (let i = 0; i < n; i++) {
    const loaded = fleetMember(opts.loaded, i, n);
    const id = loaded.config.device.id;
    const logger = n > 1 ? opts.logger.child({ device: id }) : opts.logger;
    const seed = (opts.seed ?? opts.loaded.config.sim?.seed ?? 1) + i;
    const hw = createSimHardware(loaded, {
      clock,
      logger,
      seed,
      ...(truth ? { onTruth: truth.sink(n > 1 ? id : undefined) } : {}),
      ...(opts.scenarios ? { scenarios: opts.scenarios } : {}),
    });
    const outbox = outboxFor(clock, opts.stateDir, id);
    members.push({ id, hw, outbox, device: makeDevice(loaded, hw, outbox, clock, logger, opts, counts, recorder) });
  }
  truth?.start();
  recorder?.start();
  try {
    for (const m of members) await m.device.start();
    for (const m of members) m.hw.site?.start();
    const endNs = clock.monoNs() + opts.durationS * NS_PER_S;
    await runVirtual(clock, endNs, {
      speed: opts.speed,
      ...(opts.progressEveryMs !== undefined ? { progressEveryMs: opts.progressEveryMs } : {}),
      onProgress: (now) => opts.onProgress?.({ doneS: now / NS_PER_S, totalS: opts.durationS, wallMs: Date.now() - started, ...counts }),
    });
  } finally {
    for (const m of members) m.hw.site?.stop();
    recorder?.close();
    truth?.close();
  }
  const undelivered = await stopAll(members, opts.drainTimeoutMs ?? 60_000);
  return {
    devices: n,
    simulatedS: opts.durationS,
    wallMs: Date.now() - started,
    ...counts,
    undelivered,
    truthRecords: truth?.records ?? 0,
    traceLines: recorder?.lines ?? 0,
  };
}

export interface ReplayOptions extends Common {
  loaded: LoadedConfig;
  /**
   * The path of a trace (streamed: memory does not grow with its size), a trace opened with
   * openTraceFile (the caller closes it), or one parsed whole.
   */
  trace: ParsedTrace | TraceSource | string;
  /** Problems found in the trace (bad lines are skipped). */
  onTraceIssue?: (message: string) => void;
}

/** The trace cannot be replayed at all (unreadable, no header, lines far out of time order). */
export { TraceError } from "./trace-stream.js";

/**
 * Feed a signal trace through the full pipeline in virtual time, exactly as live signals arrive
 * (DESIGN.md "Signal trace format"), then stop the device and wait until everything it produced
 * is delivered (or `drainTimeoutMs` passes).
 */
export async function replay(opts: ReplayOptions): Promise<RunResult> {
  const started = Date.now();
  let trace: TraceSource;
  if (typeof opts.trace === "string") {
    const opened = openTraceFile(opts.trace);
    for (const issue of opened.issues) opts.onTraceIssue?.(issue);
    trace = opened.source;
  } else if ("lines" in opts.trace) {
    if (opts.trace.lines.length === 0 && opts.trace.issues.length > 0) throw new TraceError(opts.trace.issues[0]!);
    for (const issue of opts.trace.issues) opts.onTraceIssue?.(issue);
    trace = arraySource(opts.trace);
  } else trace = opts.trace;
  const clock = new VirtualClock({ startWallMs: trace.startWallMs, synced: trace.header.synced !== false });
  const counts = { committed: 0, delivered: 0 };
  const r = createReplayHardware(opts.loaded, trace, { clock, logger: opts.logger });
  const id = opts.loaded.config.device.id;
  const outbox = outboxFor(clock, opts.stateDir, id);
  const member: Member = {
    id,
    hw: r.hardware,
    outbox,
    device: makeDevice(opts.loaded, r.hardware, outbox, clock, opts.logger, opts, counts),
  };
  const totalS = (r.player.endNs - clock.monoNs()) / NS_PER_S;
  r.player.prepare();
  try {
    await member.device.start();
    r.player.start();
    await runVirtual(clock, r.player.endNs, {
      speed: opts.speed,
      ...(opts.progressEveryMs !== undefined ? { progressEveryMs: opts.progressEveryMs } : {}),
      onProgress: (now) => opts.onProgress?.({ doneS: now / NS_PER_S, totalS, wallMs: Date.now() - started, ...counts }),
    });
  } finally {
    r.player.stop();
    if (typeof opts.trace === "string") trace.close();
  }
  const undelivered = await stopAll([member], opts.drainTimeoutMs ?? 60_000);
  return {
    devices: 1,
    simulatedS: totalS,
    wallMs: Date.now() - started,
    ...counts,
    undelivered,
    truthRecords: 0,
    traceLines: r.player.applied,
  };
}

function makeDevice(
  loaded: LoadedConfig,
  hw: Hardware,
  outbox: Outbox,
  clock: VirtualClock,
  logger: Logger,
  opts: Common,
  counts: { committed: number; delivered: number },
  recorder?: TraceRecorder,
): Device {
  const id = loaded.config.device.id;
  return new Device(loaded, {
    clock,
    logger,
    inputs: recorder ? recorder.inputs(hw.inputs) : hw.inputs,
    serial: recorder ? recorder.serial(hw.serial) : hw.serial,
    ...(hw.ioPlugin ? { ioPlugin: hw.ioPlugin } : {}),
    ...(recorder ? { onAnalog: (name: string, volts: number, tNs: number) => recorder.analog(name, volts, tNs) } : {}),
    outbox,
    brokerUrl: opts.brokerUrl,
    version: opts.version ?? "0.0.0",
    ...(opts.mqtt ? { mqtt: opts.mqtt } : {}),
    ...(opts.features ? { features: opts.features } : {}),
    onCommitted: (msgs) => (counts.committed += msgs.length),
    onDelivered: (m) => {
      counts.delivered++;
      opts.onDelivered?.(id, m);
    },
  });
}

/** Stop every device (windows close as partial), wait for delivery; returns what is left undelivered. */
async function stopAll(members: readonly Member[], drainTimeoutMs: number): Promise<number> {
  await Promise.all(members.map((m) => m.device.stop(drainTimeoutMs)));
  let left = 0;
  for (const m of members) {
    left += m.outbox.stats().depth;
    m.outbox.close();
    await m.hw.close?.();
  }
  return left;
}
