import { readFileSync } from "node:fs";
import type { TrafficAggregator } from "../aggregate/traffic.js";
import type { Clock } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import { RealClock } from "../clock/real.js";
import { VirtualClock } from "../clock/virtual.js";
import { hardwareSerialPaths } from "../config/boards.js";
import { parseDuration } from "../config/duration.js";
import type { LoadedConfig } from "../config/load.js";
import { formatIssues, loadConfigFile } from "../config/load.js";
import type { DigitalInputSpec } from "../io/contract.js";
import { boardHardware } from "./hardware.js";
import type { Hardware } from "../io/factory.js";
import { silentLogger } from "../log/logger.js";
import { laneAggregator } from "../features/traffic.js";
import type { Level } from "../io/contract.js";
import { LoopDriver } from "../sensors/loop.js";
import { knownSpeedLatency } from "../sensors/trap-latency.js";
import { parseTrace } from "../sim/trace.js";
import type { Io } from "./args.js";
import { EXIT, parse, UsageError } from "./args.js";

export const CALIBRATE_HELP = `Usage: roadside calibrate --config FILE --speed KMH [--trace FILE] [--detector NAME]
                          [--passes N] [--for DURATION]

Known-speed calibration of a speed trap whose loops sit on different cards (or
channels) with different response latencies. Drive a test vehicle over the trap
at a steady speed measured independently (radar gun, GPS), 3–10 times. Live, on
the device (stop the service first: the inputs are opened here):

  roadside calibrate --config device.yaml --speed 60 --passes 5

or from a trace recorded during the drive:

  roadside run --config device.yaml --record drive.jsonl
  roadside calibrate --config device.yaml --speed 60 --trace drive.jsonl

The passes within ±30 % of the known speed are the test vehicle's; the latency
difference is the median over them of the measured transit minus spacing / speed.
Prints the inputs.*.latencyMs line to put in the config. The error left is the
error of the reference speed (1 km/h at 60 km/h: 1.7 %) plus about 0.1 %.

Options:
  --config FILE     the device config (spacing, loops, latencies already set)
  --speed KMH       the test vehicle's speed, km/h
  --trace FILE      a signal trace recorded during the drive (run --record);
                    without it, the board's inputs are read live
  --passes N        live: stop after N passes of the test vehicle (default 5)
  --for DURATION    live: give up after this long (default 10m)
  --detector NAME   the speed trap (default: the config's only one)
  -h, --help        show this help

Exit codes: 0 calibrated, 1 no pass of the test vehicle found, 2 bad usage or config.
`;

export async function calibrateCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    config: { type: "string" },
    speed: { type: "string" },
    trace: { type: "string" },
    detector: { type: "string" },
    passes: { type: "string" },
    for: { type: "string" },
  });
  if (values.help) {
    io.out(CALIBRATE_HELP);
    return EXIT.ok;
  }
  if (!values.config) throw new UsageError("--config is required: the device config of the trap, e.g. --config /etc/roadside/device.yaml");
  const kmh = Number(values.speed);
  if (!values.speed || !(kmh >= 10 && kmh <= 190))
    throw new UsageError("--speed must be the test vehicle's speed in km/h, 10–190, e.g. --speed 60");
  const wanted = values.passes === undefined ? 5 : Number(values.passes);
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > 100)
    throw new UsageError("--passes must be a whole number of test-vehicle passes, 1–100, e.g. --passes 5");
  const forS = values.for === undefined ? 600 : (parseDuration(values.for) ?? Number.NaN);
  if (!(forS > 0)) throw new UsageError("--for must be a duration such as 10m or 600s");
  const r = loadConfigFile(values.config);
  if (!r.ok) {
    io.err(`${values.config}: ${r.issues.length} problem(s):\n`);
    for (const line of formatIssues(r.issues)) io.err(`${line}\n`);
    return EXIT.usage;
  }
  const { config } = r.loaded;
  const traps = Object.entries(config.detectors).filter(([, d]) => d.loops.length === 2 && d.mode === "presence");
  const name = values.detector ?? (traps.length === 1 ? traps[0]![0] : undefined);
  if (name === undefined)
    throw new UsageError(
      traps.length === 0
        ? `${values.config} has no speed trap (a detector with two loops in presence mode)`
        : `name the trap with --detector: ${traps.map(([n]) => n).join(", ")}`,
    );
  const det = config.detectors[name];
  if (det?.loops.length !== 2 || det.mode !== "presence")
    throw new UsageError(`--detector ${name}: not a speed trap of ${values.config}; traps: ${traps.map(([n]) => n).join(", ") || "none"}`);
  const [up, down] = det.loops as [string, string];
  const latency = [config.inputs[up]!.latencyMs, config.inputs[down]!.latencyMs];
  const known = kmh / 3.6;
  const speeds: number[] = [];
  const agg = laneAggregator(
    name,
    { ...det, calibration: "report" },
    {
      sink: () => {},
      onPassage: (_t, v) => {
        if (!Number.isNaN(v)) speeds.push(v);
      },
    },
  );
  const glitch = det.loops.map((input) => config.inputs[input]!.glitchMs);
  const isPass = (v: number): boolean => Math.abs(v - known) <= 0.3 * known;

  if (values.trace) {
    const failed = replayTrace(values.trace, { loops: det.loops, glitch, latency, agg }, io);
    if (failed !== undefined) return failed;
  } else {
    const failed = await watchTrap(r.loaded, {
      glitch,
      latency,
      agg,
      loops: det.loops,
      forS,
      enough: () => speeds.filter(isPass).length >= wanted,
      io,
    });
    if (failed !== undefined) return failed;
  }

  const passes = speeds.filter(isPass);
  if (passes.length === 0) {
    io.err(
      `${values.trace ?? "live"}: no vehicle crossed ${name} within ±30 % of ${kmh} km/h (${speeds.length} measured${speeds.length ? `: ${speeds.map((v) => (v * 3.6).toFixed(1)).join(", ")} km/h` : ""}); check --speed and that the trace covers the drive\n`,
    );
    return EXIT.failure;
  }
  const k = knownSpeedLatency(passes, known, det.spacingM);
  const d = k.deltaMs;
  io.out(
    `${name}: ${k.n} pass(es) of the test vehicle at ${kmh} km/h measured ${passes.map((v) => (v * 3.6).toFixed(2)).join(", ")} km/h\n`,
  );
  io.out(
    `the downstream loop (${down}) reads ${d.toFixed(2)} ms ${d >= 0 ? "later" : "earlier"} than the upstream one (${up}) after the configured latencies (spread over passes ${k.spreadMs.toFixed(2)} ms)\n`,
  );
  if (k.n < 3) io.out(`only ${k.n} pass(es): drive at least 3 to see a disturbed pass\n`);
  const newDown = latency[1]! + d;
  const fix = newDown >= 0 ? `inputs.${down}.latencyMs: ${round2(newDown)}` : `inputs.${up}.latencyMs: ${round2(latency[0]! - d)}`;
  io.out(`set in the config:\n  ${fix}\n`);
  return EXIT.ok;
}

