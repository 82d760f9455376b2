import { join, resolve } from "node:path";
import { NS_PER_MS } from "../clock/clock.js";
import { CronTicker } from "../clock/cron.js";
import type { RealClock } from "../clock/real.js";
import { parseDuration } from "../config/duration.js";
import type { LoadedConfig, ValidationResult } from "../config/load.js";
import { formatIssues } from "../config/issue-format.js";
import { loadConfigFileOffThread, loadDemoConfigOffThread } from "../config/load-off-thread.js";
import { identifierPortNames } from "../config/sections/identifier-ports.js";
import { CommandVerifier, type DeviceReplayStore, loadPublicKey } from "../control/signing.js";
import type { Generation, SupervisorHooks } from "../control/supervisor.js";
import { linuxSystemProbe } from "../control/system.js";
import type { Hardware } from "../io/factory.js";
import { isJournalStream } from "../log/journal.js";
import type { Logger } from "../log/logger.js";
import { createLogger } from "../log/logger.js";
import type { EmbeddedBroker } from "../mqtt/embedded.js";
import { startEmbeddedBroker } from "../mqtt/embedded.js";
import { loadTransport, redactUrl } from "../mqtt/secrets.js";
import { OutboxError } from "../outbox/errors.js";
import { lockStateDir, StateLockError } from "../outbox/lock.js";
import type { OutboxRecovery } from "../outbox/open.js";
import { openOutbox } from "../outbox/open.js";
import type { SqliteOutbox } from "../outbox/sqlite.js";
import { annotateLoss } from "../publish/envelope.js";
import { decodeMessages } from "../watch/compact.js";
import { Device } from "../runtime.js";
import type { TraceRecorder } from "../sim/recorder.js";
import type { DeviceWeb } from "../web/device-web.js";
import type { journalObserver } from "../watch/live-view.js";
import { LiveView } from "../watch/live-view.js";
import type { Io } from "./args.js";
import { EXIT, UsageError } from "./args.js";
import { boardHardware } from "./hardware.js";
import { formatMessage } from "./printer.js";
import { version } from "./version.js";

/**
 * The steps of `roadside run` (src/cli/run.ts), each named for what it does, so runCommand reads
 * as the order of things: parse, load, lock, broker, outbox, page, build a generation, run, stop.
 */

export type LogLevelFlag = "debug" | "info" | "warn" | "error";

/** The state folder's lock (src/outbox/lock.ts). */
export type StateLock = ReturnType<typeof lockStateDir>;

/** --duration and --log-level, checked: a bad one is a usage error naming the flag and the fix. */
export function runFlags(values: { duration?: string | undefined; "log-level"?: string | undefined }): {
  durationS: number | undefined;
  level: LogLevelFlag | undefined;
} {
  let durationS: number | undefined;
  if (values.duration !== undefined) {
    durationS = parseDuration(values.duration);
    if (durationS === undefined || durationS <= 0)
      throw new UsageError(`--duration ${JSON.stringify(values.duration)} is not a duration; write e.g. 90s, 10m or 2h`);
  }
  const level = values["log-level"];
  if (level !== undefined && !["debug", "info", "warn", "error"].includes(level)) {
    throw new UsageError(`--log-level ${JSON.stringify(level)}: use debug, info, warn or error`);
  }
  return { durationS, level: level as LogLevelFlag | undefined };
}

/** The device config (--config, or the built-in demo), or undefined after printing every problem. */
export async function loadRunConfig(
  configPath: string | undefined,
  io: Io,
  started?: Promise<ValidationResult>,
): Promise<LoadedConfig | undefined> {
  // validated in a worker thread: zod and yaml stay out of the running device's heap (issue 15);
  // `started`: the same load, begun before this command's modules were loaded (early-config.ts)
  const result: ValidationResult = await (started ?? (configPath ? loadConfigFileOffThread(configPath) : loadDemoConfigOffThread()));
  if (result.ok) return result.loaded;
  io.err(`${configPath ?? "built-in demo config"}: ${result.issues.length} problem(s):\n`);
  for (const line of formatIssues(result.issues)) io.err(`${line}\n`);
  return undefined;
}

/**
 * On a terminal, the live view owns the screen and shows log lines inside it; without one (systemd),
 * one structured line per event for journald.
 */
export function runLogger(loaded: LoadedConfig, level: LogLevelFlag | undefined, screen: Screen): Logger {
  const { log } = loaded.config;
  return createLogger({
    level: level ?? log.level,
    format: log.format === "auto" ? (process.stderr.isTTY ? "text" : "json") : log.format,
    write: (line) => (screen.live ? screen.live.log(line) : process.stderr.write(line)),
    // under systemd every line carries its priority, so `journalctl -p warning` finds the trouble
    priorityPrefix: isJournalStream(2),
  });
}

