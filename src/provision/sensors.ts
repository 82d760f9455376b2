import { FRAME_MODEL_IDS } from "../sensors/models/index.js";
import type { LineRef } from "./line-ref.js";
import { parseLineRef } from "./line-ref.js";

/**
 * Sensors other than loops, given the way `--lane` is: `NAME=PORT[,key=value…]`. One definition per
 * kind says which keys it takes and builds its config section; the rest of provision never names a
 * kind. Keys are short words a technician types on site; docs/field-guide.md has an example of each.
 */

export interface SensorAnswer {
  name: string;
  /** Serial port (board port name or /dev/… path), or `adc:CH` for an ADS1115 input. */
  port: string;
  options: Record<string, string>;
}

export type SensorKind = "manhole" | "bin" | "probe" | "rfid";

/** What a definition writes into: the config under construction, and the inputs switches need. */
export interface SensorTarget {
  config: Record<string, unknown>;
  inputs: Record<string, Record<string, unknown>>;
}

interface KeyDef {
  /** Shown in help and errors. */
  hint: string;
  required?: boolean;
}

export interface SensorDef {
  flag: string;
  /** What it is, for prompts and errors. */
  what: string;
  example: string;
  keys: Record<string, KeyDef>;
  build(a: SensorAnswer, t: SensorTarget, err: (msg: string) => void): void;
}

const MODELS: readonly string[] = FRAME_MODEL_IDS;

function mm(a: SensorAnswer, key: string, err: (m: string) => void): number | undefined {
  const v = a.options[key];
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(mm|cm|m)?$/.exec(v.trim());
  if (!m) {
    err(`${key}=${v} is not a length; write millimetres, e.g. ${key}=2400 (or 2.4m, 240cm)`);
    return undefined;
  }
  const n = Number(m[1]) * (m[2] === "m" ? 1000 : m[2] === "cm" ? 10 : 1);
  return Math.round(n);
}

function int(a: SensorAnswer, key: string, err: (m: string) => void): number | undefined {
  const v = a.options[key];
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v.trim())) {
    err(`${key}=${v} is not a whole number`);
    return undefined;
  }
  return Number(v);
}

/** `adc:1` or `adc:1@0x49`: an ADS1115 input (channel, I²C address). */
export function parseAdc(text: string): { channel: number; address?: number } | undefined {
  const m = /^adc:([0-3])(?:@(0x4[89ab]|7[2-5]))?$/i.exec(text.trim());
  if (!m) return undefined;
  return m[2] === undefined ? { channel: Number(m[1]) } : { channel: Number(m[1]), address: Number(m[2]) };
}

/** A switch input named NAME.ROLE on the line given (or an input already defined with --input). */
function switchInput(a: SensorAnswer, key: string, t: SensorTarget, err: (m: string) => void): string | undefined {
  const v = a.options[key];
  if (v === undefined) return undefined;
  if (t.inputs[v]) return v;
  const ref: LineRef | undefined = parseLineRef(v);
  if (!ref) {
    err(`${key}=${v} is neither an input (--input NAME=LINE) nor a line (GPIO17, 17 or pin:11)`);
    return undefined;
  }
  const name = `${a.name}.${key}`;
  if (t.inputs[name]) {
    err(`input ${name} already exists; name the switch's input with --input and give its name here`);
    return undefined;
  }
  // the examples' wiring (examples/*.yaml): the switch lets the pull-up win when the cover/lid opens or the bin tips
  t.inputs[name] = { ...ref, activeLow: false };
  return name;
}

