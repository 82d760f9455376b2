import { formatIssues } from "../config/issue-format.js";
import { loadConfigFileOffThread } from "../config/load-off-thread.js";
import { replay } from "../sim/session.js";
import type { OpenedTrace } from "../sim/trace-stream.js";
import { openTraceFile, TraceError } from "../sim/trace-stream.js";
import type { Io } from "./args.js";
import { EXIT, parse, UsageError } from "./args.js";
import { brokerFor, cliLogger, deliveredPrinter, logLevelOption, progressPrinter, resultText, speedOption } from "./sim-common.js";
import { version } from "./version.js";

export const REPLAY_HELP = `Usage: roadside replay TRACE --config FILE [options]

Feed a recorded signal trace (docs/traces.md; from \`roadside sim --record\`
or \`roadside run --record\`) through a device config's full pipeline in
virtual time, exactly as the signals arrived live, publish the summaries, and
exit once the broker has acknowledged every one. The config may name any
board: its inputs and serial ports are played from the trace.

Options:
  -c, --config FILE     device config to replay through (required)
  -b, --broker URL      broker URL (default mqtt.url; none: an embedded broker)
      --speed S         max (default), or a multiple of real time, e.g. 1
      --state-dir DIR   keep the outbox in DIR/<id>/ (default: memory)
      --print           print every summary as the broker acknowledges it
      --quiet           print nothing but problems
      --log-level LVL   debug, info, warn (default) or error
  -h, --help            show this help

Exit codes: 0 every summary delivered, 1 runtime failure or summaries left
undelivered, 2 bad usage, config or trace.
`;

export async function replayCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      config: { type: "string", short: "c" },
      broker: { type: "string", short: "b" },
      speed: { type: "string" },
      "state-dir": { type: "string" },
      print: { type: "boolean" },
      quiet: { type: "boolean" },
      "log-level": { type: "string" },
    },
    true,
  );
  if (values.help) {
    io.out(REPLAY_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError("name one trace file, e.g. roadside replay trace.jsonl --config device.yaml");
  if (!values.config) throw new UsageError("--config is required: the device config the trace is replayed through");
  const speed = speedOption(values.speed);
  const level = logLevelOption(values["log-level"], "warn");
  const tracePath = positionals[0]!;

  const result = await loadConfigFileOffThread(values.config);
  if (!result.ok) {
    io.err(`${values.config}: ${result.issues.length} problem(s):\n`);
    for (const line of formatIssues(result.issues)) io.err(`${line}\n`);
    return EXIT.usage;
  }
  const loaded = result.loaded;
  // streamed: a trace larger than the device's memory replays (docs/traces.md "Replay")
  let opened: OpenedTrace;
  try {
    opened = openTraceFile(tracePath, { maxIssues: 20 });
  } catch (err) {
    if (!(err instanceof TraceError)) throw err;
    io.err(`${err.message.startsWith("cannot read") ? "" : `${tracePath}: `}${err.message}\n`);
    return EXIT.usage;
  }
  const trace = opened.source;
  if (trace.lineCount === 0 && opened.issueCount > 0) {
    io.err(`${tracePath}: ${opened.issues[0]}\n`);
    trace.close();
    return EXIT.usage;
  }
  for (const issue of opened.issues) io.err(`${tracePath}: ${issue}\n`);
  if (opened.issueCount > opened.issues.length)
    io.err(`${tracePath}: … and ${opened.issueCount - opened.issues.length} more problem(s); those lines are skipped\n`);

  const logger = cliLogger(loaded, level);
  const broker = await brokerFor(loaded, values.broker).catch((err: unknown) => {
    trace.close();
    throw err;
  });
  const progress = progressPrinter(io, !values.quiet);
  if (!values.quiet)
    io.out(
      `replaying ${tracePath} (${trace.lineCount} lines from ${trace.header.start}) through ${loaded.config.device.id}; publishing to ${broker.url}\n`,
    );
  try {
    const printer = deliveredPrinter(io, Boolean(values.print) && !values.quiet, false);
    const r = await replay({
      loaded,
      trace,
      brokerUrl: broker.url,
      speed,
      logger,
      version: version(),
      ...(values["state-dir"] ? { stateDir: values["state-dir"] } : {}),
      onProgress: progress.update,
      ...(printer ? { onDelivered: printer } : {}),
    });
    progress.done();
    if (!values.quiet) io.out(resultText(r));
    if (r.undelivered > 0) {
      io.err(`${r.undelivered} message(s) were not delivered to ${broker.url} in time; is the broker reachable?\n`);
      return EXIT.failure;
    }
    return EXIT.ok;
  } finally {
    progress.done();
    trace.close();
    await broker.embedded?.close();
  }
}
