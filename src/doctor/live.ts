import type { Clock, TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import { RealClock } from "../clock/real.js";
import { VirtualClock } from "../clock/virtual.js";
import type { BoardLine } from "../config/boards.js";
import { hardwareSerialPaths, resolveSerialPath } from "../config/boards.js";
import { formatPath } from "../config/issues.js";
import type { LoadedConfig } from "../config/load.js";
import type { DigitalInputSpec, Level, SerialPortLink, SerialSpec } from "../io/contract.js";
import type { Hardware, HardwareSource } from "../io/factory.js";
import { silentLogger } from "../log/logger.js";
import { probeRequest } from "./probes.js";

export interface InputStat {
  name: string;
  line: BoardLine;
  activeLow: boolean;
  /** Level at the end of the watch (1 = active, e.g. a vehicle on the loop). */
  level: Level;
  edges: number;
  /** Edges to active: vehicles, on a presence or pulse card. */
  rising: number;
  /** Seconds from the last edge to the end of the watch. */
  lastEdgeAgoS: number | undefined;
  /** The detector that uses it, if any. */
  usedBy: string | undefined;
  /**
   * Longest continuous activation seen, s, counting one still held at the end of the watch (and
   * one already held when the watch began): what tells a stuck card from traffic.
   */
  longestActiveS: number;
}

export interface PortStat {
  /** Config path of the sensor owning the port, e.g. `manholes.m1`. */
  name: string;
  configPath: (string | number)[];
  spec: SerialSpec;
  error?: string;
  bytes: number;
  /** The first bytes received (up to 64 kB), for frame checks; always empty on identifier ports. */
  data: Buffer;
  /**
   * The port carries identifiers (probe scanner, RFID reader): doctor counts its bytes and zeroes
   * them at once, never keeping one (DESIGN.md "Privacy boundary": raw identifiers exist only
   * between the parser and the privacy gate).
   */
  identifiers: boolean;
}

export interface LiveReport {
  seconds: number;
  /** `virtual`: the simulated site ran in accelerated virtual time. */
  time: "real" | "virtual";
  /** Why the inputs could not be opened, if they could not. */
  inputsError?: string;
  /** IoError code of that failure (EBUSY, ENOTSUP, …) when the backend gave one. */
  inputsErrorCode?: string;
  inputs: InputStat[];
  ports: PortStat[];
}

export interface LiveOptions {
  seconds: number;
  realTime: boolean;
  progress: (text: string) => void;
  /** The board's IO backends, chosen by the composition root (src/cli/hardware.ts). */
  hardware: HardwareSource;
}

const KEEP_BYTES = 65_536;

/** Serial port settings anywhere in the config: every object with a `path` and a `baudRate`. */
export function findSerialPorts(
  config: unknown,
  path: (string | number)[] = [],
): { configPath: (string | number)[]; port: { path: string; baudRate: number; dataBits?: number; parity?: string; stopBits?: number } }[] {
  if (config === null || typeof config !== "object") return [];
  const o = config as Record<string, unknown>;
  if (typeof o["path"] === "string" && typeof o["baudRate"] === "number") {
    return [{ configPath: path, port: o as { path: string; baudRate: number } }];
  }
  return Object.entries(o).flatMap(([k, v]) => findSerialPorts(v, [...path, Array.isArray(o) ? Number(k) : k]));
}

/**
 * Open the device's inputs and serial ports through the same hardware backends `roadside run`
 * uses (given by the CLI), watch them for `seconds`, and close them. On the simulated board the simulated site drives
 * them, in virtual time unless `realTime`.
 */
export async function watchLive(loaded: LoadedConfig, opts: LiveOptions): Promise<LiveReport> {
  const { board } = loaded;
  // a simulated board with a real tty (the virtual device) must be watched in real time: its bytes come from outside
  const virtual = board.io === "sim" && !opts.realTime && hardwareSerialPaths(board).size === 0;
  const clock: Clock = virtual ? new VirtualClock({ startWallMs: Date.now() }) : new RealClock();
  const report: LiveReport = { seconds: opts.seconds, time: virtual ? "virtual" : "real", inputs: [], ports: [] };
  const specs = inputSpecs(loaded, report);
  const times = new InputTimes(specs.length);

  let hw: Hardware;
  try {
    hw = await opts.hardware(loaded, { clock, logger: silentLogger });
  } catch (err) {
    report.inputsError = (err as Error).message;
    report.inputsErrorCode = (err as { code?: string }).code;
    return report;
  }
  // the simulated cards set their idle levels on start: before the inputs read their first levels
  hw.site?.start();
  const inputsOpen = specs.length > 0 && (await openInputs(hw, specs, report, times, clock));
  const ports = await openPorts(hw, loaded, report, clock);

  await watchFor(clock, opts, report, virtual);
  opts.progress("");
  hw.site?.stop();
  const endedNs = clock.monoNs();
  report.inputs.forEach((s, i) => {
    s.level = inputsOpen ? hw.inputs.level(i) : 0;
    if (s.level === 1) times.held(i, endedNs);
    s.longestActiveS = times.longestNs[i]! / NS_PER_S;
    s.lastEdgeAgoS = times.lastNs[i]! >= 0 ? (clock.monoNs() - times.lastNs[i]!) / NS_PER_S : undefined;
  });
  for (const t of ports.pollTimers.values()) clock.clearTimer(t);
  for (const link of ports.links) await link.close();
  if (inputsOpen) await hw.inputs.close();
  return report;
}

/** The configured inputs the board has, as specs to open; adds their (empty) stats to the report. */
function inputSpecs(loaded: LoadedConfig, report: LiveReport): DigitalInputSpec[] {
  const { config, lines } = loaded;
  const usedBy = new Map<string, string>();
  for (const [det, d] of Object.entries(config.detectors)) for (const i of d.loops) usedBy.set(i, det);
  const specs: DigitalInputSpec[] = [];
  for (const [name, input] of Object.entries(config.inputs)) {
    const line = lines.get(name);
    if (!line) continue;
    specs.push({ name, line: line.line, bias: input.bias, activeLow: input.activeLow, debounceUs: input.debounceUs });
    report.inputs.push({
      name,
      line,
      activeLow: input.activeLow,
      level: 0,
      edges: 0,
      rising: 0,
      lastEdgeAgoS: undefined,
      usedBy: usedBy.get(name),
      longestActiveS: 0,
    });
  }
  return specs;
}

/** Per input: the last edge, when the current activation began, and the longest activation, ns. */
class InputTimes {
  readonly lastNs: Float64Array;
  /** When the current activation began (-1: idle). */
  readonly activeSinceNs: Float64Array;
  readonly longestNs: Float64Array;

  constructor(n: number) {
    this.lastNs = new Float64Array(n).fill(-1);
    this.activeSinceNs = new Float64Array(n).fill(-1);
    this.longestNs = new Float64Array(n);
  }

  /** Input `i` is (still) active at `tNs`: an activation in progress counts up to there. */
  held(i: number, tNs: number): void {
    if (this.activeSinceNs[i]! >= 0) this.longestNs[i] = Math.max(this.longestNs[i]!, tNs - this.activeSinceNs[i]!);
  }
}

/** Opens the inputs, counting edges into the report; false (the error in the report) if they would not open. */
async function openInputs(hw: Hardware, specs: DigitalInputSpec[], report: LiveReport, times: InputTimes, clock: Clock): Promise<boolean> {
  const { lastNs, activeSinceNs, longestNs } = times;
  try {
    await hw.inputs.open(specs, {
      edge: (i, level, tNs) => {
        const s = report.inputs[i]!;
        s.edges++;
        if (level === 1) {
          s.rising++;
          if (activeSinceNs[i]! < 0) activeSinceNs[i] = tNs;
        } else if (activeSinceNs[i]! >= 0) {
          longestNs[i] = Math.max(longestNs[i]!, tNs - activeSinceNs[i]!);
          activeSinceNs[i] = -1;
        }
        lastNs[i] = tNs;
      },
      dropped: () => {},
      fault: (err) => {
        report.inputsError ??= err.message;
      },
      restored: () => {},
    });
  } catch (err) {
    report.inputsError = (err as Error).message;
    report.inputsErrorCode = (err as { code?: string }).code;
    return false;
  }
  const openedNs = clock.monoNs();
  specs.forEach((_, i) => {
    if (hw.inputs.level(i) === 1 && activeSinceNs[i]! < 0) activeSinceNs[i] = openedNs;
  });
  return true;
}

/**
 * Opens every serial port the config names, keeping the first bytes of each (identifier ports:
 * counted and zeroed), and polls the sensors that answer only when asked.
 */
async function openPorts(
  hw: Hardware,
  loaded: LoadedConfig,
  report: LiveReport,
  clock: Clock,
): Promise<{ links: SerialPortLink[]; pollTimers: Map<SerialPortLink, TimerHandle> }> {
  const { config, board } = loaded;
  const links: SerialPortLink[] = [];
  const polled = new Map<string, { stats: PortStat[]; requests: Buffer[] }>();
  /** The pending poll timer of each polled line. */
  const pollTimers = new Map<SerialPortLink, TimerHandle>();
  /** Polled sensors (Modbus) answer only when asked: send each its poll in turn, one a second, as the device does. */
  const pollLine = (link: SerialPortLink, requests: Buffer[]): void => {
    let k = 0;
    const tick = (): void => {
      const r = requests[k++ % requests.length];
      if (r) link.write(r).catch(() => {});
      pollTimers.set(link, clock.setTimer(clock.monoNs() + NS_PER_S / Math.max(1, requests.length), tick));
    };
    pollTimers.set(link, clock.setTimer(clock.monoNs() + NS_PER_S / 10, tick));
  };
  for (const { configPath, port } of findSerialPorts(config)) {
    const owner = configPath.slice(0, -1);
    const name = formatPath(owner.length > 0 ? owner : configPath);
    const spec: SerialSpec = {
      name,
      path: resolveSerialPath(board, port.path) ?? port.path,
      baudRate: port.baudRate,
      dataBits: (port.dataBits ?? 8) as SerialSpec["dataBits"],
      parity: (port.parity ?? "none") as SerialSpec["parity"],
      stopBits: (port.stopBits ?? 1) as SerialSpec["stopBits"],
    };
    const stat: PortStat = { name, configPath, spec, bytes: 0, data: Buffer.alloc(0), identifiers: configPath[0] === "identifiers" };
    report.ports.push(stat);
    const request = probeRequest(configPath, config);
    // sensors on one RS-485 line share its link: each hears everything and picks its own answers
    const shared = request ? polled.get(spec.path) : undefined;
    if (shared) {
      shared.stats.push(stat);
      shared.requests.push(request!);
      continue;
    }
    const line = { stats: [stat], requests: request ? [request] : [] };
    if (request) polled.set(spec.path, line);
    const link = hw.serial();
    try {
      await link.open(spec, {
        data: (chunk) => {
          for (const st of line.stats) {
            st.bytes += chunk.length;
            if (st.identifiers) chunk.fill(0);
            else if (st.data.length < KEEP_BYTES) st.data = Buffer.concat([st.data, chunk]).subarray(0, KEEP_BYTES);
          }
        },
        state: (s, err) => {
          if (s !== "open" && err) for (const st of line.stats) st.error ??= err.message;
        },
      });
      links.push(link);
      if (request) pollLine(link, line.requests);
    } catch (err) {
      for (const st of line.stats) st.error = (err as Error).message;
    }
  }
  return { links, pollTimers };
}

/** Lets `seconds` pass (virtual time runs as fast as it can), showing a countdown and the edge counts. */
async function watchFor(clock: Clock, opts: LiveOptions, report: LiveReport, virtual: boolean): Promise<void> {
  const startNs = clock.monoNs();
  const endNs = startNs + opts.seconds * NS_PER_S;
  const show = (): void => {
    const left = Math.max(0, Math.ceil((endNs - clock.monoNs()) / NS_PER_S));
    const counts = report.inputs.map((s) => `${s.name} ${s.edges}`).join("  ");
    opts.progress(`watching the wiring: ${left} s left${virtual ? " (simulated, accelerated)" : ""}  ${counts}`);
  };
  if (clock instanceof VirtualClock) {
    let n = 0;
    await clock.runUntil(endNs, {
      yieldEvery: 500,
      onYield: () =>
        new Promise<void>((r) =>
          setImmediate(() => {
            if (++n % 50 === 0) show();
            r();
          }),
        ),
    });
  } else {
    while (clock.monoNs() < endNs) {
      show();
      await new Promise((r) => setTimeout(r, Math.min(250, (endNs - clock.monoNs()) / 1e6)));
    }
  }
}
