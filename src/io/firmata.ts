import type { SerialPortStream } from "@serialport/stream";
import type { LoadedConfig } from "../config/load.js";
import { resolveSerialPath } from "../config/board-data.js";
import type { Logger } from "../log/logger.js";
import { IoError } from "./contract.js";
import type { IoPlugin } from "./io-plugin.js";
import type { SerialBinding } from "./serial.js";

/** StandardFirmata's baud rate (Firmata protocol 2.x, `Firmata.begin(57600)`). */
export const FIRMATA_BAUD = 57600;

/** The Firmata board's port from the config (`io.firmata.port`) or the board file (serial port `firmata`). */
export function firmataPort(loaded: LoadedConfig): { path: string; baudRate: number } {
  const cfg = loaded.config.io?.firmata;
  const ref = cfg?.port ?? "firmata";
  const path = resolveSerialPath(loaded.board, ref);
  if (!path)
    throw new IoError(
      "ENOENT",
      `board ${loaded.board.id} talks Firmata over a USB serial port: set io.firmata.port (e.g. /dev/ttyACM0 or /dev/serial/by-id/…)`,
    );
  return { path, baudRate: cfg?.baudRate ?? FIRMATA_BAUD };
}

export interface FirmataBoardOptions {
  path: string;
  baudRate: number;
  /** The serialport binding (hardwareSerialBinding on a real board; the simulator's bus in tests). */
  binding: SerialBinding | (() => Promise<SerialBinding>);
  logger: Logger;
  /** Ask for the version if the board has not sent it this long after the port opened. Default 5 s (boards that do not reset on open). */
  reportVersionTimeoutMs?: number;
  /** Give up if the handshake has not finished this long after the port opened. Default 15 s. */
  readyTimeoutMs?: number;
}

/**
 * A Firmata board (an Arduino running StandardFirmata) on a serial port, as a johnny-five IO plugin.
 * firmata-io speaks the protocol; the port is a serialport stream over the binding roadside chooses,
 * so the simulator can stand in for the board. `connect()` opens the port and resolves with the IO
 * plugin once the Firmata handshake (version, firmware, capabilities, analog mapping) is done.
 */
export class FirmataBoard {
  private stream: SerialPortStream | undefined;
  private plugin: IoPlugin | undefined;

  constructor(private readonly opts: FirmataBoardOptions) {}

  /** The IO plugin once connected. */
  get io(): IoPlugin | undefined {
    return this.plugin;
  }

  async connect(): Promise<IoPlugin> {
    if (this.plugin) return this.plugin;
    const { path, baudRate } = this.opts;
    const binding = typeof this.opts.binding === "function" ? await this.opts.binding() : this.opts.binding;
    const { SerialPortStream } = await import("@serialport/stream"); // with the board, not with this module
    const stream = new SerialPortStream({ binding, path, baudRate, autoOpen: false });
    const { default: firmataIo } = await import("firmata-io");
    // firmata-io must see the port open (it announces `connect` then), so it is built first
    const plugin = new firmataIo.Firmata(stream, { reportVersionTimeout: this.opts.reportVersionTimeoutMs ?? 5000 }) as unknown as IoPlugin;
    plugin.on("error", (e: Error) => this.opts.logger.warn(`Firmata board on ${path}: ${e.message}`));
    await new Promise<void>((resolve, reject) =>
      stream.open((err) =>
        err
          ? reject(
              new IoError(
                /no such file|ENOENT|cannot open/i.test(err.message) ? "ENOENT" : "EIO",
                `Firmata board on ${path}: ${err.message}; check the USB cable and \`ls /dev/serial/by-id/\``,
                { cause: err },
              ),
            )
          : resolve(),
      ),
    );
    this.stream = stream;
    // johnny-five re-announces a plugin that is already ready, but misses a `connect` it did not
    // see: hand the plugin over only once its handshake is complete
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new IoError(
            "ETIMEDOUT",
            `Firmata board on ${path}: no Firmata handshake within ${this.opts.readyTimeoutMs ?? 15_000} ms; is StandardFirmata uploaded, at ${baudRate} baud?`,
          ),
        );
        stream.close(() => {});
      }, this.opts.readyTimeoutMs ?? 15_000);
      plugin.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.plugin = plugin;
    return plugin;
  }

  async close(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    if (s?.isOpen) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
