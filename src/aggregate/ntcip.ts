/**
 * NTCIP 1202 (Actuated Signal Controller) detector conventions, as the traffic-signal world reads
 * them: volume 0–254 with 255 = overflow, occupancy 0–200 in 0.5 % steps, and values 210–217 in the
 * occupancy byte as fault codes instead of an occupancy (DOMAIN.md §1 "Standard intervals").
 * Detector-fault alarms carry these codes so a signal engineer recognises them.
 */

/** NTCIP 1202 detector fault codes (occupancy byte values 210–217). */
export const NTCIP_FAULT = {
  /** Presence held longer than the maximum presence time (a locked-on loop or card). */
  maxPresence: 210,
  /** No activity: no actuation for longer than expected. */
  noActivity: 211,
  /** Open loop (reported by cards that can tell; fail-safe cards show it as a constant call). */
  openLoop: 212,
  /** Shorted loop (reported by cards that can tell). */
  shortedLoop: 213,
  /** Excessive change of inductance / occupancy. */
  excessiveChange: 214,
  /** Erratic output: chatter, counts no traffic can produce. */
  erraticOutput: 217,
} as const;

export type NtcipFaultCode = (typeof NTCIP_FAULT)[keyof typeof NTCIP_FAULT];

const FAULT_NAMES: Readonly<Record<number, string>> = {
  210: "max presence",
  211: "no activity",
  212: "open loop",
  213: "shorted loop",
  214: "excessive change",
  217: "erratic output",
};

/** Human name of an NTCIP 1202 detector fault code, or undefined. */
export function ntcipFaultName(code: number): string | undefined {
  return FAULT_NAMES[code];
}

/** A decoded NTCIP occupancy byte: either an occupancy (share 0–1) or a fault. */
export type NtcipOccupancy = { occupancy: number } | { fault: number; name: string } | { invalid: number };

/**
 * Decode an NTCIP 1202 occupancy byte: 0–200 are 0.5 % steps (37 → 18.5 %); 210–217 are fault codes,
 * never an occupancy; anything else is invalid. Never throws.
 */
export function decodeNtcipOccupancy(raw: number): NtcipOccupancy {
  if (Number.isInteger(raw) && raw >= 0 && raw <= 200) return { occupancy: raw / 200 };
  const name = Number.isInteger(raw) ? FAULT_NAMES[raw] : undefined;
  if (name !== undefined) return { fault: raw, name };
  return { invalid: raw };
}

/** Encode an occupancy share (0–1) as an NTCIP 1202 byte (0.5 % steps, clipped to 0–200). */
export function encodeNtcipOccupancy(share: number): number {
  if (!(share > 0)) return 0;
  return Math.min(200, Math.round(share * 200));
}

/** Encode a volume as an NTCIP 1202 byte: 0–254, 255 when it overflows. */
export function encodeNtcipVolume(count: number): number {
  if (!(count > 0)) return 0;
  return count >= 255 ? 255 : Math.floor(count);
}
