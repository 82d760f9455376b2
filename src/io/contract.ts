/**
 * The hardware contract. Every board IO backend (Linux GPIO character device, johnny-five IO
 * plugins, serialport, the simulator) implements these interfaces, and the doc comments here are
 * the specification: a backend that behaves otherwise is wrong, whatever its tests say.
 *
 * Design rules:
 * - Per-edge and per-chunk calls carry primitives (index, level, ns) so the hot path allocates nothing.
 * - Time is monotonic nanoseconds from the device `Clock` (see src/clock/clock.ts). A backend that
 *   can stamp at the hardware (the kernel's edge timestamp) must; one that cannot stamps on arrival
 *   and says so in `timestampSource`.
 * - Backends never throw from callbacks into the caller; failures arrive as `fault` calls.
 */

/** A digital level as seen at the board pin after `activeLow` inversion: 1 = active (e.g. vehicle present). */
export type Level = 0 | 1;

/** Electrical bias applied to an input line. */
export type Bias = "pull-up" | "pull-down" | "disable" | "as-is";

/** One digital input to open. */
export interface DigitalInputSpec {
  /** Config name of the input, e.g. `lane1.up`. Used in logs and traces only. */
  readonly name: string;
  /** Line offset on the GPIO chip (BCM number on a Raspberry Pi), or the pin of a johnny-five IO plugin. */
  readonly line: number;
  /** Pull-up / pull-down. Backends that cannot set bias must accept `as-is` and reject anything else at `open`. */
  readonly bias: Bias;
  /** Invert the electrical level: opto-isolated detector outputs usually pull the line low for "vehicle". */
  readonly activeLow: boolean;
  /** Hardware debounce in microseconds, where the backend supports it (0 = off). Software filtering is done by drivers regardless. */
  readonly debounceUs: number;
}

/** Where edge timestamps come from: the accuracy a driver can assume (DOMAIN.md §1 "Timing accuracy"). */
export type TimestampSource =
  /** Stamped by the kernel in the interrupt handler (GPIO character device): µs-accurate or better. */
  | "hardware"
  /** Stamped when the JavaScript callback ran (johnny-five IO plugins): ms-accurate at best, jittery under load. */
  | "callback"
  /** Virtual time of a simulator or a replayed trace: exact. */
  | "virtual";

/** Receives everything a `DigitalInputs` backend observes. Indexes refer to the `specs` array given to `open`. */
export interface DigitalInputHandlers {
  /**
   * A level change on input `index` at monotonic time `tNs`. Edges of one input arrive in time order
   * and alternate in level; edges of different inputs may interleave out of order by at most the
   * backend's delivery latency.
   */
  edge(index: number, level: Level, tNs: number): void;
  /**
   * Edges were lost (kernel event buffer overflow, a helper restart). `index` is -1 when the backend
   * cannot tell which input. After a drop the backend reports the input's current level as an edge
   * if it differs from the last one delivered, so levels stay consistent. `count` is a lower bound:
   * a backend that detects losses from the levels (two edges of one direction in a row, as the GPIO
   * character device backend must, since gpiomon prints no sequence numbers) cannot see a lost pair.
   */
  dropped(index: number, count: number, tNs: number): void;
  /**
   * The backend lost its source (helper process exited, device unplugged). It keeps trying to
   * recover on its own, with backoff, and calls `restored` when events flow again. `fault` is called
   * once per outage, not per retry.
   */
  fault(error: IoError): void;
  /** Events flow again after a `fault`. */
  restored(): void;
}

