import type { Clock } from "../clock/clock.js";
import { VirtualClock } from "../clock/virtual.js";
import type { LoadedConfig } from "../config/load.js";
import type { SerialHandlers, SerialOpenOptions, SerialPortLink, SerialSpec } from "../io/contract.js";
import { IoError } from "../io/contract.js";
import type { Hardware } from "../io/factory.js";
import { JohnnyFiveInputs } from "../io/johnny-five.js";
import { hardwareSerialBinding, SerialLink } from "../io/serial.js";
import { hardwareSerialPaths } from "../config/board-data.js";
import type { Logger } from "../log/logger.js";
import { SimBoard } from "./io-plugin.js";
import { TracePlayer } from "./player.js";
import type { ScenarioFactory, TruthRecord } from "./scenario.js";
import type { SimSerialDevice } from "./serial.js";
import { SimSerialBus } from "./serial.js";
import { SimSite } from "./site.js";
import { MicrosecondStamps } from "./stamps.js";
import type { ParsedTrace } from "./trace.js";
import type { TraceSource } from "./trace-stream.js";

export interface SimHardwareOptions {
  clock: Clock;
  logger: Logger;
  /** Overrides sim.seed. */
  seed?: number;
  onTruth?: (record: TruthRecord) => void;
  scenarios?: readonly ScenarioFactory[];
}

/** Hooks that let the virtual clock wait for asynchronous serial work (a no-op on a real clock). */
function settleOf(clock: Clock): () => void {
  return clock instanceof VirtualClock ? () => clock.yieldSoon() : () => {};
}

/**
 * The simulated hardware of a `board: sim` device: the simulated site read through the same
 * backends as a Firmata board and a serial port (johnny-five inputs, serialport links). Stamps are
 * virtual and on the µs grid of traces (MicrosecondStamps).
 */
export function createSimHardware(loaded: LoadedConfig, opts: SimHardwareOptions): Hardware {
  const { clock, logger } = opts;
  const site = new SimSite(loaded, {
    clock,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.onTruth ? { onTruth: opts.onTruth } : {}),
    ...(opts.scenarios ? { scenarios: opts.scenarios } : {}),
    onWarn: (m) => logger.warn(m),
  });
  const stamps = new MicrosecondStamps(clock);
  const settle = settleOf(clock);
  const real = hardwareSerialPaths(loaded.board);
  // no jitter in the simulator's reopen backoff (SerialLinkOptions.jitter), so a simulated unplug
  // replays exactly
  const simLink = (): SerialPortLink => new SerialLink({ binding: site.serial.binding, clock: stamps, logger, settle, jitter: false });
  return {
    inputs: new JohnnyFiveInputs({ io: site.board, clock: stamps, timestampSource: "virtual" }),
    serial: () =>
      real.size === 0
        ? simLink()
        : new RoutedSerialLink(real, simLink, () => new SerialLink({ binding: hardwareSerialBinding, clock, logger })),
    site,
    ioPlugin: site.board,
  };
}

/**
 * A serial link that picks its backend when it opens: a board port marked `hardware: true` (the
 * virtual device's /dev/ttyS1) goes through the kernel's tty and serialport's native binding with
 * real-time stamps; every other path through the simulator's bus.
 */
class RoutedSerialLink implements SerialPortLink {
  private link: SerialPortLink | undefined;

  constructor(
    private readonly real: ReadonlySet<string>,
    private readonly sim: () => SerialPortLink,
    private readonly hardware: () => SerialPortLink,
  ) {}

  open(spec: SerialSpec, handlers: SerialHandlers, opts?: SerialOpenOptions): Promise<void> {
    this.link ??= this.real.has(spec.path) ? this.hardware() : this.sim();
    return this.link.open(spec, handlers, opts);
  }

  write(data: Buffer): Promise<void> {
    if (!this.link) return Promise.reject(new IoError("ENOTOPEN", "serial port is not open"));
    return this.link.write(data);
  }

  close(): Promise<void> {
    return this.link ? this.link.close() : Promise.resolve();
  }
}

export interface ReplayHardware {
  hardware: Hardware;
  player: TracePlayer;
  board: SimBoard;
  bus: SimSerialBus;
}

/**
 * Hardware that plays a trace: a simulated board and serial bus with no scenarios, whatever board
 * the config names (a technician's recording from a Raspberry Pi replays with the Pi's config).
 * A serial device appears on the bus at whatever path the device opens, named after the config
 * port, so the trace's `port` lines reach it.
 */
export function createReplayHardware(
  loaded: LoadedConfig,
  trace: ParsedTrace | TraceSource,
  opts: { clock: VirtualClock; logger: Logger; startNs?: number },
): ReplayHardware {
  const { clock, logger } = opts;
  const board = new SimBoard(Math.max(28, ...[...loaded.lines.values()].map((l) => l.line + 1)));
  const bus = new SimSerialBus(() => clock.yieldSoon());
  const byName = new Map<string, SimSerialDevice>();
  const stamps = new MicrosecondStamps(clock);
  const settle = settleOf(clock);
  const serial = (): SerialPortLink => {
    const link = new SerialLink({ binding: bus.binding, clock: stamps, logger, settle, jitter: false });
    return {
      open: (spec, handlers, opts) => {
        const dev = bus.device(spec.path) ?? bus.createDevice(spec.path, spec.baudRate);
        byName.set(spec.name, dev);
        return link.open(spec, handlers, opts);
      },
      write: (d) => link.write(d),
      close: () => link.close(),
    };
  };
  const player = new TracePlayer({
    trace,
    loaded,
    clock,
    board,
    port: (name) => byName.get(name),
    startNs: opts.startNs ?? clock.monoNs(),
    warn: (m) => logger.warn(m),
  });
  return {
    hardware: { inputs: new JohnnyFiveInputs({ io: board, clock: stamps, timestampSource: "virtual" }), serial, ioPlugin: board },
    player,
    board,
    bus,
  };
}
