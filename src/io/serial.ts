import type { SerialPortStream } from "@serialport/stream";
import { backoffDelay } from "../clock/backoff.js";
import type { Clock, TimerHandle } from "../clock/clock.js";
import { NS_PER_MS } from "../clock/clock.js";
import type { Logger } from "../log/logger.js";
import type { SerialHandlers, SerialOpenOptions, SerialPortLink, SerialSpec } from "./contract.js";
import { IoError } from "./contract.js";
import { hardwareSerialBinding as loadHardwareBinding } from "./serial-binding.js";

/** serialport's stream, loaded when a port first opens: a device with no serial sensor never loads it. */
let streamClass: typeof SerialPortStream | undefined;

/** A node-serialport binding (the interface of @serialport/bindings-interface). */
export type SerialBinding = ConstructorParameters<typeof SerialPortStream>[0]["binding"];

/** The hardware binding (serialport's autodetected one, with the end-of-file fix): see serial-binding.ts. */
export async function hardwareSerialBinding(): Promise<SerialBinding> {
  return (await loadHardwareBinding()) as unknown as SerialBinding;
}

export interface SerialLinkOptions {
  /**
   * The serialport binding, or a loader of it: `hardwareSerialBinding` on hardware, the simulator's
   * binding in simulation. The link cannot tell them apart.
   */
  binding: SerialBinding | (() => Promise<SerialBinding>);
  /** Stamps chunks and runs the reopen backoff (so it is deterministic in virtual time). */
  clock: Clock;
  logger: Logger;
  /** Reopen backoff (src/clock/backoff.ts) after an unplug or a failed first open: first ceiling and largest, ms. Defaults 500 ms and 30 s. */
  reopenMinMs?: number;
  reopenMaxMs?: number;
  /**
   * Randomness of the backoff's jitter, [0,1). Default Math.random, so devices and sensors that lost
   * power together retry out of step; the simulator passes its seeded generator so a run replays.
   */
  random?: () => number;
  /**
   * false: wait the backoff's whole ceiling (500 ms, 1 s, 2 s … 30 s), no jitter. The simulator's
   * and the replay's links use it: a replayed trace reopens its port by this same backoff, so the
   * run and its replay must wait alike (a jittered live run and its replay read different frames).
   */
  jitter?: boolean;
  /**
   * Called when the link starts asynchronous work (a reopen) that should finish before time moves
   * on. The simulator passes its virtual clock's `yieldSoon`; on hardware it is not needed.
   */
  settle?: () => void;
}

/**
 * A serial port through node-serialport's stream over any binding. Stamps each chunk with its
 * arrival time (the binding gives no hardware stamp; serial sensors report at ≥ 100 ms periods, so
 * arrival time is accurate enough). After an unplug, an I/O error or an end of file (and, with
 * `retry`, after a failed first open) it reopens with the jittered backoff until `close()`,
 * reporting `reopening` once and `open` when it is back: the only retry layer of a port.
 */
export class SerialLink implements SerialPortLink {
  private stream: SerialPortStream | undefined;
  private spec: SerialSpec | undefined;
  private handlers: SerialHandlers | undefined;
  private binding: SerialBinding | undefined;
  private closing = false;
  private timer: TimerHandle | undefined;
  private attempt = 0;
  /** Bytes received since open. */
  bytes = 0;
  /** Times the port came back after going away. */
  reopens = 0;

  constructor(private readonly opts: SerialLinkOptions) {}

  async open(spec: SerialSpec, handlers: SerialHandlers, opts: SerialOpenOptions = {}): Promise<void> {
    if (this.stream || (this.spec && !this.closing))
      throw new IoError("EBUSY", `serial port ${spec.name} is already open`, { subject: spec.name });
    this.spec = spec;
    this.handlers = handlers;
    this.closing = false;
    this.attempt = 0;
    try {
      if (!this.binding) this.binding = typeof this.opts.binding === "function" ? await this.opts.binding() : this.opts.binding;
    } catch (err) {
      this.spec = undefined;
      this.handlers = undefined;
      throw err;
    }
    try {
      streamClass ??= (await import("@serialport/stream")).SerialPortStream;
      await this.openOnce();
    } catch (err) {
      if (opts.retry && !this.closing && err instanceof IoError && err.code !== "ECANCELED") {
        handlers.state("reopening", err);
        this.scheduleReopen();
        return;
      }
      this.spec = undefined;
      this.handlers = undefined;
      throw err;
    }
  }

