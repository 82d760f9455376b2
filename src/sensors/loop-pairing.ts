import { trapLength, trapSpeed } from "./loop-speed.js";

/** What the pairing of a speed trap reports. All calls carry primitives (hot path). */
export interface PassageListener {
  /**
   * One vehicle, counted at its first detection: the upstream leading edge, or the downstream one
   * for a vehicle the upstream loop did not see (it changed lanes between the loops, or the upstream
   * edges were lost). Called as soon as the vehicle is known, so it lands in the right window.
   */
  count(tNs: number): void;
  /**
   * A vehicle crossed both loops; its passage completed (trailing edge off the downstream loop) at
   * `tEndNs`. `speedMs` is NaN when the IRIS rules reject the timing, `lengthM` when it is implausible.
   */
  measured(tEndNs: number, speedMs: number, lengthM: number): void;
  /** A vehicle seen by loop `loop` only; decided at `tNs`. */
  unpaired(loop: number, tNs: number): void;
  /** A vehicle crossed the trap the wrong way (downstream loop first). */
  wrongWay(tNs: number, speedMs: number): void;
}

/** Leading edge of the downstream detection in progress. */
const D_ON = 0;
/** On and off of the last downstream detection without a partner: maybe the first half of a wrong-way vehicle (-1: none). */
const WW_ON = 1;
const WW_OFF = 2;
/** Leading-edge transit of the last vehicle with a valid speed (slow traffic waits longer). */
const TRANSIT = 3;
/** On-times of the two latest complete upstream detections (newest, and the one before). */
const NEWEST_ON_TIME = 5;
const PREV_ON_TIME = 4;
/** Pending upstream detections kept (a trap holds 2–3 vehicles at most, even in a jam). */
const CAP = 16;
const MASK = CAP - 1;
/** The up detection may be the second loop of a wrong-way vehicle: not counted until resolved. */
const WW_CANDIDATE = 1;
/**
 * Shortest vehicle the transit bound allows for, m: a motorcycle's magnetic length is about 1.5 m
 * (IRIS puts motorcycles below 7 ft).
 */
const MIN_VEHICLE_M = 1.5;
/** Speed may change this much between the loops in free flow (a vehicle braking hard over 6 m). */
const SPEED_CHANGE = 1.5;
/**
 * A wrong-way passage is reported from 30 km/h (8.33 m/s): slower reverse movements are vehicles
 * backing up in a queue, and a false wrong-way alarm sends police out.
 */
const WW_MIN_SPEED_MS = 30 / 3.6;
/** On-times or transit times this far apart belong to two vehicles, in free flow. */
const STRANGER_RATIO = 1.5;
/** ... judged only below this on-time (a 25 m truck at 50 km/h is on the loop 1.9 s). */
const STRANGER_MAX_ON_NS = 2e9;
/** Extra wait in slow traffic: a vehicle may stop between the loops in a queue. */
const STOP_ALLOWANCE_NS = 60e9;
/** Below this speed (8 m/s ≈ 29 km/h) traffic is treated as congested (stop-and-go possible). */
const CONGESTED_MS = 8;
/** An on-time above 1 s means a slow or a very long vehicle (a 25 m truck at 90 km/h is on ~1 s). */
const SLOW_ON_NS = 1e9;

/**
 * Pairs the detections of a speed trap's two loops into vehicles (DOMAIN.md §1 "dual loop";
 * docs/traffic.md "Pairing the loops of a speed trap").
 *
 * Vehicles cannot overtake within a few metres, so downstream detections match pending upstream ones
 * first in, first out. Each vehicle is counted once, as soon as it is first seen: every upstream
 * detection counts, and a downstream detection counts only when no pending upstream one can be its
 * own. An upstream detection waits for its partner as long as its own on-time allows at free-flow
 * speed, and a minute longer in slow traffic (a vehicle may stop between the loops). A downstream
 * detection takes the first pending upstream one whose timing is plausible (IRIS-valid, a vehicle of
 * at least 1.5 m); those before it left the lane between the loops. In free flow, timings half again
 * apart are two vehicles. A downstream detection followed within a transit time by a mirrored
 * upstream one, at 30 km/h or more, with no forward partner coming, is a wrong-way driver.
 * Mis-pairings never change counts; they only cost a speed.
 *
 * Events must arrive in time order across loops (LoopDriver guarantees it). Allocation-free.
 */
