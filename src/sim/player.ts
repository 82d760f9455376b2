import type { TimerHandle } from "../clock/clock.js";
import type { VirtualClock } from "../clock/virtual.js";
import type { LoadedConfig } from "../config/load.js";
import type { Level } from "../io/contract.js";
import { SimAds1115 } from "./ads1115.js";
import type { SimBoard } from "./io-plugin.js";
import type { SimSerialDevice } from "./serial.js";
import type { ParsedTrace, TraceLine } from "./trace.js";
import type { TraceSource } from "./trace-stream.js";
import { arraySource } from "./trace-stream.js";

export interface TracePlayerOptions {
  /** A trace read whole (parseTrace), or streamed line by line from its file (openTraceFile). */
  trace: ParsedTrace | TraceSource;
  loaded: LoadedConfig;
  clock: VirtualClock;
  /** The simulated board the device reads its inputs from. */
  board: SimBoard;
  /** The simulated serial device behind config port `name`, once the device has opened it. */
  port: (name: string) => SimSerialDevice | undefined;
  /** Monotonic ns of t = 0. */
  startNs: number;
  /** A problem worth telling the user (said once per subject). */
  warn: (message: string) => void;
}

/** ns of a trace time, on the µs grid the recorder wrote (so stamps come out exactly as recorded). */
function tNs(startNs: number, t: number): number {
  return startNs + Math.round(t * 1e6) * 1000;
}

/**
 * Plays a signal trace into the simulated hardware in virtual time: edges become pin changes on the
 * simulated board and data becomes bytes sent by simulated serial sensors, so the device reads them
 * through the same backends, drivers and parsers as live signals (DESIGN.md "Signal trace format").
 * Lines are read and scheduled one after the other, so memory grows neither with the number of
 * timers nor, for a streamed trace, with the size of the file.
 */
export class TracePlayer {
  /** Monotonic ns where the recording ended (its `end` line, else its last line). */
  readonly endNs: number;
  /** Lines applied so far. */
  applied = 0;
  /** Bytes of trace data no open port was there to send. */
  undeliveredBytes = 0;
  private readonly source: TraceSource;
  private finished = false;
  private timer: TimerHandle | undefined;
  private readonly analogTimers = new Set<TimerHandle>();
  private ahead: TraceLine | undefined;
  private readonly pins = new Map<string, { line: number; activeLow: boolean }>();
  /** Analog channels by trace name (`bin1.temperature`): the ADS1115 double and the volts last recorded. */
  private readonly analog = new Map<string, { volts: number }>();
  private readonly warned = new Set<string>();

  constructor(private readonly opts: TracePlayerOptions) {
    const { config, lines } = opts.loaded;
    for (const [name, input] of Object.entries(config.inputs)) {
      const l = lines.get(name);
      if (l) this.pins.set(name, { line: l.line, activeLow: input.activeLow });
    }
    // the config's ADS1115 channels, each answered by a register-level double holding the volts of
    // the trace's last analog line for it (0 V before the first one: a current loop reads as broken)
    const chips = new Map<number, SimAds1115>();
    const channel = (name: string, address: number, ch: number): void => {
      let chip = chips.get(address);
      if (!chip) {
        chip = new SimAds1115(opts.clock, () => opts.clock.yieldSoon());
        chips.set(address, chip);
        opts.board.attachI2c(address, chip);
      }
      const held = { volts: 0 };
      chip.setInput(ch, () => held.volts);
      this.analog.set(name, held);
    };
    for (const [name, m] of Object.entries(config.manholes))
      if (m.sensor.type === "current-loop") channel(`${name}.level`, m.sensor.adc.address, m.sensor.adc.channel);
    for (const [name, b] of Object.entries(config.bins))
      if (b.temperature) channel(`${name}.temperature`, b.temperature.adc.address, b.temperature.adc.channel);
    this.source = "lines" in opts.trace ? arraySource(opts.trace) : opts.trace;
    this.endNs = tNs(opts.startNs, this.source.endT ?? 0);
  }

