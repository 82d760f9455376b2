import type { Clock } from "../clock/clock.js";
import { NS_PER_MS } from "../clock/clock.js";
import { RealClock } from "../clock/real.js";
import type { DigitalInputHandlers, DigitalInputs, DigitalInputSpec, Level, TimestampSource } from "./contract.js";
import { IoError } from "./contract.js";
import type { IoPlugin } from "./io-plugin.js";

export interface JohnnyFiveInputsOptions {
  /**
   * Any johnny-five IO plugin instance (Firmata over USB serial, an expander, the simulator), or a
   * function that connects one (a Firmata board's serial port is opened by `open`, not before).
   */
  io: IoPlugin | (() => Promise<IoPlugin>);
  clock: Clock;
  /**
   * What the stamps mean. With a real plugin the stamp is taken when johnny-five's callback runs, so
   * `callback` (the default): ms-accurate at best and jittery under load, so speed traps belong on
   * the GPIO character device. The simulator passes `virtual`, because its callbacks run at the
   * exact virtual instant of the edge.
   */
  timestampSource?: TimestampSource;
  /** Give up waiting for the plugin's `ready` event after this long. Default 10 s. */
  readyTimeoutMs?: number;
  /**
   * How long `open` waits for each pin's first report, which is its initial level (Firmata reports a
   * port as soon as reporting is enabled; until then a pin reads 0). Default 1 s; pins that have not
   * reported by then keep the value the plugin shows.
   */
  initialReportMs?: number;
  /**
   * Real time, for the wait on the board's first reports: a USB board answers in real time even when
   * `clock` is virtual. Default a RealClock.
   */
  realClock?: Clock;
}

/**
 * Digital inputs through johnny-five: johnny-five's `new Board({ io })`, then `pinMode` + `digitalRead` per
 * line. IO plugins report a pin on every change (Firmata: on every port report), so repeated equal
 * values are filtered here and only level changes become edges.
 *
 * Accuracy: edge times are taken when the JavaScript callback runs, after the board sampled the pin
 * (StandardFirmata polls every 19 ms by default), sent it over USB serial and Node's event loop got
 * to it: expect 1–20 ms of delay and jitter, more under load. Fine for counts and occupancy, not for
 * speed traps (δv/v ≈ δt/Δt: 10 ms over a 6 m trap at 90 km/h is 4 %); use the GPIO character device
 * for those (DOMAIN.md §1 "Timing accuracy").
 *
 * When the plugin reports its transport closed (a Firmata board unplugged), `fault` is called once.
 * Recovery needs the service restarted (systemd does so when the board is back, see docs/hardware.md).
 */
export class JohnnyFiveInputs implements DigitalInputs {
  readonly timestampSource: TimestampSource;
  private readonly clock: Clock;
  private readonly readyTimeoutMs: number;
  private levels: Level[] = [];
  private opened = false;
  private closed = false;
  private faulted = false;
  /** Per input: its first report (the initial level) has arrived. */
  private reported: boolean[] = [];

  constructor(private readonly opts: JohnnyFiveInputsOptions) {
    this.clock = opts.clock;
    this.timestampSource = opts.timestampSource ?? "callback";
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  }

  async open(specs: readonly DigitalInputSpec[], handlers: DigitalInputHandlers): Promise<void> {
    if (this.opened) throw new IoError("EBUSY", "johnny-five inputs are already open: call close() first");
    this.opened = true;
    this.closed = false;
    this.faulted = false;
    try {
      const io = typeof this.opts.io === "function" ? await this.opts.io() : this.opts.io;
      await this.boardReady(io, handlers);
      this.configure(io, specs, handlers);
      await this.initialReports(io, specs);
    } catch (err) {
      this.opened = false;
      this.closed = true;
      throw err;
    }
  }

  level(index: number): Level {
    return this.levels[index] ?? 0;
  }

  async close(): Promise<void> {
    // IO plugins have no "stop reading": the callbacks stay registered and are ignored from now on.
    this.closed = true;
    this.opened = false;
  }

