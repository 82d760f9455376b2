import type { ConfigIssue } from "./issues.js";
import { closest } from "./issues.js";
import type { DeviceConfig } from "./schema.js";
import { configSchema } from "./schema.js";
import { forEachRecordEntry } from "./schema-walk.js";
import { TRAFFIC_FAULT_KINDS } from "./traffic-fault-kinds.js";
import type { Check } from "./check.js";

/** What a fault's `target` names. */
export type FaultTarget =
  /** a digital input (`inputs.<name>`) */
  | "input"
  /** a loop detector (`detectors.<name>`) */
  | "detector"
  /** a serial sensor: the config entry that holds a serial port (`{ path, baudRate }`) */
  | "port"
  /** any named entry of a sensor section (manholes, bins, …) */
  | "sensor";

/** One kind of injectable fault: its name, what it applies to, and the numbers it takes. */
export interface FaultKind {
  kind: string;
  /** What `target` may name; empty: the fault takes no target. */
  targets: readonly FaultTarget[];
  /** True for one-off faults (`for` makes no sense). */
  instant?: boolean;
  description: string;
  /** Allowed `params`, each with what it means and its default. */
  params?: Readonly<Record<string, string>>;
}

/**
 * The generic faults the simulator itself injects (src/sim/faults.ts). Scenarios with faults of
 * their own (traffic: stuck-on, chatter, bounce…) append their kinds to `FAULT_KINDS` and handle
 * them from `SimContext.faults`; a kind that no one lists is a config error.
 */
export const GENERIC_FAULT_KINDS: readonly FaultKind[] = [
  {
    kind: "clock-jump",
    targets: [],
    instant: true,
    description: "the wall clock steps, as when NTP syncs after boot on a Pi without RTC",
    params: {
      deltaS: "size of the step in seconds, negative for backwards (default 3600)",
      synced: "1 (default): the clock counts as synchronised after the step; 0: not",
    },
  },
  { kind: "unplug", targets: ["port"], description: "the serial sensor's cable is pulled for `for` (default: to the end of the run)" },
  {
    kind: "garbage",
    targets: ["port"],
    description: "random bytes on the line: one burst, or repeated bursts for `for`",
    params: { bytes: "bytes per burst (default 32)", everyS: "seconds between bursts when `for` is given (default 10)" },
  },
  {
    kind: "partial-frames",
    targets: ["port"],
    description: "transmissions are cut short at a random byte for `for`",
    params: { share: "share of transmissions cut, 0–1 (default 0.5)" },
  },
  {
    kind: "wrong-baud",
    targets: ["port"],
    description: "the sensor transmits at another rate for `for` (e.g. after a factory reset), so the host reads garbage",
    params: { baud: "rate the sensor switches to (default: twice the configured one)" },
  },
];

/** Every fault kind a config may use. Scenarios append theirs here (one line each). */
export const FAULT_KINDS: FaultKind[] = [...GENERIC_FAULT_KINDS];
FAULT_KINDS.push(...TRAFFIC_FAULT_KINDS); // loop detector cards, injected by src/sim/traffic-faults.ts
FAULT_KINDS.push({
  kind: "silent",
  targets: ["port"],
  description: "the sensor stops transmitting for `for` (dead transducer, no power) while the cable stays in",
});
// Modbus RTU slaves, injected by src/sim/modbus-line.ts (a silent slave is `silent` above)
FAULT_KINDS.push(
  {
    kind: "crc-errors",
    targets: ["port"],
    description: "a Modbus sensor's answers fail their CRC check for `for` (noise on the RS-485 line, a missing terminator)",
    params: { share: "share of answers corrupted, 0–1 (default 1)" },
  },
  {
    kind: "exception",
    targets: ["port"],
    description: "a Modbus sensor answers every request with an exception for `for`",
    params: { code: "exception code (default 4, server device failure)" },
  },
);

/** Sections that are not sensors (their keys are not fault targets). */
const NOT_SENSORS = new Set(["$schema", "device", "inputs", "detectors", "windows", "mqtt", "publish", "state", "log", "sim", "io"]);

function isPort(v: unknown): boolean {
  return (
    v !== null &&
    typeof v === "object" &&
    typeof (v as Record<string, unknown>)["path"] === "string" &&
    typeof (v as Record<string, unknown>)["baudRate"] === "number"
  );
}

