import type { Clock } from "../clock/index.js";
import type { LoadedConfig } from "../config/load.js";
import type { Logger } from "../log/logger.js";
import type { DigitalInputs, SerialPortLink } from "./contract.js";
import { firmataPort, FirmataBoard } from "./firmata.js";
import { GpioChipInputs } from "./gpiochip.js";
import type { IoPlugin } from "./io-plugin.js";
import { JohnnyFiveInputs } from "./johnny-five.js";
import { hardwareSerialBinding, SerialLink } from "./serial.js";

/** The hardware of one device as the runtime needs it. */
export interface Hardware {
  inputs: DigitalInputs;
  /** Makes serial links over the board's serial binding. */
  serial: () => SerialPortLink;
  /** What drives the inputs from outside the device, when the board is the simulator: start it after the device. */
  site?: SiteDriver;
  /** The board's johnny-five IO plugin, when it has one (I²C devices such as an ADS1115 go through it). */
  ioPlugin?: IoPlugin;
  /** Release what the hardware holds beyond the inputs and links (a Firmata board's serial port). */
  close?: () => Promise<void>;
}

/** The simulated site as the device's owner sees it: it plays its scenarios between start and stop. */
export interface SiteDriver {
  start(): void;
  stop(): void;
}

/** Builds the hardware of a board whose backend lives outside src/io (the simulator's, src/sim/hardware.ts). */
export type HardwareBackend = (loaded: LoadedConfig, opts: { clock: Clock; logger: Logger }) => Hardware;
/** How a command gets its board's hardware: the composition root's choice, which may load a backend first. */
export type HardwareSource = (loaded: LoadedConfig, opts: { clock: Clock; logger: Logger }) => Hardware | Promise<Hardware>;

export interface HardwareOptions {
  clock: Clock;
  logger: Logger;
  /**
   * Backends the composition root (src/cli/hardware.ts) injects, so that io/ never imports the
   * simulator and a production build can run without it. Default none: a `sim` board then throws.
   */
  backends?: { sim?: HardwareBackend };
}

/** A board names a backend nobody supplied: a wiring fault in the program, not in the config. */
export class MissingBackendError extends Error {
  readonly code = "ENOBACKEND";
  constructor(
    readonly board: string,
    readonly io: string,
  ) {
    super(
      `board ${board} reads its IO through the ${io} backend, which this command was not given (pass backends.${io} to createHardware)`,
    );
    this.name = "MissingBackendError";
  }
}

/**
 * Open-free construction of the board's IO backends, chosen by the board definition's `io`
 * (boards/*.json):
 * - `gpiochip`: the Linux GPIO character device through gpiomon (Raspberry Pi 3/4/5 and other Linux
 *   boards); serial ports through serialport's autodetected binding.
 * - `johnny-five`: a Firmata board on a USB serial port (`io.firmata.port`) as a johnny-five IO
 *   plugin; edges are stamped in JavaScript (docs/hardware.md "Accuracy"). Serial sensors through
 *   serialport as above.
 * - `sim`: the simulator's IO plugin and serial bus, driven by the config's `sim` section, through
 *   the injected `backends.sim`.
 * Nothing is opened here; the device opens.
 */
export function createHardware(loaded: LoadedConfig, opts: HardwareOptions): Hardware {
  const { clock, logger } = opts;
  const serial = (): SerialPortLink => new SerialLink({ binding: hardwareSerialBinding, clock, logger });
  switch (loaded.board.io) {
    case "sim": {
      const sim = opts.backends?.sim;
      if (!sim) throw new MissingBackendError(loaded.board.id, "sim");
      return sim(loaded, { clock, logger });
    }
    case "gpiochip":
      return { inputs: new GpioChipInputs({ chipLabel: loaded.board.gpio.chipLabel, clock, logger }), serial };
    case "johnny-five": {
      const board = new FirmataBoard({ ...firmataPort(loaded), binding: hardwareSerialBinding, logger });
      return {
        inputs: new JohnnyFiveInputs({ io: () => board.connect(), clock, timestampSource: "callback" }),
        serial,
        // the plugin exists once the inputs have opened the board's port
        get ioPlugin() {
          return board.io;
        },
        close: () => board.close(),
      };
    }
  }
}
