// Lane types and a detector's resolved diagnostics without the detectors schema: the runtime's
// traffic feature imports this, so zod loads only where a config is validated (issue 15).

/**
 * IRIS lane types with their auto-fail thresholds (IRIS "Vehicle Detection": lane type table).
 * No hits: a detector that counts nothing for this long has failed. Locked on: occupancy 100 % for
 * this long is a fault, not traffic. Lanes where vehicles wait (queue, merge, exit…) get 30 min.
 */
export const LANE_TYPES = {
  mainline: { noHitsS: 4 * 3600, lockedOnS: 120 },
  auxiliary: { noHitsS: 24 * 3600, lockedOnS: 120 },
  cd: { noHitsS: 4 * 3600, lockedOnS: 120 },
  reversible: { noHitsS: 72 * 3600, lockedOnS: 120 },
  merge: { noHitsS: 12 * 3600, lockedOnS: 1800 },
  queue: { noHitsS: 12 * 3600, lockedOnS: 1800 },
  exit: { noHitsS: 8 * 3600, lockedOnS: 1800 },
  bypass: { noHitsS: 72 * 3600, lockedOnS: 1800 },
  passage: { noHitsS: 12 * 3600, lockedOnS: 1800 },
  velocity: { noHitsS: 4 * 3600, lockedOnS: 120 },
  omnibus: { noHitsS: 72 * 3600, lockedOnS: 1800 },
  green: { noHitsS: 72 * 3600, lockedOnS: 1800 },
  "wrong-way": { noHitsS: 8 * 3600, lockedOnS: 1800 },
  hov: { noHitsS: 8 * 3600, lockedOnS: 120 },
  hot: { noHitsS: 72 * 3600, lockedOnS: 120 },
  shoulder: { noHitsS: 72 * 3600, lockedOnS: 120 },
  parking: { noHitsS: 14 * 86400, lockedOnS: 14 * 86400 },
} as const;
export type LaneType = keyof typeof LANE_TYPES;
/** Diagnostic thresholds of one detector with lane-type defaults applied, in seconds. */
export interface ResolvedDiagnostics {
  enabled: boolean;
  chatterVehicles: number;
  chatterClearS: number;
  lockedOnS: number;
  heldPresenceS: number;
  noHitsS: number;
  noChangeS: number;
  spikeJump: number;
  spikeCount: number;
  spikeWindowS: number;
  mismatchVehicles: number;
  unpairedShare: number;
  unpairedWindow: number;
}

/**
 * What resolveDiagnostics reads of a detector's config (detectors.ts's schema output has this shape;
 * declared here so this module imports nothing from the schema's: no cycle).
 */
export interface DiagnosticsConfig {
  laneType: LaneType;
  diagnostics: Omit<ResolvedDiagnostics, "lockedOnS" | "heldPresenceS" | "noHitsS"> & {
    lockedOnS?: number | undefined;
    heldPresenceS?: number | undefined;
    noHitsS?: number | undefined;
  };
}

/** The thresholds a detector runs with: its overrides over its lane type's defaults. */
export function resolveDiagnostics(det: DiagnosticsConfig): ResolvedDiagnostics {
  const lane = LANE_TYPES[det.laneType];
  const d = det.diagnostics;
  const lockedOnS = d.lockedOnS ?? lane.lockedOnS;
  return {
    enabled: d.enabled,
    chatterVehicles: d.chatterVehicles,
    chatterClearS: d.chatterClearS,
    lockedOnS,
    heldPresenceS: d.heldPresenceS ?? (lockedOnS <= 120 ? 20 : lockedOnS),
    noHitsS: d.noHitsS ?? lane.noHitsS,
    noChangeS: d.noChangeS,
    spikeJump: d.spikeJump,
    spikeCount: d.spikeCount,
    spikeWindowS: d.spikeWindowS,
    mismatchVehicles: d.mismatchVehicles,
    unpairedShare: d.unpairedShare,
    unpairedWindow: d.unpairedWindow,
  };
}
