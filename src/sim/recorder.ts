import type { Clock } from "../clock/clock.js";
import type {
  DigitalInputHandlers,
  DigitalInputSpec,
  DigitalInputs,
  Level,
  SerialHandlers,
  SerialOpenOptions,
  SerialPortLink,
  SerialSpec,
  TimestampSource,
} from "../io/contract.js";
import { JsonlFile } from "./jsonl.js";
import { serialDeviceKey } from "../config/serial-device.js";
import { analogLine, clockJumpLine, dataLine, endLine, headerLine, inputLine, portStateLine } from "./trace.js";

export interface TraceRecorderOptions {
  path: string;
  clock: Clock;
  note?: string;
  /**
   * Lines are held this long and written in time order. Default 10 s: an analog sample is stamped
   * when its conversion started but delivered when the chip answered, which in a simulation at full
   * speed can be seconds of virtual time later. On hardware, serial chunks are stamped on arrival and
   * edges in the kernel, so `run --record` holds them 1 s to sort out the interleaving.
   */
  reorderMs?: number;
  /**
   * Serial ports never recorded: those that carry identifiers (probe scanners, RFID readers), by
   * config name or by the device their path resolves to (`identifierPortNames`, `serialDeviceKey`).
   * Their bytes are MAC addresses and card numbers; a trace is a file that leaves the device.
   */
  neverRecord?: ReadonlySet<string>;
}

interface Pending {
  us: number;
  text: string;
}

/**
 * Records what a device's inputs and serial ports delivered as a signal trace (docs/traces.md).
 * It sits between the hardware and the device: `inputs()` and `serial()` wrap the board's backends,
 * so it sees exactly what the drivers see, whatever the board. Initial levels are written at t = 0,
 * wall-clock jumps and serial port losses as extension lines. Nothing is written per edge: lines
 * are batched (JsonlFile).
 */
export class TraceRecorder {
  private readonly file: JsonlFile;
  private startNs = 0;
  private readonly reorderUs: number;
  private pending: Pending[] = [];
  private maxUs = 0;
  private unJump: (() => void) | undefined;
  private started = false;
  /** While > 0 (inputs opening), lines are held so the t = 0 levels can go first. */
  private hold = 0;

  constructor(private readonly opts: TraceRecorderOptions) {
    this.file = new JsonlFile(opts.path);
    this.reorderUs = (opts.reorderMs ?? 10_000) * 1000;
  }

  /** Lines written (header included). */
  get lines(): number {
    return this.file.lines;
  }

  /** Open the file and write the header; t = 0 is now. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const clock = this.opts.clock;
    this.startNs = clock.monoNs();
    this.file.open();
    const start = new Date(Math.round(clock.toWallMs(this.startNs))).toISOString();
    this.file.write(
      headerLine({ trace: 1, start, ...(this.opts.note ? { note: this.opts.note } : {}), ...(clock.synced ? {} : { synced: false }) }),
    );
    this.unJump = clock.onJump((deltaMs, atNs) => this.add(this.us(atNs), clockJumpLine(this.us(atNs), deltaMs, clock.synced)));
  }

  /** Write `{"end":true}` at the current time, flush and close. Safe to call twice. */
  close(): void {
    if (!this.started) return;
    this.unJump?.();
    const us = this.us(this.opts.clock.monoNs());
    this.add(us, endLine(us));
    this.drain(Infinity);
    this.started = false;
    this.file.close();
  }

  /** Wrap a board's digital inputs: every edge delivered is also recorded, and the levels at open are written at t = 0. */
  inputs(inner: DigitalInputs): DigitalInputs {
    let specs: readonly DigitalInputSpec[] = [];
    let opening = false;
    let firstDuringOpen: (Level | undefined)[] = [];
    return {
      get timestampSource(): TimestampSource {
        return inner.timestampSource;
      },
      open: async (s, handlers: DigitalInputHandlers) => {
        specs = s;
        opening = true;
        firstDuringOpen = s.map(() => undefined);
        this.hold++;
        try {
          await inner.open(s, {
            ...handlers,
            edge: (index, level, tNs) => {
              if (opening && firstDuringOpen[index] === undefined) firstDuringOpen[index] = level;
              this.add(this.us(tNs), inputLine(this.us(tNs), specs[index]!.name, level));
              handlers.edge(index, level, tNs);
            },
          });
          // the level before any edge delivered while opening, so the replay sees those edges too
          specs.forEach((spec, i) => {
            const first = firstDuringOpen[i];
            const level = first === undefined ? inner.level(i) : ((1 - first) as Level);
            this.add(0, inputLine(0, spec.name, level));
          });
        } finally {
          opening = false;
          this.hold--;
          this.drain(this.maxUs - this.reorderUs);
        }
      },
      level: (i) => inner.level(i),
      close: () => inner.close(),
    };
  }

  /** An analog sample the device read (`SENSOR.QUANTITY`, volts at the converter's input). */
  analog(name: string, volts: number, tNs: number): void {
    if (!Number.isFinite(volts)) return;
    const us = this.us(tNs);
    this.add(us, analogLine(us, name, volts));
  }

  /** Wrap a serial link factory: every chunk received is recorded, and the port's losses. */
  serial(factory: () => SerialPortLink): () => SerialPortLink {
    return () => {
      const link = factory();
      return {
        open: (spec: SerialSpec, handlers: SerialHandlers, opts?: SerialOpenOptions) =>
          this.opts.neverRecord?.has(spec.name) || this.opts.neverRecord?.has(serialDeviceKey(undefined, spec.path))
            ? link.open(spec, handlers, opts)
            : link.open(
                spec,
                {
                  data: (chunk, tNs) => {
                    this.add(this.us(tNs), dataLine(this.us(tNs), spec.name, chunk));
                    handlers.data(chunk, tNs);
                  },
                  state: (state, err) => {
                    const us = this.us(this.opts.clock.monoNs());
                    if (state === "reopening") this.add(us, portStateLine(us, spec.name, "lost"));
                    else if (state === "open") this.add(us, portStateLine(us, spec.name, "open"));
                    handlers.state(state, err);
                  },
                },
                opts,
              ),
        write: (data) => link.write(data),
        close: () => link.close(),
      };
    };
  }

  private us(tNs: number): number {
    return Math.max(0, Math.round((tNs - this.startNs) / 1000));
  }

  private add(us: number, text: string): void {
    if (!this.started) return;
    if (this.hold === 0 && this.reorderUs === 0 && this.pending.length === 0 && us >= this.maxUs) {
      this.maxUs = us;
      this.file.write(text);
      return;
    }
    // insert after every line with t ≤ us (stable), usually at the end
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1]!.us > us) i--;
    this.pending.splice(i, 0, { us, text });
    if (us > this.maxUs) this.maxUs = us;
    if (this.hold === 0) this.drain(this.maxUs - this.reorderUs);
  }

  private drain(untilUs: number): void {
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.us <= untilUs) this.file.write(this.pending[n++]!.text);
    if (n > 0) this.pending.splice(0, n);
  }
}