/** True when `v` is, or holds within a few levels, a serial port `{ path, baudRate, … }`. */
function holdsPort(v: unknown, depth = 0): boolean {
  if (isPort(v)) return true;
  if (v === null || typeof v !== "object" || depth > 3) return false;
  return Object.values(v as Record<string, unknown>).some((c) => holdsPort(c, depth + 1));
}

/**
 * Names of serial sensors: each named entry (a key of a map in the config: `manholes.mh1`,
 * `bins.b4`, `identifiers.scanners.ped1`) that is or holds a serial port. A serial port is named
 * after its entry in traces and faults.
 */
export function serialPortNames(config: DeviceConfig): Set<string> {
  const out = new Set<string>();
  forEachRecordEntry(configSchema, config, (path, key, entry) => {
    if (!NOT_SENSORS.has(path[0] ?? "") && holdsPort(entry)) out.add(key);
  });
  return out;
}

/** Names of entries in sensor sections (manholes, bins, identifier readers…). */
function sensorNames(config: DeviceConfig): Set<string> {
  const out = new Set<string>();
  forEachRecordEntry(configSchema, config, (path, key, entry) => {
    if (!NOT_SENSORS.has(path[0] ?? "") && entry !== null && typeof entry === "object") out.add(key);
  });
  return out;
}

/** Valid target names per target type, for a config. */
export function faultTargets(config: DeviceConfig): Record<FaultTarget, Set<string>> {
  return {
    input: new Set(Object.keys(config.inputs)),
    detector: new Set(Object.keys(config.detectors)),
    port: serialPortNames(config),
    sensor: sensorNames(config),
  };
}

/**
 * `sim.faults`: every kind is one someone injects, every target exists and fits the kind, params
 * are known. Reports each problem as `sim.faults[i].field: message`.
 */
export const checkSimFaults: Check = ({ config, failed }) => {
  const out: ConfigIssue[] = [];
  const faults = config.sim?.faults ?? [];
  if (faults.length === 0) return out;
  const kinds = new Map(FAULT_KINDS.map((k) => [k.kind, k]));
  const targets = faultTargets(config);
  faults.forEach((f, i) => {
    const path = ["sim", "faults", i];
    const spec = kinds.get(f.kind);
    if (!spec) {
      const hint = closest(f.kind, [...kinds.keys()]);
      out.push({
        path: [...path, "kind"],
        message: `unknown fault kind ${JSON.stringify(f.kind)}; ${hint ? `did you mean ${hint}? ` : ""}known kinds: ${[...kinds.keys()].join(", ")}`,
      });
      return;
    }
    if (spec.targets.length === 0) {
      if (f.target !== undefined)
        out.push({ path: [...path, "target"], message: `${f.kind} applies to the whole device and takes no target; remove target` });
    } else if (f.target === undefined) {
      out.push({ path, message: `${f.kind} needs a target: the ${spec.targets.join(" or ")} it applies to` });
    } else if (!failed.has("inputs") && !failed.has("detectors") && !spec.targets.some((t) => targets[t].has(f.target!))) {
      const names = [...new Set(spec.targets.flatMap((t) => [...targets[t]]))];
      const hint = closest(f.target, names);
      out.push({
        path: [...path, "target"],
        message: `no ${spec.targets.join(" or ")} named ${JSON.stringify(f.target)} for ${f.kind}; ${hint ? `did you mean ${hint}?` : `known: ${names.join(", ") || "none in this config"}`}`,
      });
    }
    if (spec.instant && f.for !== undefined) out.push({ path: [...path, "for"], message: `${f.kind} happens at one instant; remove for` });
    const allowed = Object.keys(spec.params ?? {});
    for (const p of Object.keys(f.params ?? {})) {
      if (!allowed.includes(p)) {
        const hint = closest(p, allowed);
        out.push({
          path: [...path, "params", p],
          message: `${f.kind} has no parameter ${p}; ${hint ? `did you mean ${hint}?` : allowed.length > 0 ? `it takes ${allowed.join(", ")}` : "it takes none"}`,
        });
      }
    }
  });
  return out;
};
