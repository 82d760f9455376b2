import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { NS_PER_MS } from "../clock/clock.js";
import { CronTicker } from "../clock/cron.js";
import { RealClock } from "../clock/real.js";
import { parseDuration } from "../config/duration.js";
import { demoConfig } from "../config/defaults.js";
import type { LoadedConfig, ValidationResult } from "../config/load.js";
import { formatIssues, loadConfigFile, validateConfig } from "../config/load.js";
import { CommandVerifier, DeviceReplayStore, FileReplayStore, loadPublicKey } from "../control/signing.js";
import type { Generation, SupervisorHooks } from "../control/supervisor.js";
import { RESTART_EXIT_CODE, Supervisor } from "../control/supervisor.js";
import { linuxSystemProbe } from "../control/system.js";
import type { Hardware } from "../io/factory.js";
import { boardHardware } from "./hardware.js";
import { createLogger } from "../log/logger.js";
import { isJournalStream } from "../log/journal.js";
import { ServiceNotifier } from "../control/notify.js";
import { journalObserver, LiveView } from "../watch/live-view.js";
import type { EmbeddedBroker } from "../mqtt/embedded.js";
import { startEmbeddedBroker } from "../mqtt/embedded.js";
import { loadTransport, redactUrl } from "../mqtt/secrets.js";
import { OutboxError } from "../outbox/errors.js";
import { openOutbox } from "../outbox/open.js";
import { lockStateDir, StateLockError } from "../outbox/lock.js";
import { annotateLoss, decodeMessage } from "../publish/envelope.js";
import { Device } from "../runtime.js";
import { identifierPortNames } from "../config/sections/identifiers.js";
import { TraceRecorder } from "../sim/recorder.js";
import type { Io } from "./args.js";
import { EXIT, parse, UsageError } from "./args.js";
import { formatMessage } from "./printer.js";
import { version } from "./version.js";

export const RUN_HELP = `Usage: roadside run [options]

Run the device: read the inputs, aggregate, publish summaries over MQTT.
With no --config, runs a simulated two-lane site with 10 s windows and an
embedded MQTT broker on 127.0.0.1.

On a terminal it shows a live view (inputs, latest summaries, outbox, broker);
with output piped it prints one line per delivered summary; under systemd
(no terminal) it logs one JSON object per line for journald.

Options:
  -c, --config FILE     device config (YAML or JSON); see docs/config.md
  -b, --broker URL      broker URL, overrides mqtt.url (mqtt://host:1883, mqtts://…)
      --state-dir DIR   outbox and sequence counter folder (default: state.dir,
                        $STATE_DIRECTORY, /var/lib/roadside for the service
                        user, or ~/.local/state/roadside/<device id>)
  -d, --duration TIME   stop after this long (e.g. 90s, 10m); default: until SIGINT/SIGTERM
      --log-level LVL   debug, info, warn or error (default: log.level)
      --quiet           do not print summaries on stdout
      --lines           on a terminal, print one line per delivered summary instead
                        of the live view (per input: state and counts this window;
                        per stream: the latest summary; outbox depth; broker state)
      --record FILE     record what the inputs and serial ports deliver as a
                        signal trace (docs/traces.md), for \`roadside replay\`
  -h, --help            show this help

Every summary is kept in the outbox (state folder) until the broker acknowledges
it; see docs/delivery.md. The device answers commands on <prefix>/<id>/cmd/ping,
…/health, …/config and …/restart (config and restart must be signed with the key
in control.publicKeyFile); replies go to …/cmd/<name>/reply.

Exit codes: 0 stopped cleanly, 1 runtime failure, 2 bad usage or config,
${RESTART_EXIT_CODE} restart requested by a restart command (systemd restarts it with
Restart=always, as roadside install writes the unit).
`;

/** The service's state folder (the unit's StateDirectory=, and the roadside user's home, as scripts/install.sh makes it). */
export const SERVICE_STATE_DIR = "/var/lib/roadside";

/**
 * Where the outbox lives: flag, config, systemd's StateDirectory, or the user's state folder. The
 * service user's home is the service's state folder, so `sudo -u roadside roadside doctor` (or a
 * hand-started `run`) outside systemd finds the outbox the service keeps, not a second one in
 * ~/.local/state.
 */
export function stateDir(loaded: LoadedConfig, flag: string | undefined): string {
  const home = homedir();
  return (
    flag ??
    loaded.config.state.dir ??
    process.env["STATE_DIRECTORY"]?.split(":")[0] ??
    (home === SERVICE_STATE_DIR ? home : join(home, ".local", "state", "roadside", loaded.config.device.id))
  );
}