  /**
   * Set every input to its level at the start of the trace, before the device opens its inputs:
   * the level of its t = 0 line, else the opposite of its first change, else inactive.
   */
  prepare(): void {
    const first = this.source.firstInputs;
    for (const [name, pin] of this.pins) {
      const f = first.get(name);
      const level: Level = f === undefined ? 0 : f.t === 0 ? f.level : ((1 - f.level) as Level);
      this.opts.board.setPin(pin.line, (level ^ (pin.activeLow ? 1 : 0)) as 0 | 1);
    }
    for (const name of first.keys())
      if (!this.pins.has(name)) this.warnOnce(name, `the trace has input ${name}, which the config does not define; its lines are skipped`);
  }

  /** Start playing from the current instant (t = 0 is `startNs`). */
  start(): void {
    this.scheduleNext();
  }

  stop(): void {
    for (const h of this.analogTimers) this.opts.clock.clearTimer(h);
    this.analogTimers.clear();
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.finished = true;
    this.source.close();
  }

  /** True when every line has been applied. */
  get done(): boolean {
    return this.finished;
  }

  /**
   * The next line for the chain. An analog line is stamped at the start of the conversion it
   * records, so its value must be in the chip just before that instant, before the device's
   * sampling timer due then (which was set long before): analog lines get timers of their own as
   * soon as they are read, and the chain reads one line ahead so that happens early enough.
   */
  private pull(): TraceLine | undefined {
    let line = this.finished ? undefined : this.source.next();
    for (let n = 0; line?.kind === "analog" && n < 64; n++) {
      const a = line;
      const h = this.opts.clock.setTimer(tNs(this.opts.startNs, a.t) - 1000, () => {
        this.analogTimers.delete(h);
        this.apply(a);
      });
      this.analogTimers.add(h);
      line = this.source.next();
    }
    return line;
  }

  private scheduleNext(): void {
    const line = this.ahead ?? this.pull();
    this.ahead = line ? this.pull() : undefined;
    if (!line) {
      this.finished = true;
      return;
    }
    let at = tNs(this.opts.startNs, line.t);
    // a port comes back just before the link's reopen attempt that found it, so that attempt succeeds
    if (line.kind === "port-state" && line.state === "open") at -= 1000;
    if (line.kind === "analog") at -= 1000;
    this.timer = this.opts.clock.setTimer(
      at,
      () => {
        this.timer = undefined;
        this.apply(line);
        this.scheduleNext();
      },
      // a wall step goes before a window boundary due at the same instant, as in the live run
      line.kind === "clock-jump" ? { priority: "wall" } : undefined,
    );
  }

  private apply(line: TraceLine): void {
    this.applied++;
    switch (line.kind) {
      case "input": {
        const pin = this.pins.get(line.input);
        if (pin) this.opts.board.setPin(pin.line, (line.level ^ (pin.activeLow ? 1 : 0)) as 0 | 1);
        return;
      }
      case "data": {
        const dev = this.opts.port(line.port);
        if (!dev) {
          this.undeliveredBytes += line.bytes.length;
          this.warnOnce(
            `port:${line.port}`,
            `the trace has data for port ${line.port}, which the device did not open; check the port's name in the config`,
          );
          return;
        }
        dev.emit(line.bytes);
        return;
      }
      case "port-state": {
        const dev = this.opts.port(line.port);
        if (!dev) return;
        if (line.state === "lost") dev.unplug();
        else dev.plug();
        return;
      }
      case "clock-jump":
        this.opts.clock.jumpWall(line.deltaMs, line.synced);
        return;
      case "analog": {
        const ch = this.analog.get(line.analog);
        if (ch) ch.volts = line.value;
        else
          this.warnOnce(
            `analog:${line.analog}`,
            `the trace has analog samples for ${line.analog}, which the config has no ADC channel for; check the sensor's name`,
          );
        return;
      }
      case "end":
        return;
    }
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.warn(msg);
  }
}