export class TrapPairing {
  private readonly uOn = new Float64Array(CAP);
  private readonly uOff = new Float64Array(CAP);
  private readonly uFlag = new Uint8Array(CAP);
  /** Sequence numbers of the oldest pending and the next upstream detection. */
  private head = 0;
  private tail = 0;
  private wwPending = 0;
  /** The downstream detection in progress: its partner's sequence number, whether it was counted. */
  private dActive = false;
  private dPartner = -1;
  private dCounted = false;
  /** An upstream detection already claimed to be its second half. */
  private wwClaimed = false;
  /** Times, ns, in a typed array so V8 never boxes them (indexes D_ON … NEWEST_ON_TIME). */
  private readonly t = new Float64Array([0, -1, -1, 0, 0, 0]);
  private readonly congestedTransitNs: number;
  private readonly transitPerOnNs: number;
  private readonly enabled = [true, true];

  constructor(
    private readonly spacingM: number,
    private readonly loopLengthM: number,
    private readonly out: PassageListener,
  ) {
    this.congestedTransitNs = (spacingM / CONGESTED_MS) * 1e9;
    // at constant speed a vehicle on for t_on covers the spacing in t_on · D / (L + L_loop)
    this.transitPerOnNs = (SPEED_CHANGE * spacingM) / (MIN_VEHICLE_M + loopLengthM);
  }

  /**
   * Take a loop out of pairing (it is in fault) or back. While one loop is out, the other counts
   * alone, as a single loop.
   */
  setEnabled(loop: number, enabled: boolean): void {
    if (this.enabled[loop] === enabled) return;
    this.enabled[loop] = enabled;
    if (loop === 1) {
      this.dActive = false;
      this.dPartner = -1;
    } else if (!enabled) {
      // completed upstream detections stay (their downstream halves must not count again); one
      // still on is the presence that put the loop out (locked on), not a vehicle on its way
      while (this.tail > this.head && this.uOff[(this.tail - 1) & MASK]! < 0) {
        this.tail--;
        if (this.uFlag[this.tail & MASK] === WW_CANDIDATE) this.wwPending--;
        if (this.dActive && this.dPartner === this.tail) {
          // the downstream vehicle in progress was waiting for it: it is a vehicle of its own
          this.dPartner = -1;
          this.dCounted = true;
          this.out.count(this.t[D_ON]!);
        }
      }
    }
    this.t[WW_ON] = -1;
  }

  on(loop: number, tNs: number): void {
    this.poll(tNs);
    if (loop === 0) this.upOn(tNs);
    else this.downOn(tNs);
  }

  off(loop: number, tNs: number): void {
    this.poll(tNs);
    if (loop === 0) this.upOff(tNs);
    else this.downOff(tNs);
  }

  /** Settle what time alone decides by `nowNs`: stale upstream detections, wrong-way candidates. */
  poll(nowNs: number): void {
    if (this.wwPending > 0) this.resolveWrongWay(nowNs);
    while (this.head < this.tail && !(this.dActive && this.head === this.dPartner) && this.expired(this.head, nowNs)) {
      this.popHead(nowNs);
    }
  }

  /** Upstream detections waiting for a partner (for tests and health). */
  pending(): number {
    return this.tail - this.head;
  }

  private upOn(t: number): void {
    if (!this.enabled[0]) return;
    if (!this.enabled[1]) {
      this.out.count(t);
      return;
    }
    if (this.tail - this.head === CAP) this.popHead(t);
    const s = this.tail & MASK;
    let flag = 0;
    if (this.t[WW_ON]! >= 0 && !this.wwClaimed) {
      // only the next upstream detection can be the second half, and only at free-flow timing:
      // nobody drives the wrong way through a queue
      const onTime = this.t[WW_OFF]! >= 0 ? this.t[WW_OFF]! - this.t[WW_ON]! : t - this.t[WW_ON]!;
      if (this.t[WW_ON]! < t && t - this.t[WW_ON]! <= this.transitPerOnNs * onTime && !this.congested(onTime)) {
        flag = WW_CANDIDATE;
        this.wwClaimed = true;
      } else {
        this.t[WW_ON] = -1;
      }
    }
    this.uOn[s] = t;
    this.uOff[s] = -1;
    this.uFlag[s] = flag;
    this.tail++;
    if (flag) this.wwPending++;
    else this.out.count(t);
  }

