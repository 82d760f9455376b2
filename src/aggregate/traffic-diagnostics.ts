import type { ResolvedDiagnostics } from "../config/sections/detectors.js";
import { NTCIP_FAULT } from "./ntcip.js";

/** Every detector fault the device recognises, with its NTCIP 1202 code and what a technician checks. */
export const DETECTOR_FAULTS = {
  chatter: {
    bit: 1,
    code: NTCIP_FAULT.erraticOutput,
    disables: true,
    what: "chatter (more vehicles than any lane can carry)",
    check: "check the loop wiring for a loose splice and the card's sensitivity",
  },
  "locked-on": {
    bit: 2,
    code: NTCIP_FAULT.maxPresence,
    disables: true,
    what: "locked on (continuous presence)",
    check: "check the card (fault LED, reset it) and the loop: a fail-safe card holds a call on a broken loop",
  },
  "no-hits": {
    bit: 4,
    code: NTCIP_FAULT.noActivity,
    disables: true,
    what: "no hits (no vehicle)",
    check: "check the card's power and output wiring, and whether the lane is closed",
  },
  "no-change": {
    bit: 8,
    code: NTCIP_FAULT.noActivity,
    disables: true,
    what: "no change (identical occupancy)",
    check: "check the card's output: it repeats one pattern regardless of traffic",
  },
  spike: {
    bit: 16,
    code: NTCIP_FAULT.excessiveChange,
    disables: true,
    what: "occupancy spikes (repeated jumps)",
    check: "check the loop for an intermittent short or a crossing cable picking up noise",
  },
  mismatch: {
    bit: 32,
    code: NTCIP_FAULT.noActivity,
    disables: true,
    what: "silent while the other loop of the trap sees vehicles",
    check: "check this loop's card channel and its output wiring",
  },
  unpaired: {
    bit: 64,
    code: NTCIP_FAULT.erraticOutput,
    disables: false,
    what: "misses many vehicles the other loop sees",
    check: "check the loop sensitivity and for lost edges (quality.dropped)",
  },
} as const;
export type DetectorFault = keyof typeof DETECTOR_FAULTS;
const KINDS = Object.keys(DETECTOR_FAULTS) as DetectorFault[];
const DISABLING = KINDS.filter((k) => DETECTOR_FAULTS[k].disables).reduce((m, k) => m | DETECTOR_FAULTS[k].bit, 0);

/** Length of a diagnostics sample (IRIS evaluates its auto-fail rules on 30 s samples). */
export const SAMPLE_NS = 30e9;
/** Scans per 30 s sample (MnDOT-170 controllers count occupancy in 1/60 s scans). */
const SCANS_PER_SAMPLE = 1800;
/** Shortest mean headway real traffic sustains (2400 veh/h, well above saturation flow). */
const MIN_HEADWAY_NS = 1.5e9;
/** A loop silenced by the mismatch rule is back after this many vehicles of its own. */
const MISMATCH_CLEAR_VEHICLES = 3;

/** Where diagnostics report. */
export interface DiagnosticsHost {
  /** A loop went out of (or back into) service: its data must not count as traffic while out. */
  loopFault(loop: number, inFault: boolean, sinceNs: number, nowNs: number): void;
  /** A fault of one kind started or ended on a loop. */
  fault(loop: number, kind: DetectorFault, state: "start" | "end", tNs: number, nowNs: number): void;
}

/**
 * IRIS/MnDOT real-time auto-fail rules for the loops of one lane (DOMAIN.md §1 "Detector
 * diagnostics"), on 30 s samples per input, plus two speed-trap rules that see a dead loop within
 * minutes instead of hours: a loop silent while its partner counts `mismatchVehicles` in a row, and
 * a loop that misses a large share of its partner's vehicles.
 */
export class LaneDiagnostics {
  private readonly n: number;
  private sampleStart = 0;
  private readonly ons: Float64Array;
  private readonly onNs: Float64Array;
  private readonly onSince: Float64Array;
  private readonly lastOn: Float64Array;
  private readonly occ1: Float64Array;
  private readonly occ2: Float64Array;
  private readonly lastChatter: Float64Array;
  private readonly lastScans: Float64Array;
  private readonly sameSince: Float64Array;
  private readonly spikes: number[][];
  private readonly active: Uint8Array;
  private readonly run: Float64Array;
  private readonly runStart: Float64Array;
  private readonly onsSinceMismatch: Float64Array;
  private readonly outcomes: Uint8Array;
  private outPos = 0;
  private outFilled = 0;
  private readonly misses = new Float64Array(2);

