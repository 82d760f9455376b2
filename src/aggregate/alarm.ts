import type { Measure } from "./summary.js";

/**
 * An event that cannot wait for a window to close (DESIGN.md "MQTT contract": `…/alarm/{sensor}`):
 * overflow start/end, fire, tilt, cover open, detector fault. Committed and published at once, and
 * dropped last when the outbox is full.
 */
export interface Alarm {
  /** Detector or sensor name (topic-safe): the alarm goes to `…/alarm/{source}`. */
  source: string;
  /** What happened, kebab-case: `overflow`, `spill`, `fire`, `tilt`, `cover-open`, `detector-fault`, `wrong-way`… */
  kind: string;
  /** `start`/`end` for conditions that last, `event` for one-off happenings. */
  state: "start" | "end" | "event";
  /** Monotonic instant of the event, ns. */
  tNs: number;
  /** NTCIP 1202-style fault code for detector faults (210 max presence, 211 no activity…). */
  code?: number;
  /** One line for people; never contains identifiers. */
  message?: string;
  /** Extra values, e.g. peak level, duration. */
  measures?: Measure[];
}

export type AlarmSink = (alarm: Alarm) => void;