  private upOff(t: number): void {
    if (!this.enabled[0] || !this.enabled[1] || this.tail === this.head) return;
    const s = (this.tail - 1) & MASK;
    if (this.uOff[s]! < 0) {
      this.uOff[s] = t;
      this.t[PREV_ON_TIME] = this.t[NEWEST_ON_TIME]!;
      this.t[NEWEST_ON_TIME] = t - this.uOn[s]!;
    }
  }

  private downOn(t: number): void {
    if (!this.enabled[1]) return;
    this.dActive = true;
    this.t[D_ON] = t;
    this.dPartner = -1;
    if (!this.enabled[0]) {
      // counting alone; a vehicle the upstream loop counted before it went out is not counted twice
      if (this.head < this.tail && this.uOn[this.head & MASK]! < t && !this.expired(this.head, t)) {
        this.head++;
        this.dCounted = false;
      } else {
        this.dCounted = true;
        this.out.count(t);
      }
      return;
    }
    for (let q = this.head; q < this.tail; q++) {
      const s = q & MASK;
      if (this.uOn[s]! >= t) break;
      if (q === this.head && this.expired(q, t)) {
        this.popHead(t);
        continue;
      }
      // a wrong-way candidate is the last choice: it is probably the second half of that vehicle
      if (this.uFlag[s] === WW_CANDIDATE && q + 1 < this.tail && this.uOn[(q + 1) & MASK]! < t) continue;
      this.dPartner = q;
      if (this.uFlag[s] === WW_CANDIDATE) {
        // a forward partner arrived: it was an ordinary vehicle after all
        this.uFlag[s] = 0;
        this.wwPending--;
        this.out.count(this.uOn[s]!);
      }
      break;
    }
    this.dCounted = this.dPartner < 0;
    if (this.dCounted) {
      this.out.count(t);
      this.t[WW_ON] = t;
      this.t[WW_OFF] = -1;
      this.wwClaimed = false;
    }
  }

  private downOff(t: number): void {
    if (!this.dActive) return;
    this.dActive = false;
    if (!this.enabled[0]) return;
    const p = this.dPartner;
    this.dPartner = -1;
    const dOn = this.t[D_ON]!;
    if (p >= this.head && p < this.tail) {
      // candidates: pending upstream detections that began before and ended before this one, oldest first
      let first = -1;
      let candidates = 0;
      for (let q = p; q < this.tail; q++) {
        const s = q & MASK;
        const uOn = this.uOn[s]!;
        const uOff = this.uOff[s]!;
        if (!(uOn < dOn && uOff >= 0 && uOff < t) || this.uFlag[s] === WW_CANDIDATE) continue;
        candidates++;
        if (first < 0) first = q;
        const v = trapSpeed(uOn, uOff, dOn, t, this.spacingM);
        const len = !Number.isNaN(v) ? trapLength(v, uOff - uOn, t - dOn, this.loopLengthM) : NaN;
        // a valid speed with an impossibly short vehicle is two vehicles timed as one
        if (len >= MIN_VEHICLE_M) {
          // older candidates were vehicles that left the lane between the loops
          this.dropBefore(q, t);
          this.removeAt(q);
          this.t[TRANSIT] = dOn - uOn;
          this.out.measured(t, v, len);
          return;
        }
      }
      if (first >= 0) {
        const s = first & MASK;
        const uOn = this.uOn[s]!;
        const uOff = this.uOff[s]!;
        if (candidates === 1 && this.strangers(uOn, uOff, t)) {
          // two vehicles after all: one left the lane between the loops, another joined it
          this.dropBefore(first, t);
          this.removeAt(first);
          this.out.unpaired(0, t);
          this.out.count(dOn);
          this.out.unpaired(1, t);
          return;
        }
        // first in, first out; the timing proves nothing either way (a queue): no speed
        this.dropBefore(first, t);
        this.removeAt(first);
        const v = trapSpeed(uOn, uOff, dOn, t, this.spacingM);
        this.out.measured(t, v, !Number.isNaN(v) ? trapLength(v, uOff - uOn, t - dOn, this.loopLengthM) : NaN);
        return;
      }
      // the upstream vehicle is still on its loop: this one cannot be it
    }
    if (!this.dCounted) this.out.count(dOn);
    this.out.unpaired(1, t);
    if (this.t[WW_ON]! !== dOn) this.wwClaimed = false;
    this.t[WW_ON] = dOn;
    this.t[WW_OFF] = t;
  }