function section(config: Record<string, unknown>, ...path: string[]): Record<string, unknown> {
  let node = config;
  for (const k of path) {
    if (!node[k] || typeof node[k] !== "object") node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  return node;
}

function serialPort(a: SensorAnswer, err: (m: string) => void): Record<string, unknown> {
  const port: Record<string, unknown> = { path: a.port };
  const baud = int(a, "baud", err);
  if (baud !== undefined) port["baudRate"] = baud;
  return port;
}

export const SENSOR_KINDS: Record<SensorKind, SensorDef> = {
  manhole: {
    flag: "--manhole",
    what: "manhole level sensor",
    example: "--manhole mh1=/dev/ttyUSB0,mount=2400,overflow=1500,cover=GPIO17",
    keys: {
      mount: { hint: "height of the ultrasonic sensor's face above the channel invert, mm (required for serial sensors)" },
      overflow: { hint: "height of the overflow (weir crest) above the invert, mm", required: true },
      model: { hint: `MaxBotix model: ${MODELS.join(", ")} (default hrxl)` },
      cover: { hint: "line of the cover's reed switch (GPIO17, 17, pin:11)" },
      span: { hint: "4–20 mA transducer (port adc:CH): mm of water at 20 mA" },
      offset: { hint: "4–20 mA transducer: its height above the invert, mm (default 0)" },
      window: { hint: "summary window, e.g. 15m (default: --window)" },
    },
    build(a, t, err) {
      const m: Record<string, unknown> = {};
      const adc = parseAdc(a.port);
      const overflow = mm(a, "overflow", err);
      if (adc) {
        const span = mm(a, "span", err);
        if (span === undefined)
          err(`a 4–20 mA transducer needs span=MM (depth at 20 mA), e.g. --manhole ${a.name}=adc:0,span=3000,overflow=1500`);
        const sensor: Record<string, unknown> = { type: "current-loop", adc, spanMm: span };
        const offset = mm(a, "offset", err);
        if (offset !== undefined) sensor["offsetMm"] = offset;
        m["sensor"] = sensor;
        if (a.options["mount"] !== undefined)
          err("mount= is for ultrasonic sensors; a 4–20 mA transducer takes offset= (its height above the invert)");
      } else {
        const sensor: Record<string, unknown> = { type: "maxbotix" };
        if (a.options["model"] !== undefined) {
          if (!MODELS.includes(a.options["model"])) err(`model=${a.options["model"]}: use ${MODELS.join(", ")}`);
          sensor["model"] = a.options["model"];
        }
        sensor["port"] = serialPort(a, err);
        m["sensor"] = sensor;
        const mount = mm(a, "mount", err);
        if (mount === undefined && a.options["mount"] === undefined)
          err(`give mount=MM, the height of the sensor's face above the channel invert, e.g. ${this.example}`);
        else m["mountHeightMm"] = mount;
      }
      if (overflow === undefined && a.options["overflow"] === undefined)
        err(`give overflow=MM, the height of the weir crest above the invert, e.g. ${this.example}`);
      else m["overflowHeightMm"] = overflow;
      const cover = switchInput(a, "cover", t, err);
      if (cover) m["cover"] = { input: cover };
      if (a.options["window"] !== undefined) m["window"] = a.options["window"];
      section(t.config, "manholes")[a.name] = m;
    },
  },
  bin: {
    flag: "--bin",
    what: "bin fill-level sensor",
    example: "--bin bin1=/dev/ttyUSB0,empty=1100,full=350,lid=GPIO23",
    keys: {
      empty: { hint: "distance from the sensor to the bottom of the empty bin, mm", required: true },
      full: { hint: "distance at which the bin counts as full, mm", required: true },
      model: { hint: `MaxBotix model: ${MODELS.join(", ")} (default hrxl)` },
      lid: { hint: "line of the lid's reed switch" },
      tilt: { hint: "line of the tilt (ball) switch" },
      temp: { hint: "TMP36 fire sensor on an ADS1115 input: adc:CH or adc:CH@0x49" },
      every: { hint: "one fill reading every, e.g. 10m (default)" },
      window: { hint: "summary window, e.g. 30m (default: --window)" },
    },
    build(a, t, err) {
      const b: Record<string, unknown> = {};
      const distance: Record<string, unknown> = { type: "maxbotix" };
      if (a.options["model"] !== undefined) {
        if (!MODELS.includes(a.options["model"])) err(`model=${a.options["model"]}: use ${MODELS.join(", ")}`);
        distance["model"] = a.options["model"];
      }
      if (parseAdc(a.port)) err(`a bin's distance sensor is a serial MaxBotix; give its serial port, e.g. ${this.example}`);
      distance["port"] = serialPort(a, err);
      b["distance"] = distance;
      for (const [key, field] of [
        ["empty", "emptyDistanceMm"],
        ["full", "fullDistanceMm"],
      ] as const) {
        const v = mm(a, key, err);
        if (v === undefined && a.options[key] === undefined) err(`give ${key}=MM (${this.keys[key]!.hint}), e.g. ${this.example}`);
        else b[field] = v;
      }
      if (a.options["every"] !== undefined) b["measureEvery"] = a.options["every"];
      if (a.options["temp"] !== undefined) {
        const adc = parseAdc(a.options["temp"]);
        if (!adc) err(`temp=${a.options["temp"]}: write adc:CH (ADS1115 input 0–3) or adc:CH@0x49`);
        else b["temperature"] = { adc };
      }
      const tilt = switchInput(a, "tilt", t, err);
      if (tilt) b["tilt"] = { input: tilt };
      const lid = switchInput(a, "lid", t, err);
      if (lid) b["lid"] = { input: lid };
      if (a.options["window"] !== undefined) b["window"] = a.options["window"];
      section(t.config, "bins")[a.name] = b;
    },
  },
  probe: {
    flag: "--probe",
    what: "Wi-Fi/Bluetooth probe scanner",
    example: "--probe stop1=/dev/ttyUSB1,min-rssi=-80",
    keys: {
      baud: { hint: "baud rate (default 115200)" },
      "min-rssi": { hint: "drop sightings weaker than this, dBm, e.g. -80" },
      window: { hint: "summary window, at most 1h (default 15m)" },
    },
    build(a, t, err) {
      const s: Record<string, unknown> = { port: serialPort(a, err) };
      const rssi = int(a, "min-rssi", err);
      if (rssi !== undefined) s["minRssi"] = rssi;
      if (a.options["window"] !== undefined) s["window"] = a.options["window"];
      section(t.config, "identifiers", "scanners")[a.name] = s;
    },
  },
  rfid: {
    flag: "--rfid",
    what: "RFID reader",
    example: "--rfid bin1-reader=/dev/ttyAMA0",
    keys: {
      baud: { hint: "baud rate (default 9600)" },
      repeat: { hint: "reads of one card closer than this are one presentation (default 2s)" },
      window: { hint: "summary window, at most 1h (default 15m)" },
    },
    build(a, t, err) {
      const r: Record<string, unknown> = { port: serialPort(a, err) };
      if (a.options["repeat"] !== undefined) r["repeat"] = a.options["repeat"];
      if (a.options["window"] !== undefined) r["window"] = a.options["window"];
      section(t.config, "identifiers", "readers")[a.name] = r;
    },
  },
};

/** Parse `NAME=PORT[,key=value…]`; returns an error message for a malformed spec. */
export function parseSensorSpec(kind: SensorKind, spec: string): SensorAnswer | string {
  const def = SENSOR_KINDS[kind];
  const eq = spec.indexOf("=");
  if (eq <= 0 || eq === spec.length - 1) return `${def.flag} ${JSON.stringify(spec)}: write NAME=PORT[,key=value…], e.g. ${def.example}`;
  const name = spec.slice(0, eq).trim();
  const [port, ...rest] = spec
    .slice(eq + 1)
    .split(",")
    .map((s) => s.trim());
  if (!port || port.includes("="))
    return `${def.flag} ${JSON.stringify(spec)}: the port comes first, then key=value settings, e.g. ${def.example}`;
  const options: Record<string, string> = {};
  for (const kv of rest) {
    if (kv === "") continue;
    const k = kv.indexOf("=");
    if (k <= 0) return `${def.flag} ${name}: ${JSON.stringify(kv)} is not key=value; keys: ${Object.keys(def.keys).join(", ")}`;
    const key = kv.slice(0, k).trim();
    if (!(key in def.keys)) return `${def.flag} ${name}: unknown key ${JSON.stringify(key)}; use ${Object.keys(def.keys).join(", ")}`;
    options[key] = kv.slice(k + 1).trim();
  }
  return { name, port, options };
}

/** Serial port paths used by several sensors (the schema checks ports against the board; this catches a typo'd double use early). */
export function portOf(a: SensorAnswer): string | undefined {
  return parseAdc(a.port) ? undefined : a.port;
}
