import type { DecodedMessage } from "../publish/envelope.js";
import { decodeMessage } from "../publish/envelope.js";
import type { AlarmEvent, DataEvent, MeasureValue, WatchEvent } from "./events.js";
import type { DecodedCompact } from "./compact.js";
import { decodeCompact } from "./compact.js";
import type { SeqResult } from "./sequence.js";
import { fingerprint, SeqTracker } from "./sequence.js";

/** The latest of one stream of one device. */
export interface StreamState {
  key: string;
  last: DataEvent | AlarmEvent;
  messages: number;
}

export interface DeviceState {
  id: string;
  status: "online" | "offline" | "unknown";
  /** When the status was last set (watcher's wall clock, ms), and whether it came retained. */
  statusMs: number;
  statusRetained: boolean;
  streams: Map<string, StreamState>;
  seq: SeqTracker;
  messages: number;
  lastSeenMs: number | undefined;
  /** Shortest window seen from this device, s (for silence detection). */
  minWindowS: number | undefined;
  /** How far behind real time its newest data is, s. */
  behindS: number;
  catchingUp: boolean;
  catchupMessages: number;
  silent: boolean;
  doctorMs: number | undefined;
  health: unknown;
  /** When the last heartbeat arrived (watcher's clock), ms; undefined before one did. */
  healthMs: number | undefined;
  /** When anything last came from it that was not a retained replay (watcher's clock), ms. */
  lastMessageMs: number | undefined;
  /** Recent windows per stream, to tell a conflicting payload from a redelivery. */
  windows: Map<string, WindowPrint>;
  conflicts: number;
}

/** What one message said about one window. */
interface WindowPrint {
  seq: number;
  print: number;
  observedS: number;
  windowS: number;
}

/** Windows remembered per device for conflict checks (a day of 1-minute windows on 2 streams is 2880). */
const WINDOWS_KEPT = 4096;

export interface WatchModelOptions {
  /** Topic prefix, e.g. `roadside` or `city/roadside`. */
  prefix: string;
  /** Notable events kept for the table's event list. Default 8. */
  keepEvents?: number;
}

/** An online device silent for this many of its windows (plus a grace) is reported. */
const SILENT_WINDOWS = 3;
const SILENT_GRACE_S = 30;
/** A device whose data is this many windows behind real time (and at least a minute) is catching up. */
const CATCHUP_WINDOWS = 2;
const CATCHUP_MIN_S = 60;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * What a subscriber knows about a fleet, built from the messages under a prefix: per device its
 * status, sequence check, streams and their latest values. Pure (no I/O, time passed in), so the
 * table, the JSON lines and the tests all read the same state.
 */
export class WatchModel {
  readonly devices = new Map<string, DeviceState>();
  /** Latest notable events (gaps, status changes, alarms…), newest last. */
  readonly notable: WatchEvent[] = [];
  messages = 0;
  invalid = 0;
  private readonly prefixSegs: string[];
  private readonly keep: number;

  constructor(opts: WatchModelOptions) {
    this.prefixSegs = opts.prefix.split("/");
    this.keep = opts.keepEvents ?? 8;
  }