  /**
   * In free flow a vehicle keeps its speed over a few metres, so its two on-times and its two
   * transit times agree closely; detections that differ by half again cannot be one vehicle.
   * (In a queue they can: a vehicle stops on one loop and not the other.)
   */
  private strangers(uOn: number, uOff: number, dOff: number): boolean {
    const dOn = this.t[D_ON]!;
    const onU = uOff - uOn;
    const onD = dOff - dOn;
    // a long presence is a slow vehicle, which may have stopped on one loop: no judgement possible
    if (onU > STRANGER_MAX_ON_NS || onD > STRANGER_MAX_ON_NS || this.congested(Math.max(onU, onD))) return false;
    const lead = dOn - uOn;
    const trail = dOff - uOff;
    return onU > STRANGER_RATIO * onD || onD > STRANGER_RATIO * onU || lead > STRANGER_RATIO * trail || trail > STRANGER_RATIO * lead;
  }

  /** How long an upstream detection with this on-time may wait for its downstream partner, ns. */
  private maxTransit(onTimeNs: number): number {
    const wait = this.transitPerOnNs * onTimeNs;
    return this.congested(onTimeNs) ? wait + STOP_ALLOWANCE_NS : wait;
  }

  /**
   * Slow traffic, where vehicles may stop anywhere: the last measured vehicle was slow, or this one
   * and the one before it both stayed on the upstream loop over a second (one slow truck is not a queue).
   */
  private congested(onTimeNs: number): boolean {
    return (onTimeNs > SLOW_ON_NS && this.t[PREV_ON_TIME]! > SLOW_ON_NS) || this.t[TRANSIT]! > this.congestedTransitNs;
  }

  private expired(seq: number, t: number): boolean {
    const s = seq & MASK;
    const off = this.uOff[s]!;
    if (off < 0) return this.tail - this.head >= CAP;
    return t - this.uOn[s]! > this.maxTransit(off - this.uOn[s]!);
  }

  /** Give up on the oldest upstream detection: a vehicle the downstream loop did not see. */
  private popHead(t: number): void {
    const s = this.head & MASK;
    this.head++;
    if (this.uFlag[s] === WW_CANDIDATE) {
      this.wwPending--;
      this.out.count(this.uOn[s]!);
    }
    if (t >= 0) this.out.unpaired(0, t);
  }

  /**
   * Give up on the pending upstream detections older than `seq` (vehicles that left the lane
   * between the loops), except wrong-way candidates, which wait for their own resolution.
   */
  private dropBefore(seq: number, t: number): void {
    for (let r = this.head; r < seq; r++) {
      if (this.uFlag[r & MASK] === WW_CANDIDATE) continue;
      // removeAt moves the older ones up a place: the next to look at is still r + 1
      this.removeAt(r);
      this.out.unpaired(0, t);
    }
  }

  /** Remove pending detection `seq` (normally the head), keeping the others in order. */
  private removeAt(seq: number): void {
    for (let r = seq; r > this.head; r--) {
      const to = r & MASK;
      const from = (r - 1) & MASK;
      this.uOn[to] = this.uOn[from]!;
      this.uOff[to] = this.uOff[from]!;
      this.uFlag[to] = this.uFlag[from]!;
    }
    // older detections moved up one place
    if (this.dPartner >= this.head && this.dPartner < seq) this.dPartner++;
    this.head++;
  }

  private resolveWrongWay(now: number): void {
    for (let q = this.head; q < this.tail; q++) {
      const s = q & MASK;
      if (this.uFlag[s] !== WW_CANDIDATE) continue;
      const uOn = this.uOn[s]!;
      const uOff = this.uOff[s]!;
      // wait until a forward partner would have shown up
      if (uOff < 0 || now - uOn <= this.maxTransit(uOff - uOn)) continue;
      this.uFlag[s] = 0;
      this.wwPending--;
      const v = this.t[WW_OFF]! >= 0 && this.t[WW_OFF]! < uOff ? trapSpeed(this.t[WW_ON]!, this.t[WW_OFF]!, uOn, uOff, this.spacingM) : NaN;
      if (v >= WW_MIN_SPEED_MS) {
        // it was the second loop of a vehicle already counted: drop it from the queue
        this.removeAt(q);
        this.out.wrongWay(uOff, v);
      } else {
        this.out.count(uOn);
      }
      this.t[WW_ON] = -1;
    }
  }
}