/**
 * One process per state folder: a second would take the broker session over and publish its own
 * summaries. The lock, or the exit code after saying why not.
 */
export function lockState(dir: string, io: Io): StateLock | number {
  try {
    const lock = lockStateDir(dir);
    process.once("exit", () => lock.release());
    return lock;
  } catch (err) {
    if (err instanceof StateLockError) {
      io.err(`${err.message}\n`);
      return EXIT.usage;
    }
    io.err(
      `cannot lock the state folder ${dir}: ${(err as Error).message}; check that the folder is writable by this user or pass --state-dir\n`,
    );
    return EXIT.failure;
  }
}

/** The outbox in the state folder (a damaged one set aside as outbox.onCorrupt says), or the reason it cannot open. */
export function openRunOutbox(
  loaded: LoadedConfig,
  dir: string,
  clock: RealClock,
  logger: Logger,
): ReturnType<typeof openOutbox> | { error: string } {
  const { outbox } = loaded.config;
  try {
    return openOutbox({
      path: join(dir, "outbox.db"),
      now: () => clock.wallMs(),
      maxBytes: outbox.maxBytes,
      minFreeBytes: outbox.minFreeDisk,
      freeBytes: () => linuxSystemProbe().disk(dir)?.freeBytes,
      onCorrupt: outbox.onCorrupt,
      onDamaged: (message) => logger.error(message),
      annotate: annotateLoss,
      logger,
    });
  } catch (err) {
    return {
      error:
        err instanceof OutboxError
          ? err.message
          : `cannot open the outbox in ${dir}: ${(err as Error).message}; check that the folder is writable or pass --state-dir`,
    };
  }
}

/** The embedded broker when neither --broker nor mqtt.url names one, and the URL each generation publishes to. */
export async function brokerFor(
  flag: string | undefined,
  loaded: LoadedConfig,
  logger: Logger,
): Promise<{ broker: EmbeddedBroker | undefined; brokerUrl: (l: LoadedConfig) => string }> {
  const { mqtt } = loaded.config;
  let broker: EmbeddedBroker | undefined;
  if (!(flag ?? mqtt.url)) {
    broker = await startEmbeddedBroker(mqtt.embeddedPort);
    if (broker.port !== mqtt.embeddedPort && mqtt.embeddedPort !== 0) {
      logger.warn(`port ${mqtt.embeddedPort} is taken; the embedded broker listens on ${broker.port} instead`);
    }
  }
  const b = broker;
  return { broker, brokerUrl: (l) => flag ?? l.config.mqtt.url ?? b?.url ?? "mqtt://127.0.0.1:1883" };
}

/**
 * Resolves with the exit code when the run should end: SIGINT, SIGTERM, --duration, or `exit`
 * (a restart command, no config coming up).
 */
export function stopSignal(clock: RealClock, durationS: number | undefined): { stopped: Promise<number>; exit: (code: number) => void } {
  let exit: (code: number) => void = () => {};
  let durationTimer: ReturnType<typeof clock.setTimer> | undefined;
  const stopped = new Promise<number>((resolve) => {
    exit = resolve;
    process.once("SIGINT", () => resolve(EXIT.ok));
    process.once("SIGTERM", () => resolve(EXIT.ok));
    if (durationS !== undefined) durationTimer = clock.setTimer(clock.monoNs() + durationS * 1000 * NS_PER_MS, () => resolve(EXIT.ok));
  });
  // a pending --duration timer would keep the process alive after a signal stopped it
  void stopped.then(() => durationTimer && clock.clearTimer(durationTimer));
  return { stopped, exit: (code) => exit(code) };
}

/**
 * --record: the recorder sits between the hardware and the device, so it sees what the drivers see;
 * identifier ports (probe scanners, RFID readers) are never recorded.
 */
/** `--record FILE`: the trace recorder (loaded only then: a device that records nothing never loads it). */
export async function recorderFor(path: string | undefined, loaded: LoadedConfig, clock: RealClock): Promise<TraceRecorder | undefined> {
  if (!path) return undefined;
  const { TraceRecorder } = await import("../sim/recorder.js");
  return new TraceRecorder({
    path,
    clock,
    reorderMs: 1000,
    neverRecord: identifierPortNames(loaded.config.identifiers),
    note: `roadside run --record on ${loaded.board.name}, device ${loaded.config.device.id}`,
  });
}

/** The first lines a person sees when the output is not the live view. */
export function banner(io: Io, loaded: LoadedConfig, url: string, broker: EmbeddedBroker | undefined, dir: string): void {
  const { config } = loaded;
  io.out(`roadside ${config.device.id} on ${loaded.board.name}${broker ? " with an embedded broker" : ""}\n`);
  io.out(`publishing to ${url} under ${config.mqtt.prefix}/${config.device.id}/…; state in ${dir}\n`);
  if (broker) io.out(`watch it from another terminal: mosquitto_sub -h 127.0.0.1 -p ${broker.port} -t '${config.mqtt.prefix}/#' -v\n`);
  io.out(`summaries appear at the end of each window (${config.windows.default}s by default); Ctrl-C stops\n\n`);
}