/**
 * Read the trap's two loops live through the board's backend (as `roadside run` and `doctor` do)
 * until `enough()` or `forS` seconds; on the simulated board in virtual time. Returns an exit code
 * when the inputs cannot be opened.
 */
async function watchTrap(
  loaded: LoadedConfig,
  o: { glitch: number[]; latency: number[]; agg: TrafficAggregator; loops: readonly string[]; forS: number; enough: () => boolean; io: Io },
): Promise<number | undefined> {
  const virtual = loaded.board.io === "sim" && hardwareSerialPaths(loaded.board).size === 0;
  const clock: Clock = virtual ? new VirtualClock({ startWallMs: Date.now() }) : new RealClock();
  const specs: DigitalInputSpec[] = o.loops.map((name) => {
    const input = loaded.config.inputs[name]!;
    return { name, line: loaded.lines.get(name)!.line, bias: input.bias, activeLow: input.activeLow, debounceUs: input.debounceUs };
  });
  let hw: Hardware;
  try {
    hw = await boardHardware(loaded, { clock, logger: silentLogger });
  } catch (err) {
    o.io.err(`cannot open the board's inputs: ${(err as Error).message}\n`);
    return EXIT.failure;
  }
  hw.site?.start();
  let driver: LoopDriver | undefined;
  try {
    await hw.inputs.open(specs, {
      edge: (i, level, tNs) => driver?.edge(i, level, tNs),
      dropped: (i, n) => driver?.dropped(i, n),
      fault: () => {},
      restored: () => {},
    });
  } catch (err) {
    hw.site?.stop();
    o.io.err(`cannot open ${o.loops.join(" and ")}: ${(err as Error).message}; is roadside already running (systemctl stop roadside)?\n`);
    return EXIT.failure;
  }
  const levels = specs.map((_, i) => hw.inputs.level(i));
  driver = new LoopDriver(o.glitch, levels, o.agg, o.latency);
  o.agg.attach(driver);
  o.agg.start(clock.monoNs(), levels);
  const endNs = clock.monoNs() + o.forS * NS_PER_S;
  if (o.io.isTTY) o.io.out(`drive the test vehicle over the trap; waiting up to ${Math.round(o.forS)} s\n`);
  while (clock.monoNs() < endNs && !o.enough()) {
    if (clock instanceof VirtualClock) await clock.runUntil(Math.min(endNs, clock.monoNs() + NS_PER_S), { yieldEvery: 500 });
    else await new Promise((r) => setTimeout(r, 200));
    o.agg.tick(clock.monoNs());
  }
  o.agg.end(clock.monoNs());
  hw.site?.stop();
  await hw.inputs.close();
  await hw.close?.();
  return undefined;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Feeds a recorded trace's edges on the trap's loops through the drivers; an exit code if the trace cannot be used. */
function replayTrace(
  path: string,
  trap: { loops: readonly string[]; glitch: number[]; latency: number[]; agg: ReturnType<typeof laneAggregator> },
  io: Io,
): number | undefined {
  const { loops, glitch, latency, agg } = trap;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.err(`cannot read ${path}: ${code === "ENOENT" ? "no such file; check the path" : (err as Error).message}\n`);
    return EXIT.usage;
  }
  const trace = parseTrace(text);
  if (trace.lines.length === 0 && trace.issues.length > 0) {
    io.err(`${path}: ${trace.issues[0]}\n`);
    return EXIT.usage;
  }
  const levels: Level[] = loops.map((input) => {
    const first = trace.lines.find((l) => l.kind === "input" && l.input === input);
    return first && first.kind === "input" ? (first.t === 0 ? first.level : ((1 - first.level) as Level)) : 0;
  });
  const driver = new LoopDriver(glitch, levels, agg, latency);
  agg.attach(driver);
  agg.start(0, levels);
  let lastNs = 0;
  for (const l of trace.lines) {
    if (l.kind !== "input" || l.t === 0) continue;
    const k = loops.indexOf(l.input);
    if (k < 0) continue;
    lastNs = Math.round(l.t * 1e6) * 1e3;
    driver.edge(k, l.level, lastNs);
  }
  agg.end(lastNs);
  return undefined;
}
