/**
 * One injectable fault kind, in the shape of the simulator's fault registry (`FAULT_KINDS` in
 * src/config/sim-faults.ts): its name, what it targets, and its parameters with their defaults.
 * The simulator's traffic scenario (src/sim/traffic-faults.ts) injects them; the table lives here,
 * below the simulator, because config validation names them and config never imports sim/.
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
