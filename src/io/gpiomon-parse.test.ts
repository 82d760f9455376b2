import { describe, expect, it } from "vitest";
import { Rng } from "../sim/rng.js";
import type { GpiomonEvent } from "./gpiomon-parse.js";
import { LineSplitter, parseGpiomonLine } from "./gpiomon-parse.js";
import { gpiogetArgs, gpiomonArgs, groupLines, parseGpiodetect, parseGpiodVersion, parseGpioget } from "./gpiod-tools.js";

const ev = (): GpiomonEvent => ({ offset: -1, rising: false, sec: -1, nsec: -1 });

describe("gpiomon line parser", () => {
  it("reads libgpiod v1's default human format (DOMAIN.md §5)", () => {
    const e = ev();
    expect(parseGpiomonLine("event:  RISING EDGE offset: 17 timestamp: [    1234.567890123]", e)).toBe("event");
    expect(e).toEqual({ offset: 17, rising: true, sec: 1234, nsec: 567890123 });
    expect(parseGpiomonLine("event: FALLING EDGE offset: 4 timestamp: [       5.000000042]", e)).toBe("event");
    expect(e).toEqual({ offset: 4, rising: false, sec: 5, nsec: 42 });
  });

  it("reads the v1 machine format, whose nanoseconds are not zero-padded", () => {
    const e = ev();
    expect(parseGpiomonLine("17 1 1234 567890123", e)).toBe("event");
    expect(e).toEqual({ offset: 17, rising: true, sec: 1234, nsec: 567890123 });
    expect(parseGpiomonLine("27 0 1234 5", e)).toBe("event");
    expect(e).toEqual({ offset: 27, rising: false, sec: 1234, nsec: 5 });
  });

  it("reads the v2 machine format (falling = 2, seconds with nine decimals)", () => {
    const e = ev();
    expect(parseGpiomonLine("22 2 98765.000250000", e)).toBe("event");
    expect(e).toEqual({ offset: 22, rising: false, sec: 98765, nsec: 250000 });
    expect(parseGpiomonLine("22 1 98765.5", e)).toBe("event");
    expect(e.nsec).toBe(500_000_000);
  });

  it("recognises the v2 banner and blank lines", () => {
    expect(parseGpiomonLine("Monitoring lines '17' and '27'...", ev())).toBe("banner");
    expect(parseGpiomonLine("", ev())).toBe("blank");
    expect(parseGpiomonLine("   \r", ev())).toBe("blank");
  });

  it.each([
    "17 3 1234 5",
    "17 1 1234",
    "17 1 1234 5 extra",
    "17 1 -4 5",
    "17 1 1234 1000000000",
    "x17 1 1234 5",
    "event:  SIDEWAYS EDGE offset: 17 timestamp: [ 1.0]",
    "gpiomon: error waiting for events: Bad file descriptor",
    "99999999 1 1 1",
    "17 1 1234.1234567891",
  ])("calls %j garbage and leaves the event untouched", (line) => {
    const e = ev();
    expect(parseGpiomonLine(line, e)).toBe("garbage");
    expect(e.offset).toBe(-1);
  });

  it("never throws on random bytes (seed 7)", () => {
    const rng = new Rng(7);
    const e = ev();
    let events = 0;
    const valid = ["17 1 1234 567890123", "22 2 98765.000250000", "event:  RISING EDGE offset: 17 timestamp: [    1234.567890123]"];
    for (let i = 0; i < 20_000; i++) {
      let s = "";
      if (rng.chance(0.5)) {
        // a valid line with one byte changed, or cut short
        const v = rng.pick(valid);
        const at = rng.int(0, v.length - 1);
        s = rng.chance(0.5) ? v.slice(0, at) + String.fromCharCode(rng.int(0, 255)) + v.slice(at + 1) : v.slice(0, at);
      } else {
        const n = rng.int(0, 40);
        for (let k = 0; k < n; k++) s += String.fromCharCode(rng.pick([rng.int(0, 255), 0x20, 0x30 + rng.int(0, 9), 0x2e]));
      }
      const kind = parseGpiomonLine(s, e);
      expect(["event", "banner", "blank", "garbage"]).toContain(kind);
      if (kind === "event") {
        events++;
        expect(e.nsec).toBeLessThan(1e9);
        expect(Number.isInteger(e.sec)).toBe(true);
      }
    }
    expect(events).toBeGreaterThan(0); // the generator does produce valid-looking lines too
  });
});

