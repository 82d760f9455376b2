import { parse as parseYaml } from "yaml";
import { keysAt } from "../config/schema-walk.js";
import { configSchema } from "../config/schema.js";
import type { SensorAnswer, SensorKind } from "./sensors.js";
import { SENSOR_KINDS } from "./sensors.js";
import { type LineRef, parseLineRef } from "./line-ref.js";

/**
 * Turning a technician's answers (flags or prompts) into a device config object. Pure: no files,
 * no prompts; `roadside provision` validates the result with `validateConfig` before writing it.
 */

// line references have a file of their own so ./sensors.js can parse them without importing this file (a cycle)
export { type LineRef, parseLineRef, showLineRef } from "./line-ref.js";

export interface LaneAnswer {
  name: string;
  /** Input names (defined with inputs) or line references; a second entry makes a speed trap. */
  loops: string[];
  mode?: "presence" | "pulse";
}

export interface ProvisionAnswers {
  id: string;
  board: string;
  site?: string;
  inputs: { name: string; ref: LineRef }[];
  lanes: LaneAnswer[];
  window?: string;
  broker?: string;
  prefix?: string;
  encoding?: "cbor" | "json";
  tls?: { ca?: string; cert?: string; key?: string };
  /** Broker user name and the file holding its password (one line). */
  username?: string;
  passwordFile?: string;
  /** Ed25519 public key (PEM) that signed config/restart commands are checked with. */
  controlKey?: string;
  /** Manholes, bins, probe scanners, RFID readers, in the order given. */
  sensors?: { kind: SensorKind; answer: SensorAnswer }[];
  /** `path=value` settings applied last (value is YAML). */
  sets: string[];
}

/**
 * Where TLS file paths go in the config. The MQTT section owns them (issue 7); keep this table in
 * step with it. Provision checks the schema knows the path before writing it.
 */
export const TLS_PATHS = { ca: ["mqtt", "tls", "ca"], cert: ["mqtt", "tls", "cert"], key: ["mqtt", "tls", "key"] } as const;

/** Whether the config schema has an object key at `path` (e.g. mqtt.tls). */
export function schemaHas(path: readonly string[]): boolean {
  return keysAt(configSchema, path.slice(0, -1)).includes(path[path.length - 1]!);
}

/** Lines that are free on every Pi header (no I²C, SPI or UART function), in a wiring-friendly order. */
export const SUGGESTED_LINES = [
  "GPIO17",
  "GPIO27",
  "GPIO22",
  "GPIO23",
  "GPIO24",
  "GPIO25",
  "GPIO5",
  "GPIO6",
  "GPIO12",
  "GPIO13",
  "GPIO16",
  "GPIO26",
  "GPIO19",
  "GPIO20",
  "GPIO21",
];

export interface BuildResult {
  config: Record<string, unknown>;
  /** Problems with the answers themselves (the schema's come later, from validateConfig). */
  errors: string[];
}

