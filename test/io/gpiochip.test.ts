import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RealClock } from "../../src/clock/real.js";
import { VirtualClock } from "../../src/clock/virtual.js";
import type { DigitalInputHandlers, DigitalInputSpec, IoError, Level } from "../../src/io/contract.js";
import { GpioChipInputs } from "../../src/io/gpiochip.js";
import type { Logger } from "../../src/log/logger.js";
import { silentLogger } from "../../src/log/logger.js";
import type { FakeGpiod } from "../helpers/fake-gpiod.js";
import { fakeGpiod, v1Line, v2Line } from "../helpers/fake-gpiod.js";

const SPECS: DigitalInputSpec[] = [
  { name: "lane1.up", line: 17, bias: "pull-up", activeLow: true, debounceUs: 0 },
  { name: "lane1.down", line: 27, bias: "pull-up", activeLow: false, debounceUs: 0 },
];

type Call = ["edge", number, Level, number] | ["dropped", number, number] | ["fault", string] | ["restored"];

function recorder(): { calls: Call[]; handlers: DigitalInputHandlers; until(pred: (c: Call[]) => boolean, ms?: number): Promise<void> } {
  const calls: Call[] = [];
  return {
    calls,
    handlers: {
      edge: (i, l, t) => calls.push(["edge", i, l, t]),
      dropped: (i, n) => calls.push(["dropped", i, n]),
      fault: (e: IoError) => calls.push(["fault", e.code]),
      restored: () => calls.push(["restored"]),
    },
    until: async (pred, ms = 10_000) => {
      const end = Date.now() + ms;
      while (!pred(calls)) {
        if (Date.now() > end) throw new Error(`timed out; calls so far: ${JSON.stringify(calls)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

function logs(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
    child: () => logger,
  };
  return { logger, lines };
}

describe("GPIO character device backend over a fake gpiomon", () => {
  let fake: FakeGpiod;
  let inputs: GpioChipInputs | undefined;
  beforeEach(() => {
    fake = fakeGpiod();
    fake.setChips("gpiochip0 [gpio-brcmstb@107d508500] (32 lines)\ngpiochip4 [pinctrl-rp1] (54 lines)\n");
  });
  afterEach(async () => {
    await inputs?.close();
    inputs = undefined;
    fake.cleanup();
  });

  const make = (over: Partial<ConstructorParameters<typeof GpioChipInputs>[0]> = {}): GpioChipInputs =>
    (inputs = new GpioChipInputs({
      chipLabel: "pinctrl-rp1",
      clock: new RealClock(),
      logger: silentLogger,
      commands: fake.commands,
      env: fake.env,
      startupMs: 300,
      restartMinMs: 20,
      restartMaxMs: 200,
      // the top of each jittered backoff step (src/clock/backoff.ts): 20, 40, 80 ms, as the fake expects
      random: () => 0.999,
      ...over,
    }));

  it("finds the chip by label, reads initial levels with bias, and delivers kernel-stamped edges", async () => {
    fake.setLevels({ 17: 1, 27: 0 }); // pull-up idle: active-low input reads inactive
    const r = recorder();
    const gpio = make();
    await gpio.open(SPECS, r.handlers);
    expect(gpio.timestampSource).toBe("hardware");
    expect(gpio.level(0)).toBe(0);
    expect(gpio.level(1)).toBe(0);
    expect(fake.calls("gpioget")).toEqual([["-B", "pull-up", "gpiochip4", "17", "27"]]);
    expect(fake.calls("gpiomon")).toEqual([["-b", "-F", "%o %e %s %n", "-B", "pull-up", "gpiochip4", "17", "27"]]);
    fake.feed(
      1,
      v1Line(17, false, 5_000_000_123),
      v1Line(27, true, 5_240_000_000),
      v1Line(17, true, 5_252_000_000),
      v1Line(27, false, 5_492_000_007),
    );
    await r.until((c) => c.length === 4);
    expect(r.calls).toEqual([
      ["edge", 0, 1, 5_000_000_123],
      ["edge", 1, 1, 5_240_000_000],
      ["edge", 0, 0, 5_252_000_000],
      ["edge", 1, 0, 5_492_000_007],
    ]);
    expect(gpio.level(0)).toBe(0);
  });

  it("speaks libgpiod v2: chip by -c, banner, debounce, v2 event format", async () => {
    fake.setVersion("gpiomon (libgpiod) v2.1.3");
    fake.setLevels({ 17: 1 });
    const r = recorder();
    const gpio = make({ startupMs: 5000 }); // v2 must not wait for the v1 settle time: the banner says it is up
    await gpio.open([{ ...SPECS[0]!, debounceUs: 250 }], r.handlers);
    expect(fake.calls("gpiomon")[0]).toEqual([
      "--banner",
      "-c",
      "gpiochip4",
      "-C",
      "roadside",
      "-F",
      "%o %e %S",
      "-b",
      "pull-up",
      "-p",
      "250us",
      "17",
    ]);
    fake.feed(1, v2Line(17, false, 12_000_250_000), v2Line(17, true, 12_252_250_000));
    await r.until((c) => c.length === 2);
    expect(r.calls).toEqual([
      ["edge", 0, 1, 12_000_250_000],
      ["edge", 0, 0, 12_252_250_000],
    ]);
  });

  it("names the fix when the chip label is not there", async () => {
    const gpio = make({ chipLabel: "pinctrl-bcm2711" });
    await expect(gpio.open(SPECS, recorder().handlers)).rejects.toMatchObject({
      code: "ENODEV",
      message: expect.stringMatching(
        /no GPIO chip labelled pinctrl-bcm2711 \(found: gpiochip0 \[gpio-brcmstb@107d508500\], gpiochip4 \[pinctrl-rp1\]\); check gpio.chipLabel/,
      ),
    });
    expect(fake.monitors()).toBe(0);
  });

  it("says to install gpiod when gpiomon is missing", async () => {
    const gpio = make({ commands: { ...fake.commands, gpiomon: `${fake.dir}/nope/gpiomon` } });
    await expect(gpio.open(SPECS, recorder().handlers)).rejects.toMatchObject({
      code: "ENOENT",
      message: expect.stringContaining("sudo apt install gpiod"),
    });
  });

  it("rejects a line the chip does not have, naming the input, and starts nothing", async () => {
    const gpio = make();
    await expect(gpio.open([{ ...SPECS[0]!, line: 60 }], recorder().handlers)).rejects.toMatchObject({
      code: "BAD_LINE",
      subject: "lane1.up",
    });
    expect(fake.monitors()).toBe(0);
    // the bank can be opened again after a failed open
    await gpio.open(SPECS, recorder().handlers);
  });

  it("reports a busy line from gpioget and from gpiomon with a hint", async () => {
    fake.failGpioget("unable to request lines: Device or resource busy");
    const gpio = make();
    await expect(gpio.open(SPECS, recorder().handlers)).rejects.toMatchObject({
      code: "EBUSY",
      message: expect.stringContaining("gpioinfo"),
    });
    fake.failGpioget(undefined);
    fake.failGpiomon("error requesting GPIO lines: Device or resource busy");
    // the fake is a node script: give it time to start and fail (a real gpiomon fails in a few ms)
    const slow = make({ startupMs: 3000 });
    await expect(slow.open(SPECS, recorder().handlers)).rejects.toMatchObject({
      code: "EBUSY",
      message: expect.stringContaining("lane1.up, lane1.down"),
    });
  });

  it("counts garbage, survives it, and reports two same-direction edges as a dropped edge", async () => {
    const { logger, lines } = logs();
    const r = recorder();
    const gpio = make({ logger });
    await gpio.open(SPECS, r.handlers);
    fake.feed(
      1,
      "gpiomon: something odd",
      "\u0000\u00ff\u0013 17",
      v1Line(27, true, 1_000),
      "!raw 27 0 0",
      " 2000",
      v1Line(99, true, 1),
      v1Line(27, false, 3_000),
      v1Line(27, false, 4_000),
    );
    await r.until((c) => c.length === 4);
    expect(r.calls).toEqual([
      ["edge", 1, 1, 1_000],
      ["edge", 1, 0, 2_000],
      ["dropped", 1, 1],
      ["dropped", 1, 1],
    ]);
    expect(gpio.badLines).toBe(3);
    expect(gpio.droppedEdges).toBe(2);
    expect(lines.filter((l) => l.includes("not an edge"))).toHaveLength(1); // logged once, not per line
  });

  it("survives gpiomon exiting: one fault, restart with backoff, levels re-read, restored", async () => {
    fake.setLevels({ 17: 1, 27: 0 });
    const r = recorder();
    const gpio = make();
    await gpio.open(SPECS, r.handlers);
    fake.feed(1, v1Line(27, true, 1_000));
    await r.until((c) => c.length === 1);
    // while gpiomon is down, lane1.up went active (raw 0) and lane1.down fell
    fake.setLevels({ 17: 0, 27: 0 });
    fake.failGpiomon("unable to request lines: Device or resource busy"); // the first restarts fail
    fake.feed(1, "!stderr gpiomon: error waiting for events: No such device", "!exit 1");
    await r.until((c) => c.some((x) => x[0] === "fault"));
    await fake.waitForMonitors(3); // two failed restarts
    fake.failGpiomon(undefined);
    await r.until((c) => c.some((x) => x[0] === "restored"));
    const after = r.calls.slice(1);
    expect(after.filter((c) => c[0] === "fault")).toEqual([["fault", "HELPER_EXIT"]]);
    const edges = after.filter((c) => c[0] === "edge" || c[0] === "dropped").map((c) => c.slice(0, 3));
    expect(edges).toEqual(
      expect.arrayContaining([
        ["dropped", 0, 1],
        ["edge", 0, 1],
        ["dropped", 1, 1],
        ["edge", 1, 0],
      ]),
    );
    expect(after.at(-1)).toEqual(["restored"]);
    expect(gpio.restarts).toBe(1);
    // events flow from the new gpiomon
    const n = fake.monitors();
    const before = r.calls.length;
    fake.feed(n, v1Line(17, true, 9_000_000_000)); // raw high = inactive for this active-low input
    await r.until((c) => c.length === before + 1);
    expect(r.calls.at(-1)).toEqual(["edge", 0, 0, 9_000_000_000]);
  });

  it("maps wall-clock stamps of old kernels onto the monotonic clock, with one warning", async () => {
    const { logger, lines } = logs();
    const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 0, 5, 7, 0, 0) });
    const r = recorder();
    const gpio = make({ clock, logger });
    await gpio.open(SPECS, r.handlers);
    const wallS = Date.UTC(2026, 0, 5, 7, 0, 10) / 1000;
    fake.feed(1, `27 1 ${wallS} 250000000`, `27 0 ${wallS + 1} 0`);
    await r.until((c) => c.length === 2);
    expect(r.calls[0]![3]).toBeCloseTo(10.25e9, -3);
    expect(r.calls[1]![3]).toBeCloseTo(11e9, -3);
    expect(lines.filter((l) => l.includes("CLOCK_REALTIME"))).toHaveLength(1);
  });

  it("close terminates gpiomon and no handler runs afterwards; close twice is safe", async () => {
    const r = recorder();
    const gpio = make();
    await gpio.open(SPECS, r.handlers);
    await gpio.close();
    expect(fake.terminated(1)).toBe(true);
    fake.feed(1, v1Line(27, true, 1));
    await new Promise((res) => setTimeout(res, 100));
    expect(r.calls).toEqual([]);
    await gpio.close();
    expect(fake.monitors()).toBe(1); // no restart after a deliberate close
  });

  it("warns that libgpiod v1 cannot debounce in the kernel", async () => {
    const { logger, lines } = logs();
    const gpio = make({ logger });
    await gpio.open([{ ...SPECS[0]!, debounceUs: 500 }], recorder().handlers);
    expect(lines.some((l) => l.startsWith("warn input lane1.up: kernel debounce needs libgpiod v2"))).toBe(true);
  });
});
