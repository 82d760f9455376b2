import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { RealClock } from "../clock/real.js";
import type { LoadedConfig } from "../config/load.js";
import { DeviceReplayStore, FileReplayStore, loadPublicKey } from "../control/signing.js";
import { RESTART_EXIT_CODE, Supervisor } from "../control/supervisor.js";
import { ServiceNotifier } from "../control/notify.js";
import { journalObserver } from "../watch/live-view.js";
import { loadTransport, redactUrl } from "../mqtt/secrets.js";
import type { Io } from "./args.js";
import { type EarlyConfig, earlyResultFor } from "./early-config.js";
import { EXIT, parse } from "./args.js";
import {
  banner,
  brokerFor,
  generationBuilder,
  loadRunConfig,
  lockState,
  openRunOutbox,
  recorderFor,
  runFlags,
  runLogger,
  type Screen,
  stopSignal,
} from "./run-steps.js";
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

export async function runCommand(argv: string[], io: Io, early?: EarlyConfig): Promise<number> {
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
  const { durationS, level } = runFlags(values);
  const loaded = await loadRunConfig(values.config, io, earlyResultFor(early, values.config));
  if (!loaded) return EXIT.usage;
  const { config } = loaded;
  const screen: Screen = { useLive: io.isTTY && !values.quiet && !values.lines, live: undefined };
  const logger = runLogger(loaded, level, screen);
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

  const lock = lockState(dir, io);
  if (typeof lock === "number") return lock;
  const { broker, brokerUrl } = await brokerFor(values.broker, loaded, logger);
  const opened = openRunOutbox(loaded, dir, clock, logger);
  if ("error" in opened) {
    await broker?.close();
    lock.release();
    io.err(`${opened.error}\n`);
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

  const { stopped, exit } = stopSignal(clock, durationS);
  const recorder = await recorderFor(values.record, loaded, clock);
  const build = generationBuilder({
    ...{ io, clock, logger, configPath: values.config, configDir, quiet: values.quiet === true, stateDir: dir, startedNs },
    ...{ outbox, recovery, replay, brokerUrl, recorder, web, journal, screen },
  });

  const supervisor = new Supervisor({
    initial: loaded,
    configPath: values.config ? resolve(values.config) : "",
    build,
    logger,
    clock,
    onExit: (code) => exit(code),
  });

  if (!values.quiet && !screen.useLive) banner(io, loaded, redactUrl(brokerUrl(loaded)), broker, dir);

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
  screen.live?.stop();
  screen.live = undefined;
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