  /** One message from the broker. Returns the events it makes, in order. */
  message(topic: string, payload: Uint8Array, retained: boolean, nowMs: number): WatchEvent[] {
    const receivedAt = iso(nowMs);
    const segs = topic.split("/");
    const k = this.prefixSegs.length;
    if (segs.length < k + 2 || this.prefixSegs.some((p, i) => segs[i] !== p)) return [];
    const device = segs[k]!;
    const rest = segs.slice(k + 1);
    const head = rest[0]!;
    if (head === "cmd") return []; // commands and their replies belong to the platform that sent them
    this.messages++;
    const dev = this.device(device);
    if (!retained) dev.lastMessageMs = nowMs;
    if (rest.length === 1) {
      const text = Buffer.from(payload).toString("utf8");
      switch (head) {
        case "status": {
          const status = text === "online" || text === "offline" ? text : "unknown";
          const changed = dev.status !== status;
          dev.status = status;
          dev.statusMs = nowMs;
          dev.statusRetained = retained;
          const ev: WatchEvent = { type: "status", receivedAt, topic, device, status: text, retained };
          if (changed) this.note(ev);
          return [ev];
        }
        case "manifest":
          return [{ type: "manifest", receivedAt, topic, device, retained, manifest: parseJson(text) }];
        case "health":
          dev.health = parseJson(text);
          dev.healthMs = nowMs;
          return [{ type: "health", receivedAt, topic, device, health: dev.health }];
        case "window":
          return this.compact(dev, topic, payload, receivedAt, nowMs);
        case "doctor": {
          dev.doctorMs = nowMs;
          const ev: WatchEvent = { type: "doctor", receivedAt, topic, device, payload: parseJson(text) };
          this.note(ev);
          return [ev];
        }
      }
    }
    let msg: DecodedMessage;
    try {
      msg = decodeMessage(payload);
    } catch (err) {
      return [this.bad(topic, payload, receivedAt, `not a SenML pack: ${(err as Error).message}`)];
    }
    if (msg.device !== device) {
      return [
        this.bad(
          topic,
          payload,
          receivedAt,
          `payload names device ${JSON.stringify(msg.device)} but the topic is device ${JSON.stringify(device)}`,
        ),
      ];
    }
    if (msg.seq < 0) return [this.bad(topic, payload, receivedAt, "the pack has no seq record")];
    return this.data(dev, topic, msg, nowMs);
  }

  /** Time passes with no message: report devices that went silent. */
  tick(nowMs: number): WatchEvent[] {
    const out: WatchEvent[] = [];
    for (const dev of this.devices.values()) {
      if (dev.silent || dev.status !== "online" || dev.lastSeenMs === undefined || dev.minWindowS === undefined) continue;
      const silentS = (nowMs - dev.lastSeenMs) / 1000;
      if (silentS > SILENT_WINDOWS * dev.minWindowS + SILENT_GRACE_S) {
        dev.silent = true;
        const ev: WatchEvent = {
          type: "silent",
          receivedAt: iso(nowMs),
          device: dev.id,
          lastSeenAt: iso(dev.lastSeenMs),
          silentS: Math.round(silentS),
        };
        this.note(ev);
        out.push(ev);
      }
    }
    return out;
  }

  /**
   * A cellular-profile pack (docs/payloads.md "Cellular profile"): its sequence number is checked
   * once, then each stream in it becomes the data event the standard profile's message would have
   * made (topic `…/{kind}/{stream}`), so everything built on these events reads both profiles.
   */
  private compact(dev: DeviceState, topic: string, payload: Uint8Array, receivedAt: string, nowMs: number): WatchEvent[] {
    let decoded: DecodedCompact;
    try {
      decoded = decodeCompact(payload);
    } catch (err) {
      return [this.bad(topic, payload, receivedAt, `not a cellular-profile pack: ${(err as Error).message}`)];
    }
    const env = decoded.envelope;
    if (env.device !== dev.id) {
      return [
        this.bad(
          topic,
          payload,
          receivedAt,
          `payload names device ${JSON.stringify(env.device)} but the topic is device ${JSON.stringify(dev.id)}`,
        ),
      ];
    }
    if (env.seq < 0) return [this.bad(topic, payload, receivedAt, "the pack has no seq record")];
    const seq = dev.seq.observe(env.seq, fingerprint(`window::${env.windowStartMs}`));
    const out: WatchEvent[] = [];
    const base = topic.slice(0, topic.length - "window".length);
    for (const [i, msg] of decoded.streams.entries()) {
      // gaps and the pack's loss report (which belongs to …/window) are announced once, with the first stream
      if (i === 0 && env.dropped) {
        msg.dropped = env.dropped;
        if (env.droppedCause !== undefined) msg.droppedCause = env.droppedCause;
      }
      out.push(...this.data(dev, `${base}${msg.kind}/${msg.stream}`, msg, nowMs, { seq, announce: i === 0, lossTopic: topic }));
    }
    return out;
  }

