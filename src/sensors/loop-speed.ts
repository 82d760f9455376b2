/**
 * Speed and length from loop detector timings (DOMAIN.md §1), as IRIS and PeMS compute them.
 * Pure functions of primitives: called once per vehicle on the hot path, they allocate nothing.
 */

/** Metres per second in one mile per hour (exact: 1 mi = 1609.344 m). */
export const MS_PER_MPH = 0.44704;
/** Metres in one mile. */
export const M_PER_MILE = 1609.344;
/** Metres in one foot. */
export const M_PER_FOOT = 0.3048;

/**
 * IRIS validity rules for a speed-trap vehicle: count it always, but report its speed only when
 * both loops were on at least 20 ms, their on-times agree within ±10 %, and the speed is between
 * 5 and 120 mph. (Spacing ≥ 6 ft is checked in the config.)
 */
export const TRAP_RULES = {
  minOnTimeNs: 20e6,
  onTimeAgreement: 0.1,
  minSpeedMs: 5 * MS_PER_MPH,
  maxSpeedMs: 120 * MS_PER_MPH,
  /** Longest plausible vehicle: the upper bound of the IRIS long class (255 ft). */
  maxLengthM: 255 * M_PER_FOOT,
} as const;

/**
 * Speed of one vehicle over a trap, m/s, or NaN when the IRIS rules reject it.
 * v = D / Δt with Δt the mean of the leading-edge (dOn − uOn) and trailing-edge (dOff − uOff)
 * transit times: averaging both edges cancels a card that switches on and off with different delays.
 */
export function trapSpeed(uOn: number, uOff: number, dOn: number, dOff: number, spacingM: number): number {
  const onU = uOff - uOn;
  const onD = dOff - dOn;
  if (!(onU >= TRAP_RULES.minOnTimeNs && onD >= TRAP_RULES.minOnTimeNs)) return NaN;
  const diff = onU > onD ? onU - onD : onD - onU;
  if (diff > TRAP_RULES.onTimeAgreement * 0.5 * (onU + onD)) return NaN;
  const lead = dOn - uOn;
  const trail = dOff - uOff;
  if (!(lead > 0 && trail > 0)) return NaN;
  const v = spacingM / ((lead + trail) * 0.5e-9);
  return v >= TRAP_RULES.minSpeedMs && v <= TRAP_RULES.maxSpeedMs ? v : NaN;
}

/**
 * Vehicle length, m: L = v · t_on − L_loop with t_on the mean of both loops' on-times (a vehicle
 * occupies a loop while it covers its own length plus the loop's). NaN when not in (0, 255 ft].
 */
export function trapLength(speedMs: number, onTimeUpNs: number, onTimeDownNs: number, loopLengthM: number): number {
  const L = speedMs * (onTimeUpNs + onTimeDownNs) * 0.5e-9 - loopLengthM;
  return L > 0 && L <= TRAP_RULES.maxLengthM ? L : NaN;
}

/** IRIS: below 1.2 veh/mi a 30 s sample holds too few vehicles to estimate a speed from a single loop. */
export const MIN_DENSITY_PER_M = 1.2 / M_PER_MILE;

/**
 * Single-loop speed estimate from the effective vehicle length g ("g-factor"), m/s:
 * density k = occ / g, flow q = N / T, v = q / k = q · g / occ. NaN when no vehicle, no occupancy,
 * or the density is at or below the IRIS floor of 1.2 veh/mi.
 */
export function gFactorSpeed(volume: number, seconds: number, occupancy: number, gM: number): number {
  if (!(volume > 0 && seconds > 0 && occupancy > 0 && gM > 0)) return NaN;
  const density = occupancy / gM;
  if (density <= MIN_DENSITY_PER_M) return NaN;
  return volume / seconds / density;
}

/** PeMS 5-minute form, mph: v = vol · g_ft / (occ · 440) (440 = 5280 ft/mi ÷ 12 five-minute periods per hour). */
export function pemsSpeedMph(volume5min: number, occupancy: number, gFt: number): number {
  return (volume5min * gFt) / (occupancy * 440);
}

/** IRIS density, veh/mi: occupancy % / (g in miles · 100). */
export function irisDensityPerMile(occupancyPercent: number, gFt: number): number {
  return occupancyPercent / ((gFt / 5280) * 100);
}