export async function runCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    config: { type: "string", short: "c" },
    broker: { type: "string", short: "b" },
    "state-dir": { type: "string" },
    duration: { type: "string", short: "d" },
    "log-level": { type: "string" },
    quiet: { type: "boolean" },
    lines: { type: "boolean" },
    record: { type: "string" },
  });
  if (values.help) {
    io.out(RUN_HELP);
    return EXIT.ok;
  }
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

  const result: ValidationResult = values.config ? loadConfigFile(values.config) : validateConfig(demoConfig());
  if (!result.ok) {
    io.err(`${values.config ?? "built-in demo config"}: ${result.issues.length} problem(s):\n`);
    for (const line of formatIssues(result.issues)) io.err(`${line}\n`);
    return EXIT.usage;
  }
  const loaded = result.loaded;
  const { config } = loaded;
  // On a terminal, the live view owns the screen and shows log lines inside it; without one (systemd),
  // one structured line per event for journald.
  let live: LiveView | undefined;
  const useLive = io.isTTY && !values.quiet && !values.lines;
  const logger = createLogger({
    level: (level as "debug" | "info" | "warn" | "error" | undefined) ?? config.log.level,
    format: config.log.format === "auto" ? (process.stderr.isTTY ? "text" : "json") : config.log.format,
    write: (line) => (live ? live.log(line) : process.stderr.write(line)),
    // under systemd every line carries its priority, so `journalctl -p warning` finds the trouble
    priorityPrefix: isJournalStream(2),
  });
  const notifier = new ServiceNotifier({ logger });
  const journal = !io.isTTY && !values.quiet && process.env["JOURNAL_STREAM"] ? journalObserver(logger) : undefined;

  const clock = new RealClock();
  const startedNs = clock.monoNs();
  const configDir = values.config ? dirname(resolve(values.config)) : process.cwd();
  const dir = stateDir(loaded, values["state-dir"]);
  const preflight = checkDelivery(loaded, configDir);
  if (preflight.length > 0) {
    io.err(`${values.config ?? "built-in demo config"}: ${preflight.length} problem(s):\n`);
    for (const line of preflight) io.err(`${line}\n`);
    return EXIT.usage;
  }

  // one process per state folder: a second would take the broker session over and publish its own summaries
  let lock: ReturnType<typeof lockStateDir>;
  try {
    lock = lockStateDir(dir);
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
  process.once("exit", () => lock.release());

  let broker: EmbeddedBroker | undefined;
  if (!(values.broker ?? config.mqtt.url)) {
    broker = await startEmbeddedBroker(config.mqtt.embeddedPort);
    if (broker.port !== config.mqtt.embeddedPort && config.mqtt.embeddedPort !== 0) {
      logger.warn(`port ${config.mqtt.embeddedPort} is taken; the embedded broker listens on ${broker.port} instead`);
    }
  }
  const brokerUrl = (l: LoadedConfig): string => values.broker ?? l.config.mqtt.url ?? broker?.url ?? "mqtt://127.0.0.1:1883";

  let opened: ReturnType<typeof openOutbox>;
  try {
    opened = openOutbox({
      path: join(dir, "outbox.db"),
      now: () => clock.wallMs(),
      maxBytes: config.outbox.maxBytes,
      minFreeBytes: config.outbox.minFreeDisk,
      freeBytes: () => linuxSystemProbe().disk(dir)?.freeBytes,
      onCorrupt: config.outbox.onCorrupt,
      onDamaged: (message) => logger.error(message),
      annotate: annotateLoss,
      logger,
    });
  } catch (err) {
    await broker?.close();
    lock.release();
    io.err(
      `${err instanceof OutboxError ? err.message : `cannot open the outbox in ${dir}: ${(err as Error).message}; check that the folder is writable or pass --state-dir`}\n`,
    );
    return EXIT.failure;
  }
  const { outbox, recovery } = opened;
  // web.listen: the technician's page, loaded only when set (off by default, so it costs nothing then)
  const page = config.web?.listen
    ? await (await import("../web/device-start.js")).startDeviceWeb({
        ...{ loaded, configPath: values.config ?? "", configDir, clock, stateDir: dir, version: version() },
        ...{ brokerUrl: redactUrl(brokerUrl(loaded)), outboxStats: () => outbox.stats() },
      })
    : undefined;
  if (page && "usage" in page) {
    io.err(`${values.config ?? "built-in demo config"}: ${page.usage}\n`);
    outbox.close();
    await broker?.close();
    lock.release();
    return EXIT.usage;
  }
  if (page && "failure" in page) logger.warn(page.failure);
  const web = page && "web" in page ? page.web : undefined;
  if (web && page && "url" in page) logger.info(`status page on ${page.url}/ (read-only)`);
  // the signed-command counter: in the outbox database, mirrored in control.json (src/control/signing.ts)
  const replay = new DeviceReplayStore(outbox, new FileReplayStore(join(dir, "control.json")));

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

  // --record: the recorder sits between the hardware and the device, so it sees what the drivers see;
  // identifier ports (probe scanners, RFID readers) are never recorded
  const recorder = values.record
    ? new TraceRecorder({
        path: values.record,
        clock,
        reorderMs: 1000,
        neverRecord: identifierPortNames(config.identifiers),
        note: `roadside run --record on ${loaded.board.name}, device ${config.device.id}`,
      })
    : undefined;
  const build = async (l: LoadedConfig, hooks: SupervisorHooks): Promise<Generation> => {
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
          replay,
        })
      : undefined;
    const hw: Hardware & { close?: () => Promise<void> } = boardHardware(l, { clock, logger });
    // a new generation (config applied) gets a view of its own inputs and streams
    live?.stop();
    live = useLive
      ? new LiveView({
          loaded: l,
          clock,
          brokerUrl: redactUrl(brokerUrl(l)),
          outboxStats: () => outbox.stats(),
          write: io.out,
          size: () => ({ columns: process.stdout.columns || 100, rows: process.stdout.rows || 30 }),
        })
      : undefined;
    const view = live;
    web?.generation(l);
    const device = new Device(l, (web ? web.wrap.bind(web) : <T>(d: T): T => d)({
      clock,
      logger,
      inputs: recorder ? recorder.inputs(hw.inputs) : hw.inputs,
      serial: recorder ? recorder.serial(hw.serial) : hw.serial,
      ...(recorder ? { onAnalog: (name: string, volts: number, tNs: number) => recorder.analog(name, volts, tNs) } : {}),
      ioPlugin: hw.ioPlugin,
      outbox,
      brokerUrl: brokerUrl(l),
      version: version(),
      ticker: () => new CronTicker(),
      stateDir: dir,
      startedNs,
      mqtt: { connectOptions: transport.options },
      control: { ...(verifier ? { verifier } : {}), ...(values.config ? { applyConfig: hooks.applyConfig } : {}), restart: hooks.restart },
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
          : values.quiet
            ? undefined
            : (m) => {
                try {
                  io.out(`${formatMessage(decodeMessage(m.payload))}\n`);
                } catch {
                  io.out(`${m.topic}  seq ${m.seq}  (${m.payload.length} bytes)\n`);
                }
              },
    }));
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

  const supervisor = new Supervisor({
    initial: loaded,
    configPath: values.config ? resolve(values.config) : "",
    build,
    logger,
    clock,
    onExit: (code) => exit(code),
  });

  if (!values.quiet && !useLive) {
    io.out(`roadside ${config.device.id} on ${loaded.board.name}${broker ? " with an embedded broker" : ""}\n`);
    io.out(`publishing to ${redactUrl(brokerUrl(loaded))} under ${config.mqtt.prefix}/${config.device.id}/…; state in ${dir}\n`);
    if (broker) io.out(`watch it from another terminal: mosquitto_sub -h 127.0.0.1 -p ${broker.port} -t '${config.mqtt.prefix}/#' -v\n`);
    io.out(`summaries appear at the end of each window (${config.windows.default}s by default); Ctrl-C stops\n\n`);
  }

  if (recorder) {
    recorder.start();
    if (!values.quiet) io.out(`recording the inputs to ${values.record}\n`);
  }
  try {
    await supervisor.start();
  } catch (err) {
    logger.error(`cannot start: ${(err as Error).message}`);
    recorder?.close();
    outbox.close();
    await broker?.close();
    lock.release();
    return EXIT.failure;
  }

  await notifier.ready(`running: device ${config.device.id} on ${loaded.board.name}, publishing to ${redactUrl(brokerUrl(loaded))}`);

  const code = await stopped;
  await notifier.stopping();
  live?.stop();
  live = undefined;
  await supervisor.stop();
  await web?.stop();
  recorder?.close();
  outbox.close();
  await broker?.close();
  lock.release();
  return code;
}

/**
 * Delivery settings that can only be checked with the files at hand: TLS material, the password
 * file and its permissions, the command-signing key. Every problem, each naming the file and the fix.
 */
export function checkDelivery(loaded: LoadedConfig, configDir: string): string[] {
  const out = loadTransport(loaded.config.mqtt, { baseDir: configDir }).problems;
  const key = loaded.config.control.publicKeyFile;
  if (key !== undefined) {
    try {
      loadPublicKey(resolve(configDir, key));
    } catch (err) {
      out.push((err as Error).message);
    }
  }
  return out;
}