  constructor(
    loops: number,
    private readonly presence: boolean,
    private readonly cfg: ResolvedDiagnostics,
    private readonly host: DiagnosticsHost,
  ) {
    this.n = loops;
    const f = () => new Float64Array(loops);
    this.ons = f();
    this.onNs = f();
    this.onSince = f().fill(-1);
    this.lastOn = f();
    this.occ1 = f().fill(NaN);
    this.occ2 = f().fill(NaN);
    this.lastChatter = f();
    this.lastScans = f().fill(-1);
    this.sameSince = f();
    this.spikes = Array.from({ length: loops }, () => []);
    this.active = new Uint8Array(loops);
    this.run = f();
    this.runStart = f();
    this.onsSinceMismatch = f();
    this.outcomes = new Uint8Array(cfg.unpairedWindow);
  }

  /** Start sampling at `nowNs`; a loop already on counts its presence from now. */
  start(nowNs: number, levels: readonly number[]): void {
    this.sampleStart = nowNs;
    for (let k = 0; k < this.n; k++) {
      this.lastOn[k] = nowNs;
      this.onSince[k] = levels[k] === 1 ? nowNs : -1;
    }
  }

  /** Faults active on a loop, by name. */
  faults(loop: number): DetectorFault[] {
    const m = this.active[loop]!;
    return KINDS.filter((k) => (m & DETECTOR_FAULTS[k].bit) !== 0);
  }

  /** True while a fault takes the loop out of counting. */
  inFault(loop: number): boolean {
    return (this.active[loop]! & DISABLING) !== 0;
  }

  on(loop: number, t: number): void {
    this.ons[loop]!++;
    this.onSince[loop] = t;
    this.lastOn[loop] = t;
    const a = this.active[loop]!;
    if (a === 0 || !this.cfg.enabled) return;
    if (a & DETECTOR_FAULTS["no-hits"].bit) this.set(loop, "no-hits", false, t, t);
    if (a & DETECTOR_FAULTS.mismatch.bit && ++this.onsSinceMismatch[loop]! >= MISMATCH_CLEAR_VEHICLES)
      this.set(loop, "mismatch", false, t, t);
  }

  off(loop: number, t: number): void {
    const since = this.onSince[loop]!;
    if (since >= 0) this.onNs[loop]! += t - Math.max(since, this.sampleStart);
    this.onSince[loop] = -1;
    if (this.active[loop]! & DETECTOR_FAULTS["locked-on"].bit) this.set(loop, "locked-on", false, t, t);
  }

  /** A speed-trap vehicle seen by both loops, decided at `t`. */
  paired(t: number): void {
    this.run[0] = 0;
    this.run[1] = 0;
    this.outcome(0, t);
  }

  /** A speed-trap vehicle seen by loop `seen` only, decided at `t`. */
  unpaired(seen: number, t: number): void {
    const silent = 1 - seen;
    if (this.run[seen] === 0) this.runStart[seen] = t;
    this.run[seen]!++;
    // the run must look like traffic, not chatter: no lane carries more than 2400 veh/h
    const plausible = t - this.runStart[seen]! >= (this.run[seen]! - 1) * MIN_HEADWAY_NS;
    // a loop holding a presence is not silent: if it is stuck, locked-on will say so
    const holding = this.onSince[silent]! >= 0;
    if (
      this.cfg.enabled &&
      plausible &&
      !holding &&
      this.run[seen]! >= this.cfg.mismatchVehicles &&
      !(this.active[silent]! & DETECTOR_FAULTS.mismatch.bit)
    ) {
      this.onsSinceMismatch[silent] = 0;
      this.set(silent, "mismatch", true, this.runStart[seen]!, t);
    }
    this.outcome(silent + 1, t);
  }

  /** End of a 30 s sample: evaluate the rules. */
  tick(now: number): void {
    const dur = now - this.sampleStart;
    if (dur <= 0) return;
    const c = this.cfg;
    let maxOns = 0;
    let minOns = Infinity;
    for (let k = 0; k < this.n; k++) {
      const since = this.onSince[k]!;
      const onNs = this.onNs[k]! + (since >= 0 ? now - Math.max(since, this.sampleStart) : 0);
      const occ = onNs / dur;
      if (c.enabled) this.evaluate(k, now, occ, dur);
      if (this.ons[k]! > maxOns) maxOns = this.ons[k]!;
      if (this.ons[k]! < minOns) minOns = this.ons[k]!;
      this.ons[k] = 0;
      this.onNs[k] = 0;
    }
    if (c.enabled) this.judgeUnpaired(now, maxOns, minOns);
    this.sampleStart = now;
  }

