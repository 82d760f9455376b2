import type { Window, WindowListener } from "../clock/windows.js";
import type { Summary } from "../aggregate/summary.js";
import type { Logger } from "../log/logger.js";
import type { CrashLoss, OpenWindow, Outbox, OutboxDraft, OutboxMessage } from "../outbox/outbox.js";
import type { Alarm } from "../aggregate/alarm.js";
import type { Clock } from "../clock/index.js";
import { observedSeconds } from "../clock/windows.js";
import type { Encoding } from "./envelope.js";
import { alarmPack, contentType, encodePack, summaryPack } from "./envelope.js";
import type { Topics } from "./topics.js";
import { compactPack, crashLossesOnWindow, encodeCompact, groupByWindow } from "./compact.js";

export interface PublisherOptions {
  deviceId: string;
  topics: Topics;
  encoding: Encoding;
  outbox: Outbox;
  logger: Logger;
  clock: Clock;
  /**
   * Routine summaries older than this (s after they were committed) are discarded undelivered and
   * counted as lost; MQTT 5 brokers get the remaining time as message expiry. Undefined: kept until
   * delivered or dropped for space. Alarms never expire.
   */
  expireAfterS?: number;
  /** standard (default): one message per stream; cellular: one pack per window (src/publish/compact.ts). */
  profile?: "standard" | "cellular";
  /** Called after each commit with the committed messages (the MQTT session drains them). */
  onCommitted?: (messages: OutboxMessage[], summaries: Summary[]) => void;
}

/**
 * Collects the summaries of every stream of one window length as they are finalised and commits
 * them to the outbox in one transaction when the scheduler's finalise pass ends (it is registered as
 * the scheduler's last listener). One write per window, never per event: SD cards wear out.
 */
export class Publisher {
  private batch: Summary[] = [];
  /** Alarms whose commit failed, retried first at the next write. */
  private alarms: OutboxDraft[] = [];

  constructor(private readonly opts: PublisherOptions) {}

  /** Summary sink for aggregators. */
  readonly accept = (summaries: Summary[]): void => {
    for (const s of summaries) this.batch.push(s);
  };

  /**
   * The listener to add last to a scheduler: commits what its window produced, and with it which
   * window is now open on each of those streams (`current`: the scheduler's open window, undefined
   * once it stopped), so a crash before the next commit is accounted for at the next start.
   */
  listener(current?: () => Window | undefined): WindowListener {
    return {
      rotate: () => {},
      finalize: (w: Window) => this.flush(w, current),
    };
  }

  /** Commit an alarm at once (its own transaction), ahead of routine data when the outbox is full. */
  readonly alarm = (a: Alarm): void => {
    const wallMs = this.opts.clock.toWallMs(a.tNs);
    const timeq = this.opts.clock.synced ? "synced" : "unsynced";
    const draft: OutboxDraft = {
      topic: this.opts.topics.alarm(a.source),
      priority: "alarm",
      contentType: contentType(this.opts.encoding),
      spanFromMs: wallMs,
      spanToMs: wallMs,
      encode: (seq, lost) => encodePack(alarmPack(this.opts.deviceId, a, wallMs, timeq, seq, lost), this.opts.encoding),
    };
    let msgs: OutboxMessage[];
    try {
      msgs = this.opts.outbox.commit([...this.alarms, draft]);
      this.alarms = [];
    } catch (err) {
      // kept in memory and committed with the next alarm or window, so it is late, not lost
      if (this.alarms.length < 1000) this.alarms.push(draft);
      this.opts.logger.error(
        `cannot write the ${a.kind} ${a.state} alarm of ${a.source} to the outbox: ${(err as Error).message}; retrying with the next write. Check the disk (df -h).`,
      );
      return;
    }
    this.opts.onCommitted?.(msgs, []);
  };

