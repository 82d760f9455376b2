import { describe, expect, it } from "vitest";
import { formatIssues, validateConfig } from "../load.js";
import { IRIS_LENGTH_CLASSES, M_PER_FT } from "./detectors.js";

function check(detector: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const r = validateConfig({
    device: { id: "cfg-test", board: "sim" },
    inputs: { up: { line: 5 }, down: { line: 6 } },
    detectors: { lane1: { loops: ["up", "down"], ...detector } },
    ...extra,
  });
  return r.ok
    ? { ok: true as const, det: r.loaded.config.detectors["lane1"]!, lines: [] as string[] }
    : { ok: false as const, lines: formatIssues(r.issues) };
}

describe("detectors config", () => {
  it("fills IRIS defaults: mainline, 6 ft loop, 6 m spacing, 22 ft g-factor, km/h, IRIS length classes", () => {
    const r = check({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.det).toMatchObject({
      mode: "presence",
      laneType: "mainline",
      loopLengthM: 6 * M_PER_FT,
      spacingM: 6,
      gFactorM: 22 * M_PER_FT,
      speedUnit: "km/h",
    });
    expect(r.det.lengthClasses.map((c) => [c.name, Math.round((c.maxM / M_PER_FT) * 1000) / 1000])).toEqual([
      ["motorcycle", 7],
      ["short", 20],
      ["medium", 43],
      ["long", 255],
    ]);
    expect(IRIS_LENGTH_CLASSES).toHaveLength(4);
    expect(r.det.diagnostics).toMatchObject({
      enabled: true,
      chatterVehicles: 38,
      chatterClearS: 86400,
      noChangeS: 86400,
      spikeJump: 0.25,
    });
  });

  it("accepts the standard windows 20 s, 30 s, 1 min, 5 min, 15 min per detector", () => {
    for (const w of ["20s", "30s", "1m", "5m", "15m"]) expect(check({ window: w }).ok, w).toBe(true);
    expect(check({ window: "7s" }).lines.join()).toContain("detectors.lane1.window");
  });

  it("rejects a trap spacing under 6 ft with the reason and the fix", () => {
    const r = check({ spacingM: 1.5 });
    expect(r.lines).toEqual([
      expect.stringMatching(
        /^detectors\.lane1\.spacingM: spacingM must be at least 1\.83 m \(6 ft\).*measure the distance between the loops' leading edges/,
      ),
    ]);
  });

  it("rejects loops that would overlap", () => {
    const r = check({ spacingM: 2, loopLengthM: 2.5 });
    expect(r.lines).toEqual([expect.stringMatching(/^detectors\.lane1\.spacingM: spacingM 2 is not more than loopLengthM 2\.5/)]);
  });

  it("checks length classes: names usable in SenML, unique, shortest first", () => {
    const r = check({
      lengthClasses: [
        { name: "small car", maxM: 5 },
        { name: "truck", maxM: 4 },
        { name: "truck", maxM: 30 },
      ],
    });
    expect(r.lines).toEqual([
      expect.stringMatching(
        /^detectors\.lane1\.lengthClasses\[0\]\.name: class name "small car" is published as class\.small car; use letters, digits, _ and - only, e\.g\. "small-car"/,
      ),
      expect.stringMatching(/^detectors\.lane1\.lengthClasses\[1\]\.maxM: maxM 4 must be above the previous class's 5/),
      expect.stringMatching(/^detectors\.lane1\.lengthClasses\[2\]\.name: class "truck" is listed twice/),
    ]);
  });

  it("a pulse-mode card cannot be a speed trap", () => {
    expect(check({ mode: "pulse" }).lines).toEqual([expect.stringMatching(/^detectors\.lane1\.mode: pulse-mode cards give counts only/)]);
  });

  it("heldPresenceS cannot exceed the locked-on time", () => {
    expect(check({ diagnostics: { heldPresenceS: "5m" } }).lines).toEqual([
      expect.stringMatching(/^detectors\.lane1\.diagnostics\.heldPresenceS: heldPresenceS 300 s is longer than lockedOnS 120 s/),
    ]);
    expect(check({ laneType: "queue", diagnostics: { heldPresenceS: "5m" } }).ok).toBe(true);
  });

  it("rejects an unknown lane type with the list", () => {
    expect(check({ laneType: "freeway" }).lines.join()).toMatch(/detectors\.lane1\.laneType.*mainline/);
  });
});

describe("sim.traffic config", () => {
  it("parses profiles, stop-and-go periods and card settings", () => {
    const r = validateConfig({
      device: { id: "cfg-test", board: "sim" },
      inputs: { up: { line: 5 }, down: { line: 6 } },
      detectors: { lane1: { loops: ["up", "down"] } },
      sim: {
        traffic: { lane1: { profile: "commuter", stopAndGo: [{ from: "07:30", to: "08:15" }], card: { latencyMs: [5, 30], jitterMs: 1 } } },
      },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const lane = r.loaded.config.sim!.traffic["lane1"]!;
    expect(lane.stopAndGo[0]).toMatchObject({ from: 7.5, to: 8.25, speedKmh: 15, stopS: 6, goS: 10, gapM: 2.5 });
    expect(lane.card).toMatchObject({ latencyMs: [5, 30], jitterMs: 1, skewMs: 0, pulseMs: 150 });
  });

  it("explains a bad time of day", () => {
    const r = validateConfig({
      device: { id: "cfg-test", board: "sim" },
      inputs: { up: { line: 5 } },
      detectors: { lane1: { loops: ["up"] } },
      sim: { traffic: { lane1: { stopAndGo: [{ from: "7.30", to: "25:00" }] } } },
    });
    expect(r.ok ? [] : formatIssues(r.issues)).toEqual([
      'sim.traffic.lane1.stopAndGo[0].from: from must be a time of day like "07:30"; got "7.30"',
      'sim.traffic.lane1.stopAndGo[0].to: to must be a time of day like "07:30"; got "25:00"',
    ]);
  });
});
