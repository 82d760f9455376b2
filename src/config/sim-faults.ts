import type { ConfigIssue } from "./issues.js";
import { closest } from "./issues.js";
import type { DeviceConfig } from "./schema.js";
import { configSchema } from "./schema.js";
import { forEachRecordEntry } from "./schema-walk.js";
import { TRAFFIC_FAULT_KINDS } from "./traffic-fault-kinds.js";
import type { Check } from "./check.js";
import { type FaultKind, type FaultTarget, GENERIC_FAULT_KINDS } from "./fault-kinds.js";

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

// zod-free, for the simulator (issue 15); kept here for other importers
export { type FaultKind, type FaultTarget, GENERIC_FAULT_KINDS } from "./fault-kinds.js";
