import { NS_PER_S } from "../clock/clock.js";
import type { DeviceConfig } from "../config/schema.js";
import type { SimFault } from "../config/sections/sim.js";

/**
 * One injectable fault kind, in the shape of the simulator's fault registry (`FAULT_KINDS` in
 * src/config/sim-faults.ts): its name, what it targets, and its parameters with their defaults.
 */
export interface TrafficFaultKind {
  kind: string;
  targets: readonly ("input" | "detector")[];
  description: string;
  params?: Readonly<Record<string, string>>;
}

/** Faults of loop detector cards and their wiring, injected by the traffic scenario. */
export const TRAFFIC_FAULT_KINDS: readonly TrafficFaultKind[] = [
  {
    kind: "stuck-on",
    targets: ["input", "detector"],
    description: "the card output holds a call regardless of traffic (a fail-safe card on a broken loop)",
  },
  { kind: "stuck-off", targets: ["input", "detector"], description: "the card output never calls (a cut output wire, a dead card)" },
  {
    kind: "chatter",
    targets: ["input", "detector"],
    description: "the output pulses on its own, 30–120 ms at a time (a loose splice, crosstalk)",
    params: { rateHz: "mean pulses per second (default 2)" },
  },
  {
    kind: "bounce",
    targets: ["input", "detector"],
    description: "relay contact bounce at every switch of the output; must never become a vehicle",
    params: { count: "bounces per switch (default 3)", widthMs: "duration of the bounce burst, ms (default 1)" },
  },
  {
    kind: "drop-edges",
    targets: ["input", "detector"],
    description: "edges are lost before the board: a share of vehicles never shows on the target loop",
    params: { share: "share of vehicles lost, 0–1 (default 0.2)" },
  },
  {
    kind: "intermittent",
    targets: ["input", "detector"],
    description: "the output locks on for a few seconds, again and again (an intermittent short): occupancy spikes",
    params: { everyS: "seconds between bursts (default 60)", forS: "length of each burst, s (default 10)" },
  },
];

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
