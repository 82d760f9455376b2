/**
 * Per-device sequence checking for subscribers (docs/subscribing.md "Gaps and duplicates").
 *
 * A device numbers every message it sends through its outbox, across all its streams: +1 per
 * message, continuous across restarts. So a subscriber sees
 * - the next number: fine;
 * - a jump: the numbers in between are missing (lost, dropped from a full outbox, or still queued
 *   behind a reconnect; they may yet arrive late);
 * - a number seen before with the same stream and window: a redelivery (at-least-once) to drop;
 * - a number seen before with a *different* stream or window: the device's counter restarted (its
 *   state folder was wiped or replaced), which is not a redelivery and must not be dropped.
 *
 * Memory is bounded per device (a ring of the last RING numbers and at most MAX_RANGES open gaps),
 * so a watcher of a thousand devices stays small.
 */

export type SeqCheck = "first" | "ok" | "gap" | "late" | "duplicate" | "reset";

export interface SeqResult {
  check: SeqCheck;
  /** For `gap`: the first and last missing numbers. */
  from?: number;
  to?: number;
  /** For `reset`: the highest number seen before the restart. */
  previous?: number;
}

/** How many recent numbers are remembered to tell redeliveries from restarts. */
const RING = 512;
/** A number this small, far below the highest seen, is a restarted counter (outboxes count from 1). */
const RESTART_MAX = 16;
/** Open gaps remembered; older ones are given up (counted in `givenUp`). */
const MAX_RANGES = 256;

/** A cheap 32-bit fingerprint (FNV-1a) of what a message is: its stream and window. */
export function fingerprint(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

export class SeqTracker {
  private max = -1;
  private readonly seqs = new Float64Array(RING).fill(-1);
  private readonly prints = new Int32Array(RING);
  /** Missing numbers as inclusive [from, to] ranges, oldest first. */
  private ranges: [number, number][] = [];
  /** Gaps seen (jumps), numbers reported missing, late arrivals, redeliveries, restarts. */
  gaps = 0;
  missingTotal = 0;
  late = 0;
  duplicates = 0;
  resets = 0;
  /** Missing numbers forgotten because too many gaps were open. */
  givenUp = 0;

  /** Numbers missing now (reported as gaps and not arrived since). */
  get missing(): number {
    let n = 0;
    for (const [a, b] of this.ranges) n += b - a + 1;
    return n;
  }

  /** Highest number seen, or -1. */
  get highest(): number {
    return this.max;
  }

  /** The currently missing ranges, oldest first (copies). */
  missingRanges(): [number, number][] {
    return this.ranges.map(([a, b]) => [a, b]);
  }

  /**
   * Check one message's sequence number. `print` identifies what the message is (see
   * `fingerprint`), so a repeated number can be told apart from a restarted counter.
   */
  observe(seq: number, print: number): SeqResult {
    if (this.max < 0) {
      this.remember(seq, print);
      this.max = seq;
      return { check: "first" };
    }
    if (seq === this.max + 1) {
      this.remember(seq, print);
      this.max = seq;
      return { check: "ok" };
    }
    if (seq > this.max + 1) {
      const from = this.max + 1;
      const to = seq - 1;
      this.addRange(from, to);
      this.gaps++;
      this.missingTotal += to - from + 1;
      this.remember(seq, print);
      this.max = seq;
      return { check: "gap", from, to };
    }
    // seq <= max: late, a redelivery, or a restarted counter
    if (this.takeMissing(seq)) {
      this.late++;
      this.remember(seq, print);
      return { check: "late" };
    }
    const slot = seq % RING;
    if (this.seqs[slot] === seq && this.prints[slot] !== print) return this.reset(seq, print);
    if (this.seqs[slot] !== seq && this.max - seq < RING) {
      // within the remembered range, never seen and never missing: it predates the first message
      // this watcher saw (a backlog arriving out of order), so it is news, not a redelivery
      this.remember(seq, print);
      return { check: "late" };
    }
    // Too old to check against the ring. Redeliveries come from the device's in-flight window, just
    // below the newest number; a small number far below it is a counter that started again at 1.
    if (seq <= RESTART_MAX && this.max - seq >= RING) return this.reset(seq, print);
    this.duplicates++;
    return { check: "duplicate" };
  }

  private reset(seq: number, print: number): SeqResult {
    const previous = this.max;
    this.resets++;
    this.ranges = [];
    this.seqs.fill(-1);
    this.remember(seq, print);
    this.max = seq;
    return { check: "reset", previous };
  }

  private remember(seq: number, print: number): void {
    const slot = seq % RING;
    this.seqs[slot] = seq;
    this.prints[slot] = print;
  }

  private addRange(from: number, to: number): void {
    this.ranges.push([from, to]);
    while (this.ranges.length > MAX_RANGES) {
      const [a, b] = this.ranges.shift()!;
      this.givenUp += b - a + 1;
    }
  }

  /** Remove `seq` from the missing ranges; true if it was missing. */
  private takeMissing(seq: number): boolean {
    for (let i = 0; i < this.ranges.length; i++) {
      const [a, b] = this.ranges[i]!;
      if (seq < a || seq > b) continue;
      if (a === b) this.ranges.splice(i, 1);
      else if (seq === a) this.ranges[i] = [a + 1, b];
      else if (seq === b) this.ranges[i] = [a, b - 1];
      else this.ranges.splice(i, 1, [a, seq - 1], [seq + 1, b]);
      return true;
    }
    return false;
  }
}
