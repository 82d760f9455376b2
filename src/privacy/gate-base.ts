import type { Measure, Summary, SummarySink } from "../aggregate/summary.js";
import type { Clock, Window, WindowListener } from "../clock/index.js";
import type { Logger } from "../log/logger.js";
import { Disclosure } from "./disclosure.js";
import type { DisclosureSettings } from "./disclosure.js";
import { KeySchedule } from "./key-schedule.js";
import type { Uniform } from "./noise.js";
import type { WindowKey } from "./window-key.js";

/** Settings every gate shares (config section `identifiers`). */
export interface GateOptions extends DisclosureSettings {
  /** Stream (sensor) name: `…/presence/{name}`. */
  name: string;
  clock: Clock;
  logger: Logger;
  /** Where window summaries go (the publisher). */
  sink: SummarySink;
  /** No window key lives longer than this, s (≥ the window length). */
  maxKeyLifetimeS: number;
  /** Distinct tokens counted exactly per counter before switching to HyperLogLog. */
  exactLimit: number;
  /** HyperLogLog precision p (m = 2^p registers). */
  hllPrecision: number;
  /** Noise randomness; default node:crypto. Tests pass a seeded source to check the noise statistically. */
  uniform?: Uniform;
  /** Key factory; default fresh CSPRNG keys. Tests pass one that records the keys it makes. */
  keys?: () => WindowKey;
  /** Non-personal diagnostics of the closing window (e.g. malformed frames), appended to its summary. */
  diagnostics?: () => Measure[];
}

interface Closed<C> {
  counts: C;
  /** Keys the window used: 1 unless the key watchdog fired during it. */
  segments: number;
  extra: Measure[];
}

/**
 * Window life cycle shared by the gates. Counting happens in segments, each under one key: a
 * window normally has one; the key watchdog (a key older than the maximum lifetime) starts a new
 * one. Every window end zeroes the key and drops the tokens; only the counts (`C`) wait, during
 * the scheduler's grace period, to be disclosed and published.
 */
export abstract class GateBase<C> implements WindowListener {
  protected readonly keys: KeySchedule;
  protected readonly disclosure: Disclosure;
  private window: Window | undefined;
  private totals: C | undefined;
  private segments = 0;
  private readonly pending = new Map<Window, Closed<C>>();
  private stopped = false;

  constructor(protected readonly opts: GateOptions) {
    this.disclosure = new Disclosure(opts, opts.uniform);
    this.keys = new KeySchedule({
      clock: opts.clock,
      maxLifetimeS: opts.maxKeyLifetimeS,
      ...(opts.keys ? { keys: opts.keys } : {}),
      onExpired: () => {
        this.foldSegment();
        this.opts.logger.warn(
          `presence ${this.opts.name}: the window key reached its maximum lifetime (${this.opts.maxKeyLifetimeS}s) before the window ended and was zeroed; this window's distinct counts are upper bounds. Check the clock and window scheduling.`,
        );
      },
    });
  }

  /** Counts of the current segment; drop its tokens and start a fresh one. */
  protected abstract takeSegment(): C;
  /** Sum of segment counts. */
  protected abstract add(a: C, b: C): C;
  /** Disclosed measures of a window's counts. */
  protected abstract disclose(counts: C, segments: number): Measure[];

  /** Keys zeroed by the watchdog since start (0 unless window scheduling stalled). */
  get keyExpiries(): number {
    return this.keys.expired;
  }

  /** False once the gate has stopped: identifiers are then dropped unhashed. */
  protected get accepting(): boolean {
    return !this.stopped;
  }

  open(first: Window): void {
    this.window = first;
  }

  rotate(closing: Window, opening: Window): void {
    this.pending.set(closing, this.closeWindow());
    this.window = opening;
  }

  finalize(closed: Window): void {
    let done = this.pending.get(closed);
    this.pending.delete(closed);
    if (!done && this.window === closed) {
      // the device is stopping: the open window closes without a successor
      done = this.closeWindow();
      this.window = undefined;
      this.stopped = true;
    }
    if (!done) return;
    const measures = [...this.disclose(done.counts, done.segments), ...done.extra];
    const summary: Summary = { kind: "presence", name: this.opts.name, window: closed, measures };
    // logs carry no more than what is published
    this.opts.logger.debug(
      () => `presence ${this.opts.name}: window closed, key zeroed, tokens dropped; published ${measures.map(showMeasure).join(" ")}`,
    );
    this.opts.sink([summary]);
  }

  /** Zero the key and drop every token (the device stops without closing a window). */
  destroy(): void {
    this.keys.destroy();
    this.takeSegment();
    this.totals = undefined;
    this.stopped = true;
  }

  /** Zero the key, close the segment and the window's counts. */
  private closeWindow(): Closed<C> {
    this.foldSegment();
    const closed: Closed<C> = { counts: this.totals!, segments: Math.max(1, this.segments), extra: this.opts.diagnostics?.() ?? [] };
    this.totals = undefined;
    this.segments = 0;
    return closed;
  }

  private foldSegment(): void {
    const keyed = this.keys.live;
    this.keys.destroy();
    const c = this.takeSegment();
    this.totals = this.totals === undefined ? c : this.add(this.totals, c);
    if (keyed) this.segments++;
  }
}

function showMeasure(m: Measure): string {
  return `${m.n}=${m.v ?? m.vs ?? m.vb}`;
}