export function buildConfig(a: ProvisionAnswers): BuildResult {
  const errors: string[] = [];
  const device: Record<string, unknown> = { id: a.id, board: a.board };
  if (a.site) device["site"] = a.site;
  const inputs: Record<string, Record<string, unknown>> = {};
  for (const i of a.inputs) {
    if (inputs[i.name]) errors.push(`--input ${i.name}: given twice; name each input once`);
    inputs[i.name] = { ...i.ref };
  }
  const detectors: Record<string, Record<string, unknown>> = {};
  for (const lane of a.lanes) {
    if (detectors[lane.name]) errors.push(`--lane ${lane.name}: given twice; name each lane once`);
    if (lane.loops.length < 1 || lane.loops.length > 2) {
      errors.push(`--lane ${lane.name}: give one loop or two (upstream,downstream), e.g. --lane ${lane.name}=GPIO17,GPIO27`);
      continue;
    }
    const loops = lane.loops.map((loop, k) => {
      if (inputs[loop]) return loop;
      const ref = parseLineRef(loop);
      if (!ref) {
        errors.push(
          `--lane ${lane.name}: ${JSON.stringify(loop)} is neither an input (--input NAME=LINE) nor a line (GPIO17, 17 or pin:11)`,
        );
        return loop;
      }
      const name = `${lane.name}.${k === 0 ? "up" : "down"}`;
      if (inputs[name])
        errors.push(`--lane ${lane.name}: input ${name} already exists; name the loop's input with --input and use its name here`);
      inputs[name] = { ...ref };
      return name;
    });
    const det: Record<string, unknown> = { loops };
    if (lane.mode) det["mode"] = lane.mode;
    detectors[lane.name] = det;
  }
  const sensors: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const { kind, answer } of a.sensors ?? []) {
    const def = SENSOR_KINDS[kind];
    const key = `${kind}:${answer.name}`;
    if (seen.has(key)) errors.push(`${def.flag} ${answer.name}: given twice; name each ${def.what} once`);
    seen.add(key);
    def.build(answer, { config: sensors, inputs }, (msg) => errors.push(`${def.flag} ${answer.name}: ${msg}`));
  }
  const config: Record<string, unknown> = { device };
  if (Object.keys(inputs).length > 0) config["inputs"] = inputs;
  if (Object.keys(detectors).length > 0) config["detectors"] = detectors;
  Object.assign(config, sensors);
  if (a.window) config["windows"] = { default: a.window };
  const mqtt: Record<string, unknown> = {};
  if (a.broker) mqtt["url"] = a.broker;
  if (a.prefix) mqtt["prefix"] = a.prefix;
  if (a.username) mqtt["username"] = a.username;
  if (a.passwordFile) mqtt["passwordFile"] = a.passwordFile;
  if (Object.keys(mqtt).length > 0) config["mqtt"] = mqtt;
  if (a.encoding) config["publish"] = { encoding: a.encoding };
  for (const [k, file] of Object.entries(a.tls ?? {})) {
    if (!file) continue;
    const path = TLS_PATHS[k as keyof typeof TLS_PATHS];
    if (!schemaHas(path)) {
      errors.push(
        `--${k}: this version's config has no ${path.join(".")} setting yet, so TLS files cannot be provisioned; see docs/config-reference.md`,
      );
      continue;
    }
    setIn(config, [...path], file);
  }
  if (a.controlKey) config["control"] = { publicKeyFile: a.controlKey };
  // a simulated board with no simulated signals publishes nothing worth watching
  if (a.board === "sim") {
    const sim: Record<string, unknown> = { seed: 1 };
    if (Object.keys(detectors).length > 0)
      sim["traffic"] = Object.fromEntries(Object.keys(detectors).map((d) => [d, { vehiclesPerHour: 600 }]));
    const names = (k: string, sub?: string): string[] =>
      Object.keys(((sub ? (sensors[k] as Record<string, unknown> | undefined)?.[sub] : sensors[k]) ?? {}) as object);
    if (names("manholes").length > 0) sim["sewer"] = Object.fromEntries(names("manholes").map((n) => [n, {}]));
    if (names("bins").length > 0) sim["bins"] = Object.fromEntries(names("bins").map((n) => [n, {}]));
    const scanners = names("identifiers", "scanners");
    const readers = names("identifiers", "readers");
    if (scanners.length + readers.length > 0) {
      sim["identifiers"] = {
        ...(scanners.length ? { scanners: Object.fromEntries(scanners.map((n) => [n, {}])) } : {}),
        ...(readers.length ? { readers: Object.fromEntries(readers.map((n) => [n, {}])) } : {}),
      };
    }
    if (Object.keys(sim).length > 1) config["sim"] = sim;
  }
  for (const s of a.sets) {
    const err = applySet(config, s);
    if (err) errors.push(err);
  }
  return { config, errors };
}