  private data(
    dev: DeviceState,
    topic: string,
    msg: DecodedMessage,
    nowMs: number,
    checked?: { seq: SeqResult; announce: boolean; lossTopic: string },
  ): WatchEvent[] {
    const out: WatchEvent[] = [];
    const receivedAt = iso(nowMs);
    const conflict = msg.kind === "alarm" ? undefined : this.conflict(dev, topic, msg, receivedAt);
    if (conflict) {
      this.note(conflict);
      out.push(conflict);
    }
    const seq = checked?.seq ?? dev.seq.observe(msg.seq, fingerprint(`${msg.kind}:${msg.stream}:${msg.windowStartMs}`));
    const announce = checked?.announce ?? true;
    if (!announce) {
      // the pack's other streams: its sequence number was checked and announced with the first
    } else if (seq.check === "gap") {
      const gap: WatchEvent = { type: "gap", receivedAt, device: dev.id, from: seq.from!, to: seq.to!, missing: seq.to! - seq.from! + 1 };
      this.note(gap);
      out.push(gap);
    } else if (seq.check === "reset") {
      const reset: WatchEvent = { type: "reset", receivedAt, device: dev.id, previous: seq.previous!, seq: msg.seq };
      this.note(reset);
      out.push(reset);
    }
    if (msg.dropped && seq.check !== "duplicate") {
      const lost: WatchEvent = {
        type: "dropped",
        receivedAt,
        topic: checked?.lossTopic ?? topic,
        device: dev.id,
        count: msg.dropped.count,
        from: iso(msg.dropped.fromMs),
        to: iso(msg.dropped.toMs),
      };
      if (msg.droppedCause) lost.cause = msg.droppedCause;
      this.note(lost);
      out.push(lost);
    }
    const measures: Record<string, MeasureValue> = { ...msg.measures };
    let ev: DataEvent | AlarmEvent;
    if (msg.kind === "alarm") {
      const pick = (n: string): MeasureValue | undefined => {
        const m = measures[n];
        delete measures[n];
        return m;
      };
      const alarm = pick("alarm")?.vs ?? "";
      const state = pick("state")?.vs ?? "";
      const code = pick("code")?.v;
      const message = pick("message")?.vs;
      ev = {
        type: "alarm",
        receivedAt,
        topic,
        device: dev.id,
        source: msg.stream,
        seq: msg.seq,
        seqCheck: seq.check,
        schema: msg.schema,
        time: iso(msg.windowStartMs),
        timeq: msg.timeq,
        alarm,
        state,
        measures,
      };
      if (code !== undefined) ev.code = code;
      if (message !== undefined) ev.message = message;
      if (seq.check !== "duplicate") this.note(ev);
    } else {
      ev = {
        type: "data",
        receivedAt,
        topic,
        device: dev.id,
        kind: msg.kind,
        stream: msg.stream,
        seq: msg.seq,
        seqCheck: seq.check,
        schema: msg.schema,
        windowStart: iso(msg.windowStartMs),
        windowS: msg.windowS,
        observedS: msg.observedS,
        timeq: msg.timeq,
        measures,
      };
      if (msg.recovered) ev.recovered = msg.recovered;
    }
    out.push(ev);
    if (seq.check === "duplicate") return out;
    dev.messages++;
    dev.lastSeenMs = nowMs;
    dev.silent = false;
    const key = `${msg.kind}/${msg.stream}`;
    const st = dev.streams.get(key);
    // a late message (backlog) does not replace a newer value on screen
    if (!st) dev.streams.set(key, { key, last: ev, messages: 1 });
    else {
      st.messages++;
      if (msg.windowStartMs >= Date.parse(st.last.type === "data" ? st.last.windowStart : st.last.time)) st.last = ev;
    }
    if (ev.type === "data" && ev.windowS > 0) {
      dev.minWindowS = Math.min(dev.minWindowS ?? Infinity, ev.windowS);
      out.push(...this.catchup(dev, msg, nowMs));
    }
    return out;
  }