/** The terminal's live view, replaced with each generation; the logger writes into it while it is up. */
export interface Screen {
  readonly useLive: boolean;
  live: LiveView | undefined;
}

/** What every device generation of one `roadside run` shares. */
export interface GenerationDeps {
  io: Io;
  clock: RealClock;
  logger: Logger;
  /** --config as given (undefined: the built-in demo, which cannot keep a config sent by command). */
  configPath: string | undefined;
  configDir: string;
  quiet: boolean;
  stateDir: string;
  startedNs: number;
  outbox: SqliteOutbox;
  recovery: OutboxRecovery | undefined;
  replay: DeviceReplayStore;
  brokerUrl: (l: LoadedConfig) => string;
  recorder: TraceRecorder | undefined;
  web: DeviceWeb | undefined;
  journal: ReturnType<typeof journalObserver> | undefined;
  screen: Screen;
}

/**
 * Builds and starts one device generation from a config (the first, and each one a signed config
 * command brings): TLS and the signing key, the board's hardware, the live view, the Device.
 */
export function generationBuilder(d: GenerationDeps): (l: LoadedConfig, hooks: SupervisorHooks) => Promise<Generation> {
  const { io, clock, logger, configDir, outbox, recovery, recorder, web, journal, screen } = d;
  return async (l, hooks) => {
    const transport = loadTransport(l.config.mqtt, { baseDir: configDir });
    if (transport.problems.length > 0) throw new Error(transport.problems.join("; "));
    for (const w of transport.warnings) logger.warn(w);
    const verifier = l.config.control.publicKeyFile
      ? new CommandVerifier({
          publicKey: loadPublicKey(resolve(configDir, l.config.control.publicKeyFile)),
          deviceId: l.config.device.id,
          wallMs: () => clock.wallMs(),
          synced: () => clock.synced,
          maxSkewMs: l.config.control.maxClockSkew * 1000,
          replay: d.replay,
        })
      : undefined;
    const hw: Hardware & { close?: () => Promise<void> } = await boardHardware(l, { clock, logger });
    // a new generation (config applied) gets a view of its own inputs and streams
    screen.live?.stop();
    screen.live = screen.useLive
      ? new LiveView({
          loaded: l,
          clock,
          brokerUrl: redactUrl(d.brokerUrl(l)),
          outboxStats: () => outbox.stats(),
          write: io.out,
          size: () => ({ columns: process.stdout.columns || 100, rows: process.stdout.rows || 30 }),
        })
      : undefined;
    const view = screen.live;
    web?.generation(l);
    const device = new Device(
      l,
      (web ? web.wrap.bind(web) : <T>(x: T): T => x)({
        clock,
        logger,
        inputs: recorder ? recorder.inputs(hw.inputs) : hw.inputs,
        serial: recorder ? recorder.serial(hw.serial) : hw.serial,
        ...(recorder ? { onAnalog: (name: string, volts: number, tNs: number) => recorder.analog(name, volts, tNs) } : {}),
        ioPlugin: hw.ioPlugin,
        outbox,
        brokerUrl: d.brokerUrl(l),
        version: version(),
        ticker: () => new CronTicker(),
        stateDir: d.stateDir,
        startedNs: d.startedNs,
        mqtt: { connectOptions: transport.options },
        control: { ...(verifier ? { verifier } : {}), ...(d.configPath ? { applyConfig: hooks.applyConfig } : {}), restart: hooks.restart },
        ...(recovery
          ? { outboxRecovered: `${recovery.reason}; moved to ${recovery.movedTo}; numbering restarted at ${recovery.firstSeq}` }
          : {}),
        ...(view
          ? { onEdge: view.onEdge, onCommitted: view.onCommitted, onMqttState: view.onMqttState }
          : journal
            ? { onCommitted: journal.onCommitted }
            : {}),
        onDelivered: view
          ? view.onDelivered
          : journal
            ? journal.onDelivered
            : d.quiet
              ? undefined
              : (m) => {
                  try {
                    io.out(
                      decodeMessages(m.payload)
                        .map((d) => `${formatMessage(d)}\n`)
                        .join(""),
                    );
                  } catch {
                    io.out(`${m.topic}  seq ${m.seq}  (${m.payload.length} bytes)\n`);
                  }
                },
      }),
    );
    try {
      await device.start();
    } catch (err) {
      await device.stop(0).catch(() => {});
      await hw.close?.();
      throw err;
    }
    hw.site?.start();
    view?.start();
    return {
      device,
      stop: async () => {
        hw.site?.stop();
        await device.stop();
        await hw.close?.();
      },
    };
  };
}
