import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadBoards } from "./boards.js";
import { demoConfig } from "./defaults.js";
import { formatIssues, loadConfigFile, parseConfigText, validateConfig } from "./load.js";
import { configSchema } from "./schema.js";

const good = `
device: { id: pole-0042, board: raspberry-pi-5, site: "A38 km 12.4" }
inputs:
  lane1.up: { line: GPIO17 }
  lane1.down: { pin: 13 }
detectors:
  lane1: { loops: [lane1.up, lane1.down], window: 30s }
windows: { default: 1m }
mqtt: { url: "mqtts://broker.city.example:8883", prefix: city/roadside }
`;

function errors(text: string): string[] {
  const r = parseConfigText(text);
  return r.ok ? [] : formatIssues(r.issues);
}

describe("config validation", () => {
  it("accepts a good config, applies defaults and resolves lines by name and header pin", () => {
    const r = parseConfigText(good);
    if (!r.ok) throw new Error(formatIssues(r.issues).join("\n"));
    const { config, lines, board } = r.loaded;
    expect(board.gpio.chipLabel).toBe("pinctrl-rp1");
    expect(lines.get("lane1.up")?.line).toBe(17);
    expect(lines.get("lane1.down")?.line).toBe(27); // header pin 13 is GPIO27
    expect(config.detectors["lane1"]?.window).toBe(30);
    expect(config.windows.default).toBe(60);
    expect(config.inputs["lane1.up"]).toMatchObject({ activeLow: true, bias: "pull-up", glitchMs: 10 });
    expect(config.mqtt).toMatchObject({ prefix: "city/roadside", protocol: "auto", keepaliveS: 30 });
    expect(config.publish.encoding).toBe("cbor");
    expect(r.loaded.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("hashes the parsed config, so key order and formatting do not change it", () => {
    const a = parseConfigText(good);
    const b = parseConfigText(JSON.stringify((a.ok && a.loaded.config) || {}, null, 4));
    expect(a.ok && b.ok && a.loaded.hash === b.loaded.hash).toBe(true);
  });

  it("lists every problem of a broken config, one per line, naming the value and the fix", () => {
    const text = `
device:
  id: "pole 42/a"
  board: raspberry-pi-5
inputs:
  lane1.up: { line: GPIO17, activLow: true }
  lane1.down: { line: GPIO17 }
  lane2.up: { pin: 99 }
  lane3.up: { line: GPIO4, pin: 7 }
  lane4.up: { line: GPIO40 }
detectors:
  "lane 1": { loops: [lane1.up, lane1.dwn], window: 7s }
  lane2: { mode: pulse, loops: [lane2.up, lane1.up] }
windows: { default: 45min }
mqtt: { url: "broker:1883", prefix: "city/#" }
extra: 1
`;
    expect(errors(text)).toEqual([
      'device.id: "pole 42/a" is not safe in MQTT topics; use letters, digits, _ and - only (max 64), e.g. "pole-42-a"',
      'inputs["lane1.up"].activLow: unknown setting; did you mean activeLow?',
      'inputs["lane2.up"].pin: 99 is above the maximum 40',
      'inputs["lane1.down"].line: GPIO17 is already used by input "lane1.up"; each line can feed one input only',
      'inputs["lane3.up"]: give either line or pin, not both',
      'inputs["lane4.up"].line: "GPIO40" is not a usable GPIO line of raspberry-pi-5; use one of GPIO2…GPIO27 (see boards/raspberry-pi-5.json)',
      'detectors["lane 1"].window: window 7s does not divide an hour into whole windows; use 10s, 20s, 30s, 1m, 5m, 15m or 1h',
      'detectors["lane 1"]: detector name "lane 1" appears in topics and must use letters, digits, _ and - only; e.g. "lane-1"',
      'detectors["lane 1"].loops[1]: no input named "lane1.dwn"; did you mean lane1.down?',
      'detectors.lane2.loops[1]: input "lane1.up" already feeds detector "lane 1"; give each detector its own inputs',
      "detectors.lane2.mode: pulse-mode cards give counts only, so a speed trap needs presence mode; set mode: presence or use one loop",
      "windows.default: window 2700s does not divide an hour into whole windows; use 10s, 20s, 30s, 1m, 5m, 15m or 1h",
      'mqtt.url: "broker:1883" is not a broker URL; write e.g. mqtt://broker.example:1883 or mqtts://broker.example:8883',
      'mqtt.prefix: "city/#" is not a safe topic prefix; use segments of letters, digits, _ and - separated by / (no +, #, spaces or empty segments), e.g. "roadside" or "city/roadside"',
      `extra: unknown section; known sections: ${Object.keys(configSchema.shape)
        .filter((k) => k !== "$schema")
        .join(", ")}`,
    ]);
  });

  it("suggests the board a typo meant", () => {
    expect(errors("device: { id: d1, board: raspbery-pi-5 }")).toEqual([
      `device.board: no board "raspbery-pi-5" in boards/; did you mean raspberry-pi-5? known boards: ${[...loadBoards().keys()].join(", ")}`,
    ]);
  });

  it("reports missing required fields and wrong types with the value", () => {
    expect(errors("device: { board: sim }\ninputs: { a: { line: 17, glitchMs: fast } }")).toEqual([
      "device.id: device id is required: a unique name for this device, e.g. pole-0042",
      'inputs.a.glitchMs: expected number, got "fast"',
    ]);
  });

  it("reports YAML syntax errors with their position", () => {
    const e = errors("device: { id: d1, board: sim\ninputs: [");
    expect(e.length).toBeGreaterThan(0);
    expect(e[0]).toMatch(/^line 2, column 1: Flow map .*; fix the YAML syntax$/);
    expect(errors("a: 1\na: 2\n")[0]).toBe("a: this key appears twice in the same mapping (again on line 2); keep one");
  });

  it("accepts JSON, since JSON is YAML", () => {
    expect(parseConfigText(JSON.stringify(demoConfig())).ok).toBe(true);
  });

  it("says which file it cannot read and what to do", () => {
    const r = loadConfigFile("/nonexistent/roadside.yaml");
    expect(r.ok).toBe(false);
    expect(!r.ok && formatIssues(r.issues)).toEqual([
      "(top level): cannot read /nonexistent/roadside.yaml: no such file; check the path, or write one with `roadside provision`",
    ]);
  });

  it("reads a real file", () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-cfg-"));
    writeFileSync(join(dir, "d.yaml"), good);
    expect(loadConfigFile(join(dir, "d.yaml")).ok).toBe(true);
  });

  it("rejects a config that is not a mapping", () => {
    const r = validateConfig([1, 2]);
    expect(!r.ok && formatIssues(r.issues)[0]).toMatch(/must be a mapping/);
  });

  it("validates the built-in demo site", () => {
    const r = validateConfig(demoConfig());
    expect(r.ok ? "" : formatIssues(r.issues).join("\n")).toBe("");
  });
});

describe("board definitions", () => {
  const boards = loadBoards();
  it.each(["raspberry-pi-3", "raspberry-pi-4", "raspberry-pi-5", "raspberry-pi-zero-2w", "sim"])(
    "%s is valid, with unique lines and header pins",
    (id) => {
      const b = boards.get(id);
      expect(b).toBeDefined();
      const lines = b!.gpio.lines.map((l) => l.line);
      const pins = b!.gpio.lines.map((l) => l.pin).filter((p) => p !== undefined);
      expect(new Set(lines).size).toBe(lines.length);
      expect(new Set(pins).size).toBe(pins.length);
      expect(b!.gpio.lines.every((l) => l.name === `GPIO${l.line}`)).toBe(true);
    },
  );
  it("finds the Pi 5 chip by its label", () => {
    expect(boards.get("raspberry-pi-5")?.gpio.chipLabel).toBe("pinctrl-rp1");
    expect(boards.get("raspberry-pi-4")?.gpio.chipLabel).toBe("pinctrl-bcm2711");
  });
});