  /** Commit everything collected. Never throws: a failed write is logged and kept for the next try. */
  flush(_w?: Window, current?: () => Window | undefined): OutboxMessage[] {
    if (this.batch.length === 0 && this.alarms.length === 0) return [];
    const summaries = this.batch;
    const expireAfter = this.opts.expireAfterS;
    const expiresAtMs = expireAfter === undefined ? undefined : this.opts.clock.wallMs() + expireAfter * 1000;
    const drafts =
      this.opts.profile === "cellular"
        ? this.compactDrafts(summaries, expiresAtMs)
        : summaries.map((s) => this.summaryDraft(s, expiresAtMs));
    let msgs: OutboxMessage[];
    try {
      if (expireAfter !== undefined) this.opts.outbox.expire(this.opts.clock.wallMs());
      const open = current?.();
      // per stream in both profiles, as checkpoints and the start's records are: crash recovery is per stream
      const windows: OpenWindow[] | undefined = current
        ? summaries.map((s) => ({ topic: this.opts.topics.stream(s.kind, s.name), fromMs: open?.startWallMs }))
        : undefined;
      msgs = this.opts.outbox.commit([...this.alarms, ...drafts], windows);
      this.batch = [];
      this.alarms = [];
    } catch (err) {
      this.opts.logger.error(
        `cannot write ${drafts.length} summaries to the outbox: ${(err as Error).message}; keeping them in memory and retrying at the next window. Check the disk (df -h) and the state folder's permissions.`,
      );
      return [];
    }
    this.opts.onCommitted?.(msgs, summaries);
    return msgs;
  }

  /**
   * At start, after a crash: report `losses` on their topics (cause `crash`; a cellular device's on
   * `…/window`) and commit the summaries recovered from checkpoints (a cellular device's as packs), in
   * one transaction (docs/delivery.md "Crashes mid-window"). Throws what the outbox throws; the
   * records stay and are settled at the next start.
   */
  settleCrash(losses: readonly CrashLoss[], recovered: Summary[]): OutboxMessage[] {
    if (this.opts.profile === "cellular") {
      // packs on …/window like every other window of this device; the losses go there too
      const packs = this.compactDrafts(recovered, undefined);
      const msgs = this.opts.outbox.settleCrash?.(crashLossesOnWindow(losses, this.opts.topics.window()), packs) ?? [];
      if (msgs.length > 0) this.opts.onCommitted?.(msgs, recovered);
      return msgs;
    }
    const drafts = recovered.map((s) => this.summaryDraft(s, undefined));
    const msgs = this.opts.outbox.settleCrash?.(losses, drafts) ?? [];
    if (msgs.length > 0) this.opts.onCommitted?.(msgs, recovered);
    return msgs;
  }

  /** A summary as a message on its stream's topic (the standard profile). */
  private summaryDraft(s: Summary, expiresAtMs: number | undefined): OutboxDraft {
    const d: OutboxDraft = {
      topic: this.opts.topics.stream(s.kind, s.name),
      priority: "routine",
      contentType: contentType(this.opts.encoding),
      spanFromMs: s.window.startWallMs,
      spanToMs: s.window.startWallMs + observedSeconds(s.window) * 1000,
      encode: (seq, lost) => encodePack(summaryPack(this.opts.deviceId, s, seq, lost), this.opts.encoding),
    };
    if (expiresAtMs !== undefined) d.expiresAtMs = expiresAtMs;
    return d;
  }

  private compactDrafts(summaries: Summary[], expiresAtMs: number | undefined): OutboxDraft[] {
    return groupByWindow(summaries).map((group) => {
      const w = group[0]!.window;
      const d: OutboxDraft = {
        topic: this.opts.topics.window(),
        priority: "routine",
        contentType: contentType(this.opts.encoding),
        spanFromMs: w.startWallMs,
        spanToMs: w.startWallMs + observedSeconds(w) * 1000,
        encode: (seq, lost) => encodeCompact(compactPack(this.opts.deviceId, group, seq, lost), this.opts.encoding),
      };
      if (expiresAtMs !== undefined) d.expiresAtMs = expiresAtMs;
      return d;
    });
  }
}
