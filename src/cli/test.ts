import { parseDuration } from "../config/duration.js";
import { formatIssues, loadConfigFile } from "../config/load.js";
import type { Clock } from "../clock/index.js";
import { createLogger } from "../log/logger.js";
import type { Logger } from "../log/logger.js";
import { formatMessage } from "./printer.js";
import type { Io } from "./args.js";
import { EXIT, parse, UsageError } from "./args.js";
import { dryRun } from "./dry-run.js";
import { version } from "./version.js";

export const TEST_HELP = `Usage: roadside test -c CONFIG [options]

The technician's dry run: reads the config's real inputs and sensors (on
board sim, the simulated site's) through the same pipeline as roadside run,
and prints every summary and alarm the device would publish for the windows
it sees. It publishes nothing (the MQTT link goes to no broker) and touches
no outbox (it keeps one in memory). Windows still open at the end are shown
as partial, as a stopping device publishes them. Stop the service first
(sudo systemctl stop roadside): it holds the GPIO lines and serial ports.

Options:
  -c, --config FILE     device config (default /etc/roadside/device.yaml)
      --for DURATION    how long to watch, e.g. 90s, 5m (default: the config's
                        default window, windows.default); Ctrl-C ends it early
      --real-time       on board sim, run the simulated site in real time
                        (default: accelerated virtual time, done at once)
      --json            one decoded message per line (docs/message.schema.json
                        fields: topic, kind, stream, seq, windowStart, …)
      --utc             times in UTC (default: local time)
  -h, --help            show this help

Exit codes: 0 the run finished, 1 the inputs could not be read, 2 bad usage
or the config has problems.
`;

export async function testCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    config: { type: "string", short: "c" },
    for: { type: "string" },
    "real-time": { type: "boolean" },
    json: { type: "boolean" },
    utc: { type: "boolean" },
  });
  if (values.help) {
    io.out(TEST_HELP);
    return EXIT.ok;
  }
  let seconds: number | undefined;
  if (values.for !== undefined) {
    seconds = parseDuration(values.for);
    if (seconds === undefined || seconds <= 0 || seconds > 7 * 86400)
      throw new UsageError(`--for ${JSON.stringify(values.for)} is not a duration up to 7 days; write e.g. 90s, 5m or 1h`);
  }
  const path = values.config ?? "/etc/roadside/device.yaml";
  const r = loadConfigFile(path);
  if (!r.ok) {
    io.err(`${path}: ${r.issues.length} problem${r.issues.length === 1 ? "" : "s"}:\n`);
    for (const line of formatIssues(r.issues)) io.err(`${line}\n`);
    return EXIT.usage;
  }
  const loaded = r.loaded;
  const length = seconds ?? loaded.config.windows.default;
  // warnings a technician must see (a locked-on loop, a silent sensor); the outbox's "kept for the
  // next start" is not true of a dry run's in-memory one
  const logger = (clock: Clock): Logger =>
    createLogger({
      level: "warn",
      format: "text",
      now: () => clock.wallMs(),
      write: (line) => (/stay in the outbox/.test(line) ? undefined : io.err(line)),
      priorityPrefix: false,
    });
  const time = loaded.board.io === "sim" && !values["real-time"] ? "simulated time" : "real time";
  io.err(
    `roadside test: ${loaded.config.device.id} on ${loaded.board.name}, ${length} s of ${time}; what it would publish (nothing is sent, no outbox is written):\n`,
  );
  let res: Awaited<ReturnType<typeof dryRun>>;
  try {
    res = await dryRun(loaded, {
      seconds: length,
      realTime: values["real-time"] === true,
      logger,
      version: version(),
      onMessage: (topic, msg) => {
        if (values.json) {
          io.out(
            `${JSON.stringify({ topic, kind: msg.kind, stream: msg.stream, seq: msg.seq, windowStart: new Date(msg.windowStartMs).toISOString(), windowS: msg.windowS, observedS: msg.observedS, timeq: msg.timeq, measures: msg.measures })}\n`,
          );
        } else {
          io.out(`${formatMessage(msg, { utc: values.utc === true })}\n`);
        }
      },
      progress: io.isTTY && !values.json ? (t) => io.err(`\r\x1b[K${t}`) : undefined,
    });
  } catch (err) {
    io.err(`roadside test: ${(err as Error).message}\n`);
    return EXIT.failure;
  }
  io.err(
    `${res.summaries} summar${res.summaries === 1 ? "y" : "ies"} and ${res.alarms} alarm${res.alarms === 1 ? "" : "s"} would have been published (sequence numbers here start at 1; the device continues its own)\n`,
  );
  return EXIT.ok;
}
