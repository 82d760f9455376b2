import { NS_PER_S } from "../clock/clock.js";
import type { DeviceConfig } from "../config/schema.js";
import type { SimFault } from "../config/sections/sim.js";
import { TRAFFIC_FAULT_KINDS } from "../config/traffic-fault-kinds.js";

/** The kinds themselves are config vocabulary (validation checks `sim.faults` against them): src/config/traffic-fault-kinds.ts. */
export { TRAFFIC_FAULT_KINDS, type TrafficFaultKind } from "../config/traffic-fault-kinds.js";

const KINDS = new Set(TRAFFIC_FAULT_KINDS.map((k) => k.kind));

/** A traffic fault resolved to the card channels of one lane. */
export interface LaneFault {
  kind: string;
  /** Config target as written (an input or a detector name). */
  target: string;
  /** Loop indexes of the lane it affects (0 = upstream). */
  loops: number[];
  /** Input names it affects. */
  inputs: string[];
  startNs: number;
  /** Infinity when it lasts to the end of the run. */
  endNs: number;
  params: Record<string, number>;
}

/** The traffic faults of `sim.faults`, by detector. Faults of other kinds or targets are left to other scenarios. */
export function trafficFaults(config: DeviceConfig, faults: readonly SimFault[], startNs: number): Map<string, LaneFault[]> {
  const out = new Map<string, LaneFault[]>();
  for (const f of faults) {
    if (!KINDS.has(f.kind) || f.target === undefined) continue;
    for (const [name, det] of Object.entries(config.detectors)) {
      const loops = f.target === name ? det.loops.map((_, k) => k) : det.loops.flatMap((input, k) => (input === f.target ? [k] : []));
      if (loops.length === 0) continue;
      const list = out.get(name) ?? [];
      list.push({
        kind: f.kind,
        target: f.target,
        loops,
        inputs: loops.map((k) => det.loops[k]!),
        startNs: startNs + f.at * NS_PER_S,
        endNs: f.for === undefined ? Infinity : startNs + (f.at + f.for) * NS_PER_S,
        params: f.params ?? {},
      });
      out.set(name, list);
    }
  }
  return out;
}
