import type { Clock, TimerHandle } from "../clock/clock.js";
import { NS_PER_MS } from "../clock/clock.js";
import type { Window } from "../clock/windows.js";
import { alignedStart } from "../clock/windows.js";
import type { Logger } from "../log/logger.js";
import type { Checkpoint, CrashLoss, CrashRecord } from "../outbox/outbox.js";
import type { Measure, StreamKind, Summary } from "./summary.js";

/**
 * Checkpoints of open windows (docs/delivery.md "Crashes mid-window"). A window's counts live in
 * memory until it closes, so a crash or power cut would lose them. Every `intervalS` the summary each
 * registered aggregator would publish if its window closed now is stored in the outbox's database;
 * after a crash that summary is published for its window, marked `recovered` and with the shorter
 * `observed` it covers. Streams derived from identifiers are never checkpointed: their per-window
 * state is keyed tokens that must never reach the disk (DESIGN.md "Privacy boundary").
 */

/** An aggregator whose open window can be summarised without closing or disturbing it. */
export interface Checkpointable {
  /** The summary of the window open at `nowNs`, as if it closed then; undefined when none is open. */
  peek(nowNs: number): Summary | undefined;
}

/** Where checkpoints go: the outbox (`Outbox.saveCheckpoints`). */
export interface CheckpointStore {
  saveCheckpoints?(checkpoints: readonly Checkpoint[]): void;
}

/** Kinds whose windows hold identifier-derived state: never checkpointed. */
const NEVER: ReadonlySet<StreamKind> = new Set(["presence"]);

export interface CheckpointerOptions {
  clock: Clock;
  /** Seconds between checkpoints (docs/config.md `outbox.checkpointInterval`). */
  intervalS: number;
  store: CheckpointStore;
  /** The topic of a stream (the publisher's). */
  topic: (kind: StreamKind, name: string) => string;
  logger: Logger;
}

/** The stored form of a summary: everything but its window, which the checkpoint row describes. */
interface StoredSummary {
  kind: StreamKind;
  name: string;
  measures: Measure[];
}

export class Checkpointer {
  private readonly sources: Checkpointable[] = [];
  private timer: TimerHandle | undefined;
  private failing = false;

  constructor(private readonly opts: CheckpointerOptions) {}

  /** Checkpoint this aggregator's windows. Throws for an identifier-derived kind (a programming error). */
  register(kind: StreamKind, source: Checkpointable): void {
    if (NEVER.has(kind)) throw new Error(`${kind} windows are derived from identifiers and must never be checkpointed to disk`);
    this.sources.push(source);
  }

  get size(): number {
    return this.sources.length;
  }

  start(): void {
    if (this.sources.length === 0 || this.opts.store.saveCheckpoints === undefined) return;
    this.arm();
  }

