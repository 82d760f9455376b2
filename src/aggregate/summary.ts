import type { Window } from "../clock/windows.js";

/**
 * What aggregators hand to the publisher: one stream's measures for one closed window, in SenML
 * terms (name, registered unit, value). The publisher adds the envelope (device, sequence number,
 * time quality, schema version) and encodes.
 */
export type StreamKind = "traffic" | "level" | "bin" | "presence";

/** One SenML record's worth of data. Exactly one of v, vs, vb is set. */
export interface Measure {
  /** Name within the stream, e.g. `volume`. Letters, digits, `_`, `-`, `.` only. */
  n: string;
  /** SenML unit from the IANA registry (RFC 8428 §12.1, RFC 8798), e.g. `count`, `/`, `m/s`. */
  u?: string;
  v?: number;
  vs?: string;
  vb?: boolean;
}

export interface Summary {
  kind: StreamKind;
  /** Detector or sensor name (topic-safe). */
  name: string;
  window: Window;
  measures: Measure[];
  /**
   * Rebuilt after a crash from the window's last checkpoint (aggregate/checkpoint.ts): the window
   * ended early, at the checkpoint, and `window` covers only the time up to it.
   */
  recovered?: "crash";
}

/** Receives finished summaries (the publisher). Called once per stream per closed window. */
export type SummarySink = (summaries: Summary[]) => void;
