import { describe, expect, it } from "vitest";
import { formatIssues, validateConfig } from "../load.js";

function base(extra: Record<string, unknown>) {
  return { device: { id: "t-1", board: "sim" }, ...extra };
}

const mh = (over: Record<string, unknown> = {}) => ({
  sensor: { type: "maxbotix", model: "hrxl", port: { path: "sim0" } },
  mountHeightMm: 2400,
  overflowHeightMm: 1500,
  ...over,
});

const bin = (over: Record<string, unknown> = {}) => ({
  distance: { type: "maxbotix", port: { path: "sim1" } },
  emptyDistanceMm: 1000,
  fullDistanceMm: 300,
  ...over,
});

function problems(cfg: Record<string, unknown>): string[] {
  const r = validateConfig(cfg);
  return r.ok ? [] : formatIssues(r.issues);
}

describe("manhole and bin config checks", () => {
  it("accepts a plain manhole and a plain bin with defaults", () => {
    const r = validateConfig(base({ manholes: { mh1: mh() }, bins: { bin1: bin() } }));
    expect(r.ok ? [] : formatIssues(r.issues)).toEqual([]);
    if (!r.ok) return;
    const m = r.loaded.config.manholes["mh1"]!;
    expect([m.alertShare, m.confirmSamples, m.sampling.dry, m.sampling.fast, m.staleAfter]).toEqual([0.8, 3, 60, 5, 300]);
    expect(r.loaded.config.bins["bin1"]!.report).toEqual({ changeMm: 100, onlyOnChange: false, heartbeat: 10800 });
  });

  it("reports every problem, each naming the value and the fix", () => {
    const out = problems(
      base({
        inputs: { cov: { line: 17 } },
        manholes: {
          a: mh({ overflowHeightMm: 2500 }),
          b: mh({ sensor: { type: "maxbotix", port: { path: "sim9" } }, overflowHeightMm: 2200 }),
          c: mh({ sensor: { type: "maxbotix", port: { path: "sim0" } }, cover: { input: "covr" } }),
          "bad name": mh({ sensor: { type: "maxbotix", port: { path: "/dev/ttyUSB7" } }, mountHeightMm: undefined }),
        },
        bins: { bin1: bin({ fullDistanceMm: 1200, lowThreshold: 90 }) },
      }),
    );
    const text = out.join("\n");
    expect(text).toMatch(/manholes\.a\.overflowHeightMm: overflow height 2500 mm is at or above the sensor/);
    expect(text).toMatch(/manholes\.b\.overflowHeightMm: the overflow is 200 mm below the sensor, inside its 300 mm minimum range/);
    expect(text).toMatch(/manholes\.b\.sensor\.port\.path: "sim9" is not a serial port of sim; did you mean sim0\?/);
    expect(text).toMatch(/manholes\.c\.sensor\.port\.path: serial port \/dev\/ttySIM0 is already used by manholes\.a/);
    expect(text).toMatch(/manholes\.c\.cover\.input: no input named "covr"; did you mean cov\?/);
    expect(text).toMatch(/manholes\["bad name"\]: manhole name "bad name" appears in topics/);
    expect(text).toMatch(/manholes\["bad name"\]\.mountHeightMm: an ultrasonic sensor needs mountHeightMm/);
    expect(text).toMatch(/bins\.bin1\.fullDistanceMm: fullDistanceMm \(1200\) must be less than emptyDistanceMm \(1000\)/);
    expect(text).toMatch(/bins\.bin1\.lowThreshold: lowThreshold \(90 %\) must be below highThreshold \(80 %\)/);
  });

  it("checks current-loop spans, ADC sharing, the board's IO and the sim sections", () => {
    const loop = { type: "current-loop", adc: { address: 0x48, channel: 0 }, spanMm: 1000 };
    const text = problems(
      base({
        manholes: { a: { sensor: loop, overflowHeightMm: 1500 } },
        bins: { bin1: bin({ temperature: { adc: { address: 0x48, channel: 1 } } }) },
        sim: { sewer: { mh9: {} } },
      }),
    ).join("\n");
    expect(text).toMatch(/manholes\.a\.overflowHeightMm: the transducer measures up to 1000 mm/);
    expect(text).toMatch(/bins\.bin1\.temperature\.adc\.address: ADS1115 at 0x48 is already used by manholes\.a/);
    expect(text).toMatch(/sim\.sewer\.mh9: no manhole named "mh9" to simulate/);
    // every Raspberry Pi board reads the ADS1115 through the kernel's I²C bus (issue 14)
    for (const board of ["raspberry-pi-3", "raspberry-pi-4", "raspberry-pi-5", "raspberry-pi-zero-2w"]) {
      const pi = problems({ device: { id: "p", board }, manholes: { a: { sensor: loop, overflowHeightMm: 800 } } }).join("\n");
      expect(pi, board).not.toMatch(/adc/);
    }
  });
});