/** Apply one `--set path=value`; returns an error message or undefined. */
export function applySet(config: Record<string, unknown>, assignment: string): string | undefined {
  const eq = assignment.indexOf("=");
  if (eq <= 0) return `--set ${JSON.stringify(assignment)}: write PATH=VALUE, e.g. --set windows.default=5m`;
  const pathText = assignment.slice(0, eq).trim();
  const valueText = assignment.slice(eq + 1);
  const path = parseSetPath(pathText, config);
  if (typeof path === "string") return `--set ${pathText}: ${path}`;
  if (valueText.trim() === "") {
    unsetIn(config, path);
    return undefined;
  }
  let value: unknown;
  try {
    value = parseYaml(valueText);
  } catch (err) {
    return `--set ${pathText}: the value ${JSON.stringify(valueText)} is not YAML (${(err as Error).message.split("\n")[0]}); quote text, e.g. --set 'device.site="Main St"'`;
  }
  setIn(config, path, value);
  return undefined;
}

/**
 * A settings path: `a.b.c`, with `[key]` or `["key"]` for keys that hold dots and `[0]` for list
 * items. Unbracketed, a dotted run that names an existing key is taken whole, so
 * `inputs.lane1.up.glitchMs` reaches input `lane1.up`.
 */
export function parseSetPath(text: string, root: unknown): (string | number)[] | string {
  if (/^\.|\.\.|\.$/.test(text)) return "empty path segment; write e.g. detectors.lane1.window";
  const raw: { seg: string; bracket: boolean }[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === ".") {
      i++;
      continue;
    }
    if (text[i] === "[") {
      const close = text.indexOf("]", i);
      if (close < 0) return "unclosed [ in the path";
      let seg = text.slice(i + 1, close).trim();
      if (/^(["']).*\1$/.test(seg)) seg = seg.slice(1, -1);
      raw.push({ seg, bracket: true });
      i = close + 1;
      continue;
    }
    let j = i;
    while (j < text.length && text[j] !== "." && text[j] !== "[") j++;
    raw.push({ seg: text.slice(i, j), bracket: false });
    i = j;
  }
  if (raw.length === 0 || raw.some((r) => r.seg === "")) return "empty path segment; write e.g. detectors.lane1.window";
  const out: (string | number)[] = [];
  let node: unknown = root;
  for (let k = 0; k < raw.length; ) {
    const r = raw[k]!;
    if (r.bracket) {
      const key: string | number = Array.isArray(node) && /^\d+$/.test(r.seg) ? Number(r.seg) : r.seg;
      out.push(key);
      node = child(node, key);
      k++;
      continue;
    }
    // longest run of plain segments that names an existing key
    let taken = 1;
    if (node && typeof node === "object" && !Array.isArray(node)) {
      for (let n = raw.length - k; n > 1; n--) {
        const run = raw.slice(k, k + n);
        if (run.some((x) => x.bracket)) continue;
        if (Object.hasOwn(node, run.map((x) => x.seg).join("."))) {
          taken = n;
          break;
        }
      }
    }
    const key = raw
      .slice(k, k + taken)
      .map((x) => x.seg)
      .join(".");
    out.push(Array.isArray(node) && /^\d+$/.test(key) ? Number(key) : key);
    node = child(node, out[out.length - 1]!);
    k += taken;
  }
  return out;
}

function child(node: unknown, key: string | number): unknown {
  return node && typeof node === "object" ? (node as Record<string | number, unknown>)[key] : undefined;
}

export function setIn(root: Record<string, unknown>, path: readonly (string | number)[], value: unknown): void {
  let node: Record<string | number, unknown> = root;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    let next = node[key];
    if (next === null || typeof next !== "object") {
      next = typeof path[i + 1] === "number" ? [] : {};
      node[key] = next;
    }
    node = next as Record<string | number, unknown>;
  });
}

function unsetIn(root: Record<string, unknown>, path: readonly (string | number)[]): void {
  const parent = path.slice(0, -1).reduce<unknown>((n, k) => child(n, k), root);
  if (parent && typeof parent === "object") {
    const last = path[path.length - 1]!;
    if (Array.isArray(parent) && typeof last === "number") parent.splice(last, 1);
    else delete (parent as Record<string | number, unknown>)[last];
  }
}
