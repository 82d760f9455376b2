import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { RealClock } from "../../src/clock/real.js";
import { VirtualClock } from "../../src/clock/virtual.js";
import type { DigitalInputSpec, Level } from "../../src/io/contract.js";
import { GpioChipInputs } from "../../src/io/gpiochip.js";
import { parseGpiodetect, parseGpiodVersion } from "../../src/io/gpiod-tools.js";
import { JohnnyFiveInputs } from "../../src/io/johnny-five.js";
import { silentLogger } from "../../src/log/logger.js";
import { FirmataBoard } from "../../src/io/firmata.js";
import { SimFirmata } from "../../src/sim/firmata-device.js";
import { SimBoard } from "../../src/sim/io-plugin.js";
import { SimSerialBus } from "../../src/sim/serial.js";
import { fakeGpiod, v1Line } from "../helpers/fake-gpiod.js";
import type { InputsRig } from "./contract.js";
import { digitalInputsContract } from "./contract.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function specsOn(lines: [number, number]): DigitalInputSpec[] {
  return [
    { name: "loop.a", line: lines[0], bias: "pull-up", activeLow: true, debounceUs: 0 },
    { name: "loop.b", line: lines[1], bias: "pull-up", activeLow: false, debounceUs: 0 },
  ];
}

/** Electrical level of input i for a logical level. */
const electrical = (specs: DigitalInputSpec[], i: number, level: Level): 0 | 1 => (level ^ (specs[i]!.activeLow ? 1 : 0)) as 0 | 1;

digitalInputsContract("johnny-five over the simulated board (virtual time)", async (): Promise<InputsRig> => {
  const clock = new VirtualClock();
  const board = new SimBoard(28);
  const specs = specsOn([17, 27]);
  return {
    inputs: new JohnnyFiveInputs({ io: board, clock, timestampSource: "virtual" }),
    specs,
    preset: async (i, level) => board.setPin(specs[i]!.line, electrical(specs, i, level)),
    drive: async (i, level) => {
      clock.advanceBy(1_000_000);
      board.setPin(specs[i]!.line, electrical(specs, i, level));
    },
    settle: () => new Promise<void>((r) => setImmediate(r)),
    disconnect: async () => board.disconnect(),
    badLine: 40,
    cleanup: async () => {},
  };
});

digitalInputsContract("johnny-five over a Firmata board (firmata-io over serialport, simulated firmware)", async (): Promise<InputsRig> => {
  const bus = new SimSerialBus();
  const dev = bus.createDevice("/dev/ttyACM0", 57600);
  const firmware = new SimFirmata(dev);
  const board = new FirmataBoard({ path: "/dev/ttyACM0", baudRate: 57600, binding: bus.binding, logger: silentLogger });
  const specs = specsOn([2, 3]);
  return {
    inputs: new JohnnyFiveInputs({ io: () => board.connect(), clock: new RealClock(), timestampSource: "callback" }),
    specs,
    preset: async (i, level) => firmware.setPin(specs[i]!.line, electrical(specs, i, level)),
    drive: async (i, level) => {
      firmware.setPin(specs[i]!.line, electrical(specs, i, level));
      await sleep(2);
    },
    settle: () => sleep(50),
    disconnect: async () => dev.unplug(),
    badLine: 40,
    cleanup: () => board.close(),
  };
});

digitalInputsContract("GPIO character device over a fake gpiomon (libgpiod v1 output)", async (): Promise<InputsRig> => {
  const fake = fakeGpiod();
  fake.setChips("gpiochip0 [gpio-brcmstb@107d508500] (32 lines)\ngpiochip4 [pinctrl-rp1] (54 lines)\n");
  const specs = specsOn([17, 27]);
  const raw: Record<number, 0 | 1> = {};
  let tNs = 5_000_000_000;
  return {
    inputs: new GpioChipInputs({
      chipLabel: "pinctrl-rp1",
      clock: new RealClock(),
      logger: silentLogger,
      commands: fake.commands,
      env: fake.env,
      startupMs: 300,
      restartMinMs: 5000,
    }),
    specs,
    preset: async (i, level) => {
      raw[specs[i]!.line] = electrical(specs, i, level);
      fake.setLevels(raw);
    },
    drive: async (i, level) => {
      tNs += 1_000_000;
      fake.feed(Math.max(1, fake.monitors()), v1Line(specs[i]!.line, electrical(specs, i, level) === 1, tNs));
    },
    settle: () => sleep(600),
    disconnect: async () => fake.feed(fake.monitors(), "!exit 1"),
    badLine: 60,
    cleanup: async () => fake.cleanup(),
  };
});

/**
 * A real GPIO chip, with two output lines wired to the two input lines (a jumper each):
 * ROADSIDE_HW_GPIOCHIP=pinctrl-rp1 ROADSIDE_HW_LINES=17,27 ROADSIDE_HW_DRIVE=22,23.
 * The inputs use their pull-ups; an output drives its input low by holding gpioset at 0 and lets it
 * go high by releasing the line, so no glitch is ever driven.
 */
function hardwareRig(): (() => Promise<InputsRig>) | undefined {
  const label = process.env["ROADSIDE_HW_GPIOCHIP"];
  const lines = process.env["ROADSIDE_HW_LINES"]?.split(",").map(Number);
  const drive = process.env["ROADSIDE_HW_DRIVE"]?.split(",").map(Number);
  if (!label || lines?.length !== 2 || drive?.length !== 2) return undefined;
  return async () => {
    const chips = parseGpiodetect(spawnSync("gpiodetect", { encoding: "utf8" }).stdout);
    const chip = chips.find((c) => c.label === label);
    if (!chip) throw new Error(`no chip labelled ${label}: ${chips.map((c) => c.label).join(", ")}`);
    const v2 = (parseGpiodVersion(spawnSync("gpioset", ["--version"], { encoding: "utf8" }).stdout)?.major ?? 1) >= 2;
    const specs = specsOn([lines[0]!, lines[1]!]);
    const holders: (ChildProcess | undefined)[] = [undefined, undefined];
    const setElectrical = async (i: number, e: 0 | 1): Promise<void> => {
      const h = holders[i];
      if (e === 1) {
        if (h) {
          h.kill("SIGTERM");
          await new Promise((r) => h.once("exit", r));
          holders[i] = undefined;
        }
      } else if (!h) {
        const out = `${drive[i]}=0`;
        holders[i] = spawn("gpioset", v2 ? ["-c", chip.name, out] : ["--mode=signal", chip.name, out], { stdio: "ignore" });
      }
      await sleep(50);
    };
    return {
      inputs: new GpioChipInputs({ chipLabel: label, clock: new RealClock(), logger: silentLogger }),
      specs,
      preset: (i, level) => setElectrical(i, electrical(specs, i, level)),
      drive: (i, level) => setElectrical(i, electrical(specs, i, level)),
      settle: () => sleep(300),
      badLine: chip.lines + 10,
      cleanup: async () => {
        for (let i = 0; i < 2; i++) await setElectrical(i, 1);
      },
    };
  };
}

digitalInputsContract(
  "GPIO character device on this board's hardware",
  hardwareRig(),
  "set ROADSIDE_HW_GPIOCHIP=<chip label> ROADSIDE_HW_LINES=<in1>,<in2> ROADSIDE_HW_DRIVE=<out1>,<out2> (outputs jumpered to inputs) to run on a Raspberry Pi",
);
