import type { DeviceConfig } from "../config/schema.js";
import { resolveDiagnostics } from "../config/sections/detectors.js";

/** What a digital input is wired to, as far as the wiring check cares. */
export type InputKind = "loop" | "pulse-loop" | "cover" | "tilt" | "lid" | "unused";

/** How the wiring check judges one input: its kind, the bound on a held activation, and the hints. */
export interface InputRole {
  kind: InputKind;
  /** The config entry that uses it, e.g. `detectors.lane1`, `manholes.mh1.cover`. */
  owner: string | undefined;
  /**
   * An activation held longer than this (s) is a fault, not the thing being measured; undefined:
   * no bound shorter than a day (a switch whose active state is a legitimate state).
   */
  stuckAfterS: number | undefined;
  /** Why that bound (quoted in the result). */
  boundWhy: string;
  /** What to do when the input shows no edge during the watch. */
  noEdges: (where: string) => string;
  /** What to do when it was held active past the bound (or all the watch, for a switch). */
  stuck: (where: string, name: string) => string;
  /** What "active" means for this input, e.g. `a vehicle on the loop`, `cover open`. */
  activeMeans: string;
}

/**
 * DOMAIN.md §1: pulse-mode cards give one 125–250 ms pulse per vehicle, so a pulse held for a
 * second is no pulse. Four times the longest pulse leaves room for slow opto-isolators.
 */
const PULSE_MAX_S = 1;

const polarity = (name: string): string => `an active-high card or switch needs inputs.${name}.activeLow: false`;

/** The role of every input of a config, by input name. Inputs no sensor uses are `unused`. */
export function inputRoles(config: DeviceConfig): Map<string, InputRole> {
  const roles = new Map<string, InputRole>();
  for (const [det, d] of Object.entries(config.detectors)) {
    const diag = resolveDiagnostics(d);
    for (const input of d.loops) {
      if (d.mode === "pulse") {
        roles.set(input, {
          kind: "pulse-loop",
          owner: `detectors.${det}`,
          stuckAfterS: PULSE_MAX_S,
          boundWhy: "a pulse-mode card's pulse lasts 125–250 ms",
          activeMeans: "a pulse",
          noEdges: (w) =>
            `let a vehicle pass (or press the card's test button) and run doctor again with --seconds 60; still none: check the wire from the card's output to ${w} and the common ground`,
          stuck: (w, n) =>
            `a pulse-mode card never holds its output: the card is in presence mode (set detectors.${det}.mode: presence, or switch the card to pulse), a short to ground on ${w}, or the wrong polarity (${polarity(n)})`,
        });
      } else {
        roles.set(input, {
          kind: "loop",
          owner: `detectors.${det}`,
          stuckAfterS: diag.heldPresenceS,
          boundWhy: `detectors.${det} counts a presence held ${diag.heldPresenceS} s as a fault (diagnostics.heldPresenceS, laneType ${d.laneType})`,
          activeMeans: "a vehicle on the loop",
          noEdges: (w) =>
            `let a vehicle pass (or press the card's test button) and run doctor again with --seconds 60; still none: check the wire from the card's output to ${w} and the common ground`,
          stuck: (w, n) =>
            `no vehicle stays on a loop that long: a fail-safe card calls on a broken loop or feeder (check the card's fault LED and the loop's resistance and insulation), or a short to ground on ${w}, or the wrong polarity (${polarity(n)})`,
        });
      }
    }
  }
  for (const [name, m] of Object.entries(config.manholes)) {
    if (!m.cover) continue;
    roles.set(m.cover.input, {
      kind: "cover",
      owner: `manholes.${name}.cover`,
      stuckAfterS: undefined,
      boundWhy: "an open cover is a state, not a fault",
      activeMeans: "cover open",
      noEdges: (w) =>
        `lift the cover (or pass a magnet over the reed switch) while doctor watches; no edge: check the switch's wire to ${w} and the common ground`,
      stuck: (w, n) =>
        `reads open all the time: if the cover is on, the magnet is not over the reed switch (realign it) or the polarity is wrong (${polarity(n)}); check the wire to ${w}`,
    });
  }
  for (const [name, b] of Object.entries(config.bins)) {
    if (b.tilt) {
      roles.set(b.tilt.input, {
        kind: "tilt",
        owner: `bins.${name}.tilt`,
        stuckAfterS: b.tilt.confirm,
        boundWhy: `bins.${name}.tilt raises its alarm after ${b.tilt.confirm} s tilted (tilt.confirm)`,
        activeMeans: "bin tilted",
        noEdges: (w) => `tip the sensor briefly while doctor watches; no edge: check the tilt switch's wire to ${w} and the common ground`,
        stuck: (w, n) =>
          `reads tilted: if the bin stands upright, the tilt switch is mounted at an angle or the polarity is wrong (${polarity(n)}); check the wire to ${w}`,
      });
    }
    if (b.lid) {
      roles.set(b.lid.input, {
        kind: "lid",
        owner: `bins.${name}.lid`,
        stuckAfterS: b.lid.alarmAfter,
        boundWhy: `bins.${name}.lid raises its alarm after ${b.lid.alarmAfter} s open (lid.alarmAfter)`,
        activeMeans: "lid open",
        noEdges: (w) => `open and close the lid while doctor watches; no edge: check the lid switch's wire to ${w} and the common ground`,
        stuck: (w, n) =>
          `reads open all the time: if the lid is shut, the switch is misaligned or the polarity is wrong (${polarity(n)}); check the wire to ${w}`,
      });
    }
  }
  for (const name of Object.keys(config.inputs)) {
    if (roles.has(name)) continue;
    roles.set(name, {
      kind: "unused",
      owner: undefined,
      stuckAfterS: undefined,
      boundWhy: "no sensor uses this input",
      activeMeans: "active",
      noEdges: (w) =>
        `no sensor uses this input: remove it from inputs, or make it change (the card's test button, the switch) and check the wire to ${w}`,
      stuck: (w, n) => `held active: check the wire to ${w} and the polarity (${polarity(n)})`,
    });
  }
  return roles;
}