  async write(data: Buffer): Promise<void> {
    const s = this.stream;
    if (!s?.isOpen) throw new IoError("ENOTOPEN", `serial port ${this.spec?.name ?? "?"} is not open`, { subject: this.spec?.name });
    await new Promise<void>((resolve, reject) => s.write(data, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    this.closing = true;
    this.handlers = undefined;
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
    const s = this.stream;
    this.stream = undefined;
    if (s?.isOpen) await new Promise<void>((resolve) => s.close(() => resolve()));
    s?.removeAllListeners();
    // a close racing with an unplug can leave an error event behind; never let it go unhandled
    s?.on("error", () => {});
    this.spec = undefined;
  }

  private openOnce(): Promise<void> {
    const spec = this.spec!;
    return new Promise((resolve, reject) => {
      const s = new streamClass!({
        binding: this.binding!,
        path: spec.path,
        baudRate: spec.baudRate,
        dataBits: spec.dataBits,
        parity: spec.parity,
        stopBits: spec.stopBits,
        autoOpen: false,
      });
      s.open((err) => {
        if (err) {
          const code = /no such file|not exist|ENOENT|cannot find/i.test(err.message)
            ? "ENOENT"
            : /lock|busy|temporarily unavailable/i.test(err.message)
              ? "EBUSY"
              : "EIO";
          const hint =
            code === "ENOENT"
              ? "; check the cable and `ls /dev/serial/by-id/`"
              : code === "EBUSY"
                ? "; another program has the port open (`fuser` shows which)"
                : /permission/i.test(err.message)
                  ? "; add the service user to the dialout group"
                  : "";
          reject(
            new IoError(code, `serial port ${spec.name}: cannot open ${spec.path}: ${err.message}${hint}`, {
              subject: spec.name,
              cause: err,
            }),
          );
          return;
        }
        if (this.closing) {
          s.close(() => {});
          reject(new IoError("ECANCELED", `serial port ${spec.name} was closed while opening`, { subject: spec.name }));
          return;
        }
        this.stream = s;
        this.attempt = 0;
        s.on("data", (chunk: Buffer) => {
          this.bytes += chunk.length;
          this.handlers?.data(chunk, this.opts.clock.monoNs());
        });
        s.on("close", (closeErr: (Error & { disconnected?: boolean }) | null) => this.lost(s, closeErr));
        // a tty whose other end went away can read as end-of-file rather than fail
        s.on("end", () => this.lost(s, new Error("end of file")));
        s.on("error", (e: Error) => this.opts.logger.warn(`serial port ${spec.name}: ${e.message}`));
        resolve();
      });
    });
  }

  private lost(s: SerialPortStream, err: (Error & { disconnected?: boolean }) | null): void {
    if (this.closing || this.stream !== s) return;
    this.stream = undefined;
    if (s.isOpen) s.close(() => {});
    s.removeAllListeners("data");
    const spec = this.spec!;
    this.handlers?.state(
      "reopening",
      new IoError(
        "UNPLUGGED",
        `serial port ${spec.name} (${spec.path}) went away${err ? `: ${err.message}` : ""}; reopening. Check the cable and the sensor's power.`,
        {
          subject: spec.name,
          disconnected: true,
        },
      ),
    );
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    const min = this.opts.reopenMinMs ?? 500;
    const max = this.opts.reopenMaxMs ?? 30_000;
    const wait =
      this.opts.jitter === false
        ? Math.min(max, min * 2 ** this.attempt++)
        : backoffDelay(this.attempt++, min, max, this.opts.random ?? Math.random);
    const clock = this.opts.clock;
    this.timer = clock.setTimer(clock.monoNs() + wait * NS_PER_MS, () => {
      this.timer = undefined;
      if (this.closing) return;
      this.opts.settle?.();
      this.openOnce().then(
        () => {
          this.reopens++;
          this.handlers?.state("open");
        },
        () => {
          if (!this.closing) this.scheduleReopen();
        },
      );
    });
  }
}
