import { parseDuration } from "../config/duration.js";
import type { ValidationResult } from "../config/load.js";
import { formatIssues } from "../config/issue-format.js";
import { loadConfigFileOffThread, loadDemoConfigOffThread } from "../config/load-off-thread.js";
import { simulate } from "../sim/session.js";
import type { Io } from "./args.js";
import { EXIT, parse, UsageError } from "./args.js";
import { brokerFor, cliLogger, deliveredPrinter, logLevelOption, progressPrinter, resultText, speedOption } from "./sim-common.js";
import { version } from "./version.js";

export const SIM_HELP = `Usage: roadside sim [options]

Run a simulated site in virtual time: the simulator (a johnny-five IO plugin
and a serialport binding) plays the scenarios and faults of the config's sim
section into the real pipeline, which publishes summaries to an MQTT broker.
A simulated day takes seconds. See docs/simulator.md.

Options:
  -c, --config FILE     device config with board: sim (default: the demo site
                        of \`roadside run\`: two lanes, 10 s windows)
  -d, --duration TIME   simulated time to run, e.g. 90m, 24h (default 24h)
      --start TIME      wall-clock time of the start, ISO 8601
                        (default 2026-01-05T00:00:00Z, a Monday midnight)
      --seed N          random seed (default: sim.seed); the same seed, start
                        and config give the same signals
      --speed S         max (default): as fast as the machine allows; or a
                        multiple of real time, e.g. 1 (real time) or 60
      --record FILE     write the signal trace (docs/traces.md) for replay
      --truth FILE      write the ground truth: every vehicle, level, fault…
  -b, --broker URL      broker URL (default mqtt.url; none: an embedded broker
                        on 127.0.0.1, port mqtt.embeddedPort)
      --devices N       fleet mode: N devices with ids {id}-0001…, seeds
                        seed, seed+1, …, in one process (default 1)
      --state-dir DIR   keep each device's outbox in DIR/<id>/ (default: memory)
      --print           print every summary as the broker acknowledges it
      --quiet           print nothing but problems
      --log-level LVL   debug, info, warn (default) or error
  -h, --help            show this help

Exit codes: 0 every summary delivered, 1 runtime failure or summaries left
undelivered, 2 bad usage or config.
`;

/** Default start: a Monday midnight, so time-of-day profiles start at the beginning. */
const DEFAULT_START = "2026-01-05T00:00:00Z";

export async function simCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    config: { type: "string", short: "c" },
    duration: { type: "string", short: "d" },
    start: { type: "string" },
    seed: { type: "string" },
    speed: { type: "string" },
    record: { type: "string" },
    truth: { type: "string" },
    broker: { type: "string", short: "b" },
    devices: { type: "string" },
    "state-dir": { type: "string" },
    print: { type: "boolean" },
    quiet: { type: "boolean" },
    "log-level": { type: "string" },
  });
  if (values.help) {
    io.out(SIM_HELP);
    return EXIT.ok;
  }
  const durationS = parseDuration(values.duration ?? "24h");
  if (durationS === undefined || durationS <= 0)
    throw new UsageError(`--duration ${JSON.stringify(values.duration)} is not a duration; write e.g. 90m or 24h`);
  const startWallMs = Date.parse(values.start ?? DEFAULT_START);
  if (Number.isNaN(startWallMs))
    throw new UsageError(`--start ${JSON.stringify(values.start)} is not a time; write ISO 8601, e.g. 2026-03-02T06:00:00Z`);
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isInteger(seed)) throw new UsageError(`--seed ${JSON.stringify(values.seed)} must be a whole number`);
  }
  const devices = Number(values.devices ?? 1);
  if (!Number.isInteger(devices) || devices < 1 || devices > 100_000)
    throw new UsageError(`--devices ${JSON.stringify(values.devices)} must be a whole number from 1 to 100000`);
  if (devices > 1 && values.record) throw new UsageError("--record writes the trace of one device; drop --record or --devices");
  const speed = speedOption(values.speed);
  const level = logLevelOption(values["log-level"], "warn");

  // validated in a worker thread: zod and yaml stay out of the simulated device's heap (issue 15)
  const result: ValidationResult = values.config ? await loadConfigFileOffThread(values.config) : await loadDemoConfigOffThread();
  const source = values.config ?? "built-in demo config";
  if (!result.ok) {
    io.err(`${source}: ${result.issues.length} problem(s):\n`);
    for (const line of formatIssues(result.issues)) io.err(`${line}\n`);
    return EXIT.usage;
  }
  const loaded = result.loaded;
  if (loaded.board.io !== "sim") {
    io.err(
      `${source}: roadside sim needs a config with device.board: sim (this one runs on ${loaded.board.id}); to feed a recording from that board through its config, use roadside replay\n`,
    );
    return EXIT.usage;
  }
  const logger = cliLogger(loaded, level);
  const broker = await brokerFor(loaded, values.broker);
  const progress = progressPrinter(io, !values.quiet);
  if (!values.quiet) {
    io.out(
      `simulating ${devices === 1 ? loaded.config.device.id : `${devices} devices ${loaded.config.device.id}-0001…`} from ${new Date(startWallMs).toISOString()} for ${values.duration ?? "24h"}, seed ${seed ?? loaded.config.sim?.seed ?? 1}, speed ${speed}\n`,
    );
    io.out(
      `publishing to ${broker.url} under ${loaded.config.mqtt.prefix}/…${broker.embedded ? ` (embedded broker; watch with mosquitto_sub -h 127.0.0.1 -p ${broker.embedded.port} -t '${loaded.config.mqtt.prefix}/#' -v)` : ""}\n`,
    );
  }
  try {
    const r = await simulate({
      loaded,
      brokerUrl: broker.url,
      startWallMs,
      durationS,
      speed,
      logger,
      devices,
      version: version(),
      ...(seed !== undefined ? { seed } : {}),
      ...(values.record ? { recordPath: values.record } : {}),
      ...(values.truth ? { truthPath: values.truth } : {}),
      ...(values["state-dir"] ? { stateDir: values["state-dir"] } : {}),
      onProgress: progress.update,
      ...optional("onDelivered", deliveredPrinter(io, Boolean(values.print) && !values.quiet, devices > 1)),
    });
    progress.done();
    if (!values.quiet) {
      io.out(resultText(r));
      if (values.record) io.out(`trace: ${values.record} (${r.traceLines} lines)\n`);
      if (values.truth) io.out(`ground truth: ${values.truth} (${r.truthRecords} records)\n`);
    }
    if (r.undelivered > 0) {
      io.err(`${r.undelivered} message(s) were not delivered to ${broker.url} in time; is the broker reachable?\n`);
      return EXIT.failure;
    }
    return EXIT.ok;
  } catch (err) {
    progress.done();
    // a fault aimed at something no scenario simulates is a config problem: path: message
    if (err instanceof Error && /^sim\.faults\[\d+\]/.test(err.message)) {
      io.err(`${source}: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  } finally {
    await broker.embedded?.close();
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
