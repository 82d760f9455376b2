import type { VirtualClock } from "../../src/clock/virtual.js";
import type { DecodedMessage } from "../../src/publish/envelope.js";
import type { TruthRecord } from "../../src/sim/scenario.js";
import type { BadFrameTruth, DepositTruth, SightingTruth } from "../../src/sim/identifiers.js";

/** The monotonic span [startNs, endNs) a published window covers. */
export function span(clock: VirtualClock, msg: DecodedMessage): { startNs: number; endNs: number } {
  const startNs = clock.toMonoNs(msg.windowStartMs);
  return { startNs, endNs: startNs + msg.observedS * 1e9 };
}

export interface ScannerTruth {
  wifi: { random: number; global: number; sightings: number };
  ble: { random: number; global: number; sightings: number };
}

/** True distinct addresses (by address id) and sightings of one scanner in [startNs, endNs). */
export function scannerTruth(
  truth: readonly TruthRecord[],
  scanner: string,
  startNs: number,
  endNs: number,
  minRssi?: number,
): ScannerTruth {
  const sets = {
    wifi: { random: new Set<number>(), global: new Set<number>() },
    ble: { random: new Set<number>(), global: new Set<number>() },
  };
  const sightings = { wifi: 0, ble: 0 };
  for (const r of truth) {
    if (r.kind !== "sighting") continue;
    const s = r as SightingTruth;
    if (s.scanner !== scanner || s.lost || s.tNs < startNs || s.tNs >= endNs) continue;
    if (minRssi !== undefined && s.rssi < minRssi) continue;
    sets[s.radio][s.random ? "random" : "global"].add(s.address);
    sightings[s.radio]++;
  }
  return {
    wifi: { random: sets.wifi.random.size, global: sets.wifi.global.size, sightings: sightings.wifi },
    ble: { random: sets.ble.random.size, global: sets.ble.global.size, sightings: sightings.ble },
  };
}

/** True deposits, distinct users and corrupted frames of one reader in [startNs, endNs). */
export function readerTruth(
  truth: readonly TruthRecord[],
  reader: string,
  startNs: number,
  endNs: number,
): { deposits: number; users: number; badFrames: number } {
  const users = new Set<number>();
  let deposits = 0;
  let badFrames = 0;
  for (const r of truth) {
    if (r.kind === "deposit") {
      const d = r as DepositTruth;
      if (d.reader !== reader || d.lost || d.tNs < startNs || d.tNs >= endNs) continue;
      deposits++;
      users.add(d.user);
    } else if (r.kind === "bad-frame") {
      const b = r as BadFrameTruth;
      if (b.reader === reader && b.tNs >= startNs && b.tNs < endNs) badFrames++;
    }
  }
  return { deposits, users: users.size, badFrames };
}
