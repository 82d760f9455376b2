import type { Clock } from "../clock/clock.js";
import type { LoadedConfig } from "../config/load.js";
import type { Logger } from "../log/logger.js";
import { createSimHardware } from "../sim/hardware.js";
import type { SimSite } from "../sim/site.js";
import type { TruthRecord } from "../sim/scenario.js";
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
  /** The simulated site, when the board is the simulator (start it after the device). */
  site?: SimSite;
  /** The board's johnny-five IO plugin, when it has one (I²C devices such as an ADS1115 go through it). */
  ioPlugin?: IoPlugin;
  /** Release what the hardware holds beyond the inputs and links (a Firmata board's serial port). */
  close?: () => Promise<void>;
}

export interface HardwareOptions {
  clock: Clock;
  logger: Logger;
  /** Simulated boards: ground truth as it happens. */
  onTruth?: (record: TruthRecord) => void;
}

/**
 * Open-free construction of the board's IO backends, chosen by the board definition's `io`
 * (boards/*.json):
 * - `gpiochip`: the Linux GPIO character device through gpiomon (Raspberry Pi 3/4/5 and other Linux
 *   boards); serial ports through serialport's autodetected binding.
 * - `johnny-five`: a Firmata board on a USB serial port (`io.firmata.port`) as a johnny-five IO
 *   plugin; edges are stamped in JavaScript (docs/hardware.md "Accuracy"). Serial sensors through
 *   serialport as above.
 * - `sim`: the simulator's IO plugin and serial bus, driven by the config's `sim` section.
 * Nothing is opened here; the device opens.
 */
export function createHardware(loaded: LoadedConfig, opts: HardwareOptions): Hardware {
  const { clock, logger } = opts;
  const serial = (): SerialPortLink => new SerialLink({ binding: hardwareSerialBinding, clock, logger });
  switch (loaded.board.io) {
    case "sim":
      return createSimHardware(loaded, { clock, logger, ...(opts.onTruth ? { onTruth: opts.onTruth } : {}) });
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