/** A bank of digital inputs on one board, opened together (one gpiomon process, one IO plugin). */
export interface DigitalInputs {
  /** How accurate edge stamps are. */
  readonly timestampSource: TimestampSource;
  /**
   * Open all lines and start delivering edges to `handlers`. Resolves once every line is
   * configured and its initial level read (available from `level`); the initial level is not an
   * edge. Rejects with an `IoError` naming the line (`subject`) if any line cannot be opened (code
   * `BAD_LINE` for a line the board lacks); then nothing is left open and `open` may be called
   * again. Calling `open` twice without `close` rejects with `EBUSY`.
   */
  open(specs: readonly DigitalInputSpec[], handlers: DigitalInputHandlers): Promise<void>;
  /** Last known level of input `index` (after `activeLow` inversion). */
  level(index: number): Level;
  /**
   * Stop delivery and release every line. No handler is called after the promise resolves. Safe to
   * call twice, and on a bank that failed to open.
   */
  close(): Promise<void>;
}

/** Serial line settings. */
export interface SerialSpec {
  /** Config name of the port, e.g. `manhole1`. */
  readonly name: string;
  /** Device path, e.g. `/dev/ttyAMA0`, `/dev/serial/by-id/...`, or a simulator path. */
  readonly path: string;
  readonly baudRate: number;
  readonly dataBits: 5 | 6 | 7 | 8;
  readonly parity: "none" | "even" | "odd";
  readonly stopBits: 1 | 2;
}

export type SerialState = "open" | "closed" | "reopening";

/** Receives everything a `SerialPortLink` observes. */
export interface SerialHandlers {
  /**
   * Bytes received, stamped with the monotonic arrival time of the chunk. The Buffer is owned by the
   * receiver from this call on; the backend never reuses it. Chunks have no framing: a frame may span
   * chunks and a chunk may hold many frames.
   */
  data(chunk: Buffer, tNs: number): void;
  /**
   * The port closed unexpectedly (unplugged, I/O error): the backend reopens it with exponential
   * backoff on its own and calls `state("open")` when it is back. Called once per transition.
   */
  state(state: SerialState, error?: IoError): void;
}

/** How `SerialPortLink.open` treats a port that cannot be opened yet. */
export interface SerialOpenOptions {
  /**
   * Keep trying: when the first open fails (no device at the path yet, busy, an I/O error), `open`
   * resolves all the same, reports `state("reopening", error)` and retries with the backoff it uses
   * after an unplug, then reports `state("open")`. So a port has one retry layer, the link's, for
   * a sensor missing at start and one unplugged later alike. Default false: the first failure rejects.
   */
  retry?: boolean;
}

/** One serial port. */
export interface SerialPortLink {
  /**
   * Open the port. Resolves when open; rejects with an `IoError` (code `ENOENT` for a missing path)
   * if the first open fails, unless `opts.retry` (see SerialOpenOptions). Implementations that cannot
   * retry may ignore `opts` and reject.
   */
  open(spec: SerialSpec, handlers: SerialHandlers, opts?: SerialOpenOptions): Promise<void>;
  /** Write bytes (e.g. a ranging trigger). Rejects if the port is not open. */
  write(data: Buffer): Promise<void>;
  /** Close and stop reopening. No handler is called after the promise resolves. Safe to call twice. */
  close(): Promise<void>;
}

/** Why an IO operation failed. Fields are for code; the message is for a technician. */
export class IoError extends Error {
  /**
   * Short machine code: `ENOENT` (no such port, tool not installed), `ENODEV` (GPIO chip not found),
   * `EBUSY` (already open, or held by another program), `EACCES`, `BAD_LINE`, `EINVAL` (a bias the
   * board cannot set), `ENOTOPEN` (write on a closed port), `ETIMEDOUT` (a board that never got
   * ready), `HELPER_EXIT` (gpiomon died), `UNPLUGGED` (a port or board went away), `ECANCELED`
   * (closed while opening), `EIO` (anything else).
   */
  readonly code: string;
  /** The input or port name concerned, if any. */
  readonly subject: string | undefined;
  /** True when the source disappeared (unplug, helper death) rather than refusing an operation. */
  readonly disconnected: boolean;

  constructor(code: string, message: string, opts: { subject?: string; disconnected?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "IoError";
    this.code = code;
    this.subject = opts.subject;
    this.disconnected = opts.disconnected ?? false;
  }
}