  stop(): void {
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** Take a checkpoint of every open window now. Never throws: a failing disk is logged once. */
  take(): number {
    const { clock } = this.opts;
    const now = clock.monoNs();
    const takenMs = clock.wallMs();
    const cps: Checkpoint[] = [];
    for (const src of this.sources) {
      const s = src.peek(now);
      if (!s || NEVER.has(s.kind)) continue;
      const observedMs = (s.window.endNs - s.window.startNs) / NS_PER_MS;
      if (observedMs <= 0) continue; // a window that has just opened holds nothing yet
      const stored: StoredSummary = { kind: s.kind, name: s.name, measures: s.measures };
      cps.push({
        topic: this.opts.topic(s.kind, s.name),
        windowStartMs: s.window.endWallMs - s.window.lengthS * 1000,
        windowS: s.window.lengthS,
        observedFromMs: s.window.startWallMs,
        observedMs,
        takenMs,
        synced: s.window.synced && clock.synced,
        summary: JSON.stringify(stored),
      });
    }
    try {
      this.opts.store.saveCheckpoints?.(cps);
      if (this.failing) this.opts.logger.info("checkpoints are written again");
      this.failing = false;
    } catch (err) {
      if (!this.failing) {
        this.opts.logger.error(
          `cannot write checkpoints of the open windows: ${(err as Error).message}; a crash now would lose them (they are reported lost). Check the disk (df -h).`,
        );
      }
      this.failing = true;
    }
    return cps.length;
  }

  /**
   * Halfway between aligned interval boundaries: a checkpoint on a window boundary would find the
   * windows just opened and empty, and the closing ones about to be committed anyway.
   */
  private arm(): void {
    const { clock, intervalS } = this.opts;
    const len = intervalS * 1000;
    const wall = clock.wallMs();
    let at = alignedStart(wall, intervalS) + len / 2;
    if (at <= wall) at += len;
    this.timer = clock.setTimer(clock.toMonoNs(at), () => {
      this.timer = undefined;
      this.take();
      this.arm();
    });
  }
}

/** What to do at start about the windows the previous process died with. */
export interface RecoveryPlan {
  /** Per topic: windows lost, reported with the cause `crash`. */
  losses: CrashLoss[];
  /** Summaries rebuilt from checkpoints, to publish now (partial, `recovered: crash`). */
  recovered: Summary[];
}

/**
 * Decide, per stream recorded open at the crash, which of its windows are recovered from a checkpoint
 * and which are lost, so that on the stream's topic every window start is either a message's `bt` or
 * inside a loss report (docs/delivery.md "Crashes mid-window"):
 * - a window with a checkpoint is published from it, with `observed` up to the checkpoint;
 * - a window without one is lost: `dropped` counts it, from its start;
 * - windows that would have started while the device was down (after the last window the previous
 *   process had, before the one this process opens at `nowMs`) lie inside the report's span, which
 *   ends at the restart; they are not counted in `dropped` (no summary of them was ever due).
 * `windowOf` gives a stream's window length now (undefined when it is no longer configured).
 */
export function planRecovery(rec: CrashRecord, nowMs: number, windowOf: (topic: string) => number | undefined): RecoveryPlan {
  const losses: CrashLoss[] = [];
  const recovered: Summary[] = [];
  for (const o of rec.open) {
    const cps = rec.checkpoints
      .filter((c) => c.topic === o.topic && c.windowStartMs + c.windowS * 1000 > o.fromMs)
      .sort((a, b) => a.windowStartMs - b.windowStartMs);
    /** Start of the earliest time not yet accounted for. */
    let cursor = o.fromMs;
    let count = 0;
    let lossFrom = Number.POSITIVE_INFINITY;
    let len = windowOf(o.topic);
    let any = false;
    for (const c of cps) {
      const s = rebuild(c);
      if (!s) continue; // unreadable: its window stays lost
      if (c.windowStartMs > cursor) {
        // windows open at the crash before this one (e.g. in the grace after a boundary), never checkpointed
        count += Math.max(1, Math.ceil((c.windowStartMs - alignedStart(cursor, c.windowS)) / (c.windowS * 1000)));
        lossFrom = Math.min(lossFrom, cursor);
      }
      recovered.push(s);
      any = true;
      cursor = Math.max(cursor, c.windowStartMs + c.windowS * 1000);
      len ??= c.windowS;
    }
    if (!any || len === undefined) {
      // nothing recovered: the window open at the crash is lost, and with it the time down
      losses.push({ topic: o.topic, count: 1, fromMs: o.fromMs, toMs: Math.max(nowMs, o.fromMs) });
      continue;
    }
    // the time down: windows after the last recovered one and before the one opened at the restart
    if (cursor < alignedStart(nowMs, len)) lossFrom = Math.min(lossFrom, cursor);
    if (Number.isFinite(lossFrom)) losses.push({ topic: o.topic, count, fromMs: lossFrom, toMs: Math.max(nowMs, lossFrom) });
  }
  return { losses, recovered };
}

/** The summary a checkpoint describes, with a window of the time it covered; undefined if unreadable. */
function rebuild(c: Checkpoint): Summary | undefined {
  let stored: StoredSummary;
  try {
    stored = JSON.parse(c.summary) as StoredSummary;
  } catch {
    return undefined;
  }
  if (typeof stored?.kind !== "string" || typeof stored.name !== "string" || !Array.isArray(stored.measures)) return undefined;
  if (NEVER.has(stored.kind)) return undefined;
  const window: Window = {
    lengthS: c.windowS,
    startNs: 0,
    endNs: c.observedMs * NS_PER_MS,
    startWallMs: c.observedFromMs,
    endWallMs: c.windowStartMs + c.windowS * 1000,
    index: 0,
    partial: true,
    clockJump: false,
    synced: c.synced,
  };
  return { kind: stored.kind, name: stored.name, window, measures: stored.measures, recovered: "crash" };
}
