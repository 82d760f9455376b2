import { describe, expect, it } from "vitest";
import { RealClock } from "../../src/clock/real.js";
import { VirtualClock } from "../../src/clock/virtual.js";
import { boardHardware } from "../../src/cli/hardware.js";
import { createHardware } from "../../src/io/factory.js";
import { firmataPort } from "../../src/io/firmata.js";
import { GpioChipInputs } from "../../src/io/gpiochip.js";
import { JohnnyFiveInputs } from "../../src/io/johnny-five.js";
import { SerialLink } from "../../src/io/serial.js";
import { silentLogger } from "../../src/log/logger.js";
import { mustLoad } from "../helpers/sim-device.js";

const inputs = { a: { line: 17 } };
const detectors = { lane: { loops: ["a"] } };

describe("hardware by board io", () => {
  it("sim: the simulated site, read through johnny-five with virtual stamps", async () => {
    const loaded = mustLoad({ device: { id: "s", board: "sim" }, inputs, detectors });
    // io/ does not know the simulator: the composition root injects it (src/cli/hardware.ts)
    expect(() => createHardware(loaded, { clock: new VirtualClock(), logger: silentLogger })).toThrow(
      /board sim reads its IO through the sim backend, which this command was not given/,
    );
    const hw = await boardHardware(loaded, { clock: new VirtualClock(), logger: silentLogger });
    expect(hw.site).toBeDefined();
    expect(hw.inputs).toBeInstanceOf(JohnnyFiveInputs);
    expect(hw.inputs.timestampSource).toBe("virtual");
    expect(hw.serial()).toBeInstanceOf(SerialLink);
  });

  it("gpiochip: the GPIO character device with hardware stamps, serialport's binding for serial", () => {
    const hw = createHardware(mustLoad({ device: { id: "p", board: "raspberry-pi-5" }, inputs, detectors }), {
      clock: new RealClock(),
      logger: silentLogger,
    });
    expect(hw.inputs).toBeInstanceOf(GpioChipInputs);
    expect(hw.inputs.timestampSource).toBe("hardware");
    expect(hw.site).toBeUndefined();
    expect(hw.serial()).toBeInstanceOf(SerialLink);
  });

  it("johnny-five: a Firmata board on the board file's port, or io.firmata.port; callback stamps", () => {
    const loaded = mustLoad({ device: { id: "f", board: "arduino-firmata" }, inputs: { a: { line: "D2" } }, detectors });
    expect(firmataPort(loaded)).toEqual({ path: "/dev/ttyACM0", baudRate: 57600 });
    const hw = createHardware(loaded, { clock: new RealClock(), logger: silentLogger });
    expect(hw.inputs).toBeInstanceOf(JohnnyFiveInputs);
    expect(hw.inputs.timestampSource).toBe("callback");
    expect(hw.ioPlugin).toBeUndefined(); // until the inputs open the board
    const custom = mustLoad({
      device: { id: "f", board: "arduino-firmata" },
      inputs: { a: { line: "D2" } },
      detectors,
      io: { firmata: { port: "/dev/serial/by-id/usb-Arduino_Uno-if00", baudRate: 115200 } },
    });
    expect(firmataPort(custom)).toEqual({ path: "/dev/serial/by-id/usb-Arduino_Uno-if00", baudRate: 115200 });
    const byName = mustLoad({
      device: { id: "f", board: "arduino-firmata" },
      inputs: { a: { line: "D2" } },
      detectors,
      io: { firmata: { port: "usb0" } },
    });
    expect(firmataPort(byName).path).toBe("/dev/ttyUSB0");
    const nowhere = mustLoad({
      device: { id: "f", board: "arduino-firmata" },
      inputs: { a: { line: "D2" } },
      detectors,
      io: { firmata: { port: "nowhere" } },
    });
    expect(() => firmataPort(nowhere)).toThrow(/set io.firmata.port \(e.g. \/dev\/ttyACM0/);
  });
});

describe("io section", () => {
  it("rejects io.firmata on a board that is not read through Firmata", async () => {
    const { validateConfig, formatIssues } = await import("../../src/config/load.js");
    const r = validateConfig({ device: { id: "p", board: "raspberry-pi-4" }, io: { firmata: { port: "/dev/ttyACM0" } } });
    expect(r.ok).toBe(false);
    expect(formatIssues(r.issues)).toEqual([
      "io.firmata: board raspberry-pi-4 reads its inputs through gpiochip, not a Firmata board; remove io.firmata (it is for boards like arduino-firmata)",
    ]);
  });
});