describe("line splitter", () => {
  it("joins lines split across chunks and keeps order", () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.push(Buffer.from("17 1 1 2\n27 0"));
    s.push(Buffer.from(" 3 4\n\n22 1 5 6"));
    expect(lines).toEqual(["17 1 1 2", "27 0 3 4", ""]);
    s.flush();
    expect(lines.at(-1)).toBe("22 1 5 6");
  });

  it("discards an endless line instead of growing (bounded memory)", () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l), 64);
    for (let i = 0; i < 100; i++) s.push(Buffer.alloc(50, 0x41));
    s.push(Buffer.from("AAAA\n17 1 1 2\n"));
    expect(lines).toEqual(["17 1 1 2"]);
    expect(s.overlong).toBe(1);
  });
});

describe("gpiod tool output and arguments", () => {
  const v1 = parseGpiodVersion("gpiomon (libgpiod) v1.6.3\nCopyright (C) 2017-2018 Bartosz Golaszewski")!;
  const v2 = parseGpiodVersion("gpiomon (libgpiod) v2.1.3")!;

  it("reads versions, chips and levels of both major versions", () => {
    expect(v1).toMatchObject({ major: 1, minor: 6 });
    expect(v2).toMatchObject({ major: 2, minor: 1 });
    expect(parseGpiodVersion("gpiomon 1.0")).toBeUndefined();
    expect(parseGpiodetect("gpiochip0 [pinctrl-rp1] (54 lines)\ngpiochip10 [gpio-brcmstb@107d508500] (32 lines)\n")).toEqual([
      { name: "gpiochip0", label: "pinctrl-rp1", lines: 54 },
      { name: "gpiochip10", label: "gpio-brcmstb@107d508500", lines: 32 },
    ]);
    expect(parseGpioget("1 0\n", 2)).toEqual([1, 0]);
    expect(parseGpioget('"17"=active "27"=inactive\n', 2)).toEqual([1, 0]);
    expect(parseGpioget("1\n", 2)).toBeUndefined();
    expect(parseGpioget("high low", 2)).toBeUndefined();
  });

  const specs = [
    { name: "a", line: 17, bias: "pull-up", activeLow: true, debounceUs: 0 },
    { name: "b", line: 27, bias: "pull-up", activeLow: false, debounceUs: 500 },
    { name: "c", line: 22, bias: "disable", activeLow: true, debounceUs: 0 },
  ] as const;

  it("groups lines by bias (and debounce on v2) and never passes active-low", () => {
    const g1 = groupLines(specs, v1);
    expect(g1.map((g) => g.offsets)).toEqual([[17, 27], [22]]);
    expect(gpiomonArgs(v1, "gpiochip0", g1[0]!)).toEqual(["-b", "-F", "%o %e %s %n", "-B", "pull-up", "gpiochip0", "17", "27"]);
    expect(gpiogetArgs(v1, "gpiochip0", g1[1]!)).toEqual(["-B", "disable", "gpiochip0", "22"]);
    const g2 = groupLines(specs, v2);
    expect(g2.map((g) => g.offsets)).toEqual([[17], [27], [22]]);
    expect(gpiomonArgs(v2, "gpiochip4", g2[1]!)).toEqual([
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
      "500us",
      "27",
    ]);
    expect(gpiogetArgs(v2, "gpiochip4", g2[2]!)).toEqual(["-c", "gpiochip4", "-C", "roadside", "-b", "disabled", "22"]);
    for (const g of [...g1, ...g2]) expect([...gpiomonArgs(v1, "c", g), ...gpiomonArgs(v2, "c", g)]).not.toContain("-l");
  });
});