  /** Check every pin first, so a bad one rejects before any is configured. */
  private configure(io: IoPlugin, specs: readonly DigitalInputSpec[], handlers: DigitalInputHandlers): void {
    const inputMode = io.MODES["INPUT"] ?? 0;
    const pullupMode = io.MODES["PULLUP"];
    const modes = specs.map((spec) => {
      const pin = io.pins[spec.line];
      if (!pin) {
        throw new IoError("BAD_LINE", `input ${spec.name}: pin ${spec.line} does not exist on ${io.name} (it has ${io.pins.length} pins)`, {
          subject: spec.name,
        });
      }
      if (spec.bias === "pull-up") {
        if (pullupMode === undefined || !pin.supportedModes.includes(pullupMode)) {
          throw new IoError(
            "EINVAL",
            `input ${spec.name}: ${io.name} cannot pull pin ${spec.line} up; set bias: as-is and fit an external pull-up resistor`,
            { subject: spec.name },
          );
        }
        return pullupMode;
      }
      if (spec.bias === "pull-down") {
        throw new IoError(
          "EINVAL",
          `input ${spec.name}: johnny-five IO plugins cannot pull pins down; set bias: as-is and fit an external pull-down resistor`,
          { subject: spec.name },
        );
      }
      return inputMode;
    });
    this.levels = specs.map(() => 0 as Level);
    this.reported = specs.map(() => false);
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]!;
      io.pinMode(spec.line, modes[i]!);
      const invert = spec.activeLow ? 1 : 0;
      this.levels[i] = ((io.pins[spec.line]!.value ? 1 : 0) ^ invert) as Level;
      const index = i;
      io.digitalRead(spec.line, (value: number) => {
        if (this.closed) return;
        const level = ((value ? 1 : 0) ^ invert) as Level;
        if (!this.reported[index]) {
          // the first report is the initial level, not an edge
          this.reported[index] = true;
          this.levels[index] = level;
          return;
        }
        if (level === this.levels[index]) return;
        this.levels[index] = level;
        handlers.edge(index, level, this.clock.monoNs());
      });
    }
  }

  private async initialReports(io: IoPlugin, specs: readonly DigitalInputSpec[]): Promise<void> {
    const clock = this.opts.realClock ?? new RealClock();
    const end = clock.monoNs() + (this.opts.initialReportMs ?? 1000) * NS_PER_MS;
    await new Promise((r) => setImmediate(r));
    while (this.reported.some((r) => !r) && clock.monoNs() < end)
      await new Promise<void>((r) => clock.setTimer(clock.monoNs() + 2 * NS_PER_MS, r));
    // pins that never reported: take the plugin's value; their next report is a change
    specs.forEach((spec, i) => {
      if (this.reported[i]) return;
      this.reported[i] = true;
      this.levels[i] = ((io.pins[spec.line]!.value ? 1 : 0) ^ (spec.activeLow ? 1 : 0)) as Level;
    });
  }

  private async boardReady(io: IoPlugin, handlers: DigitalInputHandlers): Promise<void> {
    // imported when a board opens, not with this module: a Pi reading the GPIO character device
    // never needs johnny-five (issue 15). Only its Board: the package's index loads every component
    // class (servos, LCDs, motors…), 3.1 MB of heap against 1.4 MB for lib/board.js
    const { default: Board } = await import("johnny-five/lib/board.js");
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(
          new IoError(
            "ETIMEDOUT",
            `${io.name}: no "ready" from the IO plugin within ${this.readyTimeoutMs} ms; check the board's USB cable and firmware (StandardFirmata)`,
          ),
        );
      }, this.readyTimeoutMs);
      const board = new Board({ io, repl: false, debug: false, sigint: false });
      board.once("ready", () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve();
      });
      // johnny-five re-emits the plugin's close/disconnect/error on the board: always listen, or an
      // unplugged Firmata board would crash the process with an unhandled "error"
      const lost = (what: string) => (err?: unknown) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(new IoError("EIO", `${io.name}: ${err instanceof Error ? err.message : what}`, { cause: err }));
          return;
        }
        if (this.closed || this.faulted || what === "error") return;
        this.faulted = true;
        handlers.fault(
          new IoError(
            "UNPLUGGED",
            `${io.name} ${what}: digital inputs are lost until the board is back and roadside restarts; check the USB cable`,
            { disconnected: true, cause: err },
          ),
        );
      };
      board.on("error", lost("error"));
      board.on("close", lost("closed its connection"));
      board.on("disconnect", lost("disconnected"));
    });
  }
}