  private evaluate(k: number, now: number, occ: number, dur: number): void {
    const c = this.cfg;
    const bit = (f: DetectorFault) => (this.active[k]! & DETECTOR_FAULTS[f].bit) !== 0;
    // chatter: threshold per 30 s, scaled for a shorter first sample
    if (this.ons[k]! >= Math.ceil((c.chatterVehicles * dur) / SAMPLE_NS)) {
      this.lastChatter[k] = now;
      if (!bit("chatter")) this.set(k, "chatter", true, now, now);
    } else if (bit("chatter") && now - this.lastChatter[k]! >= c.chatterClearS * 1e9) {
      this.set(k, "chatter", false, now, now);
    }
    const since = this.onSince[k]!;
    if (since >= 0 && now - since >= c.lockedOnS * 1e9 && !bit("locked-on")) this.set(k, "locked-on", true, since, now);
    if (since < 0 && now - this.lastOn[k]! >= c.noHitsS * 1e9 && !bit("no-hits")) this.set(k, "no-hits", true, this.lastOn[k]!, now);
    if (!this.presence || bit("locked-on") || bit("chatter")) {
      this.occ2[k] = NaN;
      this.occ1[k] = NaN;
      return;
    }
    // no change: occupancy above zero and identical, to the scan, for noChangeS
    const scans = Math.round(occ * SCANS_PER_SAMPLE);
    if (scans > 0 && scans === this.lastScans[k]) {
      if (!bit("no-change") && now - this.sameSince[k]! >= c.noChangeS * 1e9) this.set(k, "no-change", true, now, now);
    } else {
      this.lastScans[k] = scans;
      this.sameSince[k] = this.sampleStart;
      if (bit("no-change")) this.set(k, "no-change", false, now, now);
    }
    // spike: the previous sample stood above both its neighbours by spikeJump
    const mid = this.occ1[k]!;
    const before = this.occ2[k]!;
    const list = this.spikes[k]!;
    // a burst of presence out of light traffic; in a queue every sample is high and none qualifies
    const around = Math.max(before, occ);
    if (mid - around >= c.spikeJump && around < c.spikeJump) list.push(this.sampleStart);
    while (list.length > 0 && now - list[0]! > c.spikeWindowS * 1e9) list.shift();
    if (list.length >= c.spikeCount && !bit("spike")) this.set(k, "spike", true, now, now);
    else if (list.length === 0 && bit("spike")) this.set(k, "spike", false, now, now);
    this.occ2[k] = mid;
    this.occ1[k] = occ;
  }

  /** Record one trap vehicle's outcome (0 both loops, 1 missed by upstream, 2 missed by downstream). */
  private outcome(code: number, _t: number): void {
    const N = this.outcomes.length;
    if (this.outFilled === N) {
      const old = this.outcomes[this.outPos]!;
      if (old > 0) this.misses[old - 1]!--;
    } else {
      this.outFilled++;
    }
    this.outcomes[this.outPos] = code;
    this.outPos = (this.outPos + 1) % N;
    if (code > 0) this.misses[code - 1]!++;
  }

  /**
   * The unpaired-share rule, judged once per sample: not while a loop is out (its partner then
   * counts alone), nor in a sample where a loop counted more than any lane carries (chatter on one
   * loop would make the other look blind).
   */
  private judgeUnpaired(now: number, maxOns: number, minOns: number): void {
    const N = this.outcomes.length;
    if (this.n < 2 || this.outFilled < N) return;
    if (this.inFault(0) || this.inFault(1) || maxOns >= this.cfg.chatterVehicles / 2 || maxOns > 3 * minOns + 4) return;
    for (let k = 0; k < this.n; k++) {
      const share = this.misses[k]! / N;
      const on = (this.active[k]! & DETECTOR_FAULTS.unpaired.bit) !== 0;
      // a loop holding a presence longer than a vehicle takes is not missing vehicles, it is stuck:
      // locked-on will say so; "unpaired" would send the technician to the sensitivity (field report)
      const since = this.onSince[k]!;
      if (!on && since >= 0 && now - since >= this.cfg.heldPresenceS * 1e9) continue;
      if (!on && share > this.cfg.unpairedShare) this.set(k, "unpaired", true, now, now);
      else if (on && share < this.cfg.unpairedShare / 2) this.set(k, "unpaired", false, now, now);
    }
  }

  /** Forget the trap evidence (a loop went out of service: what it saw meanwhile proves nothing). */
  private resetTrapEvidence(): void {
    this.outcomes.fill(0);
    this.outPos = 0;
    this.outFilled = 0;
    this.misses.fill(0);
    this.run.fill(0);
  }

  private set(loop: number, kind: DetectorFault, on: boolean, tNs: number, nowNs: number): void {
    const before = this.active[loop]!;
    const bit = DETECTOR_FAULTS[kind].bit;
    const after = on ? before | bit : before & ~bit;
    if (after === before) return;
    this.active[loop] = after;
    this.host.fault(loop, kind, on ? "start" : "end", tNs, nowNs);
    const was = (before & DISABLING) !== 0;
    const is = (after & DISABLING) !== 0;
    if (was !== is) {
      // what the trap saw while a loop was going out or coming back proves nothing about the other
      this.resetTrapEvidence();
      this.host.loopFault(loop, is, tNs, nowNs);
    }
  }
}
