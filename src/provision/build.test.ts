import { describe, expect, it } from "vitest";
import { validateConfig } from "../config/load.js";
import { applySet, buildConfig, parseLineRef, parseSetPath } from "./build.js";

describe("provision answers → config", () => {
  it("reads lines as a technician writes them", () => {
    expect(parseLineRef("GPIO17")).toEqual({ line: "GPIO17" });
    expect(parseLineRef("gpio_5")).toEqual({ line: "GPIO5" });
    expect(parseLineRef("17")).toEqual({ line: 17 });
    expect(parseLineRef("pin:11")).toEqual({ pin: 11 });
    expect(parseLineRef("P15")).toEqual({ pin: 15 });
    expect(parseLineRef("lane1.up")).toBeUndefined();
  });

  it("lanes given as lines make their inputs; given as input names use them", () => {
    const { config, errors } = buildConfig({
      id: "pole-1",
      board: "raspberry-pi-5",
      inputs: [{ name: "north", ref: { pin: 15 } }],
      lanes: [
        { name: "lane1", loops: ["GPIO17", "27"] },
        { name: "lane2", loops: ["north"], mode: "pulse" },
      ],
      sets: [],
    });
    expect(errors).toEqual([]);
    expect(config).toEqual({
      device: { id: "pole-1", board: "raspberry-pi-5" },
      inputs: { north: { pin: 15 }, "lane1.up": { line: "GPIO17" }, "lane1.down": { line: 27 } },
      detectors: { lane1: { loops: ["lane1.up", "lane1.down"] }, lane2: { loops: ["north"], mode: "pulse" } },
    });
    const r = validateConfig(config);
    expect(r.ok).toBe(true);
  });

  it("a lane naming neither an input nor a line is an error naming both ways to fix it", () => {
    const { errors } = buildConfig({ id: "x", board: "sim", inputs: [], lanes: [{ name: "l1", loops: ["nowhere"] }], sets: [] });
    expect(errors).toEqual(['--lane l1: "nowhere" is neither an input (--input NAME=LINE) nor a line (GPIO17, 17 or pin:11)']);
  });

  it("gives a simulated board traffic on every lane", () => {
    const { config } = buildConfig({ id: "x", board: "sim", inputs: [], lanes: [{ name: "l1", loops: ["GPIO17"] }], sets: [] });
    expect(config["sim"]).toEqual({ seed: 1, traffic: { l1: { vehiclesPerHour: 600 } } });
  });

  it("--set reaches keys with dots, list items and new sections; values are YAML; empty unsets", () => {
    const c: Record<string, unknown> = { inputs: { "lane1.up": { line: 17 } }, detectors: { l1: { loops: ["lane1.up"] } } };
    expect(parseSetPath("inputs.lane1.up.glitchMs", c)).toEqual(["inputs", "lane1.up", "glitchMs"]);
    expect(parseSetPath('inputs["lane1.up"].bias', c)).toEqual(["inputs", "lane1.up", "bias"]);
    expect(parseSetPath("detectors.l1.loops[0]", c)).toEqual(["detectors", "l1", "loops", 0]);
    expect(applySet(c, "inputs.lane1.up.glitchMs=20")).toBeUndefined();
    expect(applySet(c, "manholes.m1={port: {path: sim0}, mountMm: 2400}")).toBeUndefined();
    expect(applySet(c, 'device.site="Main St, north"')).toBeUndefined();
    expect(applySet(c, "inputs.lane1.up.line=")).toBeUndefined();
    expect(c).toEqual({
      inputs: { "lane1.up": { glitchMs: 20 } },
      detectors: { l1: { loops: ["lane1.up"] } },
      manholes: { m1: { port: { path: "sim0" }, mountMm: 2400 } },
      device: { site: "Main St, north" },
    });
    expect(applySet(c, "windows.default")).toMatch(/write PATH=VALUE/);
    expect(applySet(c, "a..b=1")).toMatch(/empty path segment/);
    expect(applySet(c, "a[b=1")).toMatch(/unclosed \[/);
  });
});
