// The simulator's generic fault kinds without the config schema: src/sim/faults.ts imports them,
// so `roadside sim` loads zod only in its config worker (issue 15).

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