  /**
   * A second, different payload for a window already seen. Identical content is a redelivery; two
   * partial messages whose observed times fit in the window are a device restarted inside it.
   */
  private conflict(dev: DeviceState, topic: string, msg: DecodedMessage, receivedAt: string): WatchEvent | undefined {
    const key = `${msg.kind}/${msg.stream}@${msg.windowStartMs}`;
    const print = fingerprint(JSON.stringify([msg.observedS, msg.measures]));
    const prev = dev.windows.get(key);
    if (!prev) {
      dev.windows.set(key, { seq: msg.seq, print, observedS: msg.observedS, windowS: msg.windowS });
      if (dev.windows.size > WINDOWS_KEPT) dev.windows.delete(dev.windows.keys().next().value!);
      return undefined;
    }
    if (prev.print === print) return undefined;
    const pieces =
      prev.observedS + msg.observedS <= msg.windowS + 1 && prev.observedS < prev.windowS - 0.5 && msg.observedS < msg.windowS - 0.5;
    if (pieces && prev.seq !== msg.seq) {
      prev.observedS += msg.observedS;
      prev.print = print;
      return undefined;
    }
    dev.conflicts++;
    const detail =
      prev.seq === msg.seq
        ? `seq ${msg.seq} came twice with different values: two devices publish as ${dev.id}`
        : `seq ${prev.seq} and seq ${msg.seq} give different values for one window: two devices publish as ${dev.id}, or its state was copied to another board`;
    return {
      type: "conflict",
      receivedAt,
      topic,
      device: dev.id,
      stream: `${msg.kind}/${msg.stream}`,
      windowStart: iso(msg.windowStartMs),
      seqs: [prev.seq, msg.seq],
      detail,
    };
  }

  private catchup(dev: DeviceState, msg: DecodedMessage, nowMs: number): WatchEvent[] {
    const behindS = Math.max(0, (nowMs - msg.windowStartMs) / 1000 - msg.windowS);
    dev.behindS = behindS;
    const threshold = Math.max(CATCHUP_MIN_S, CATCHUP_WINDOWS * msg.windowS);
    if (dev.catchingUp) dev.catchupMessages++;
    if (!dev.catchingUp && behindS > threshold) {
      dev.catchingUp = true;
      dev.catchupMessages = 1;
      const ev: WatchEvent = {
        type: "catchup",
        receivedAt: iso(nowMs),
        device: dev.id,
        state: "start",
        behindS: Math.round(behindS),
        messages: 1,
      };
      this.note(ev);
      return [ev];
    }
    if (dev.catchingUp && behindS <= threshold) {
      dev.catchingUp = false;
      const ev: WatchEvent = {
        type: "catchup",
        receivedAt: iso(nowMs),
        device: dev.id,
        state: "done",
        behindS: Math.round(behindS),
        messages: dev.catchupMessages,
      };
      this.note(ev);
      return [ev];
    }
    return [];
  }

  private bad(topic: string, payload: Uint8Array, receivedAt: string, error: string): WatchEvent {
    this.invalid++;
    const ev: WatchEvent = { type: "invalid", receivedAt, topic, error, bytes: payload.length };
    this.note(ev);
    return ev;
  }

  private device(id: string): DeviceState {
    let d = this.devices.get(id);
    if (!d) {
      d = {
        id,
        status: "unknown",
        statusMs: 0,
        statusRetained: false,
        streams: new Map(),
        seq: new SeqTracker(),
        messages: 0,
        lastSeenMs: undefined,
        minWindowS: undefined,
        behindS: 0,
        catchingUp: false,
        catchupMessages: 0,
        silent: false,
        doctorMs: undefined,
        health: undefined,
        healthMs: undefined,
        lastMessageMs: undefined,
        windows: new Map(),
        conflicts: 0,
      };
      this.devices.set(id, d);
    }
    return d;
  }

  /** Record a notable event for the table. */
  note(ev: WatchEvent): void {
    this.notable.push(ev);
    if (this.notable.length > this.keep) this.notable.splice(0, this.notable.length - this.keep);
  }

  /** Totals over every device. */
  totals(): {
    devices: number;
    online: number;
    offline: number;
    messages: number;
    gaps: number;
    missing: number;
    duplicates: number;
    resets: number;
    invalid: number;
    conflicts: number;
  } {
    let online = 0;
    let offline = 0;
    let gaps = 0;
    let missing = 0;
    let duplicates = 0;
    let resets = 0;
    let conflicts = 0;
    for (const d of this.devices.values()) {
      conflicts += d.conflicts;
      if (d.status === "online") online++;
      else if (d.status === "offline") offline++;
      gaps += d.seq.gaps;
      missing += d.seq.missing;
      duplicates += d.seq.duplicates;
      resets += d.seq.resets;
    }
    return {
      devices: this.devices.size,
      online,
      offline,
      messages: this.messages,
      gaps,
      missing,
      duplicates,
      resets,
      invalid: this.invalid,
      conflicts,
    };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
