import type { SeqCheck } from "./sequence.js";

/**
 * What `roadside watch --json` prints: one JSON object per line, told apart by `type`. The schema of
 * these lines is docs/message.schema.json; docs/subscribing.md explains them. Times are ISO 8601
 * UTC; measures keep the SenML units the device sent (SI: `1/s`, `/`, `m/s`…), so a pipeline
 * needs no conversion table.
 */
export interface MeasureValue {
  u?: string;
  v?: number;
  vs?: string;
  vb?: boolean;
}

interface Base {
  /** When the watcher received it (its wall clock), ISO 8601. */
  receivedAt: string;
}

/** A window summary of one stream (`…/traffic/{detector}`, `…/level/{sensor}`, …). */
export interface DataEvent extends Base {
  type: "data";
  topic: string;
  device: string;
  kind: string;
  stream: string;
  seq: number;
  /** What the sequence number says about this message (see SeqCheck in src/watch/sequence.ts). */
  seqCheck: SeqCheck;
  schema: number;
  /** Window start (the SenML bt), ISO 8601. */
  windowStart: string;
  windowS: number;
  observedS: number;
  timeq: string;
  /** Set on a summary rebuilt from its window's last checkpoint after a crash (`recovered`: `crash`). */
  recovered?: string;
  measures: Record<string, MeasureValue>;
}

/** An event from `…/alarm/{source}`: overflow, fire, detector fault… */
export interface AlarmEvent extends Base {
  type: "alarm";
  topic: string;
  device: string;
  source: string;
  seq: number;
  seqCheck: SeqCheck;
  schema: number;
  /** When it happened (the SenML bt), ISO 8601. */
  time: string;
  timeq: string;
  alarm: string;
  state: string;
  code?: number;
  message?: string;
  measures: Record<string, MeasureValue>;
}

/** Sequence numbers `from`…`to` of a device never arrived (yet). */
export interface GapEvent extends Base {
  type: "gap";
  device: string;
  from: number;
  to: number;
  missing: number;
}

/**
 * The device reports it had to drop messages of a topic (outbox full or expired): how many and the
 * window span they covered. Carried by the first message of that topic after the loss
 * (docs/payloads.md "Drop accounting"); the sequence gap shows the same loss from the other side.
 */
export interface DroppedEvent extends Base {
  type: "dropped";
  topic: string;
  device: string;
  /** 0 when the report only names time the device was down after a recovered window. */
  count: number;
  /** Span the dropped messages covered, ISO 8601. */
  from: string;
  to: string;
  /** `dropped.cause` when the device names it (`crash`, alone or with other causes). */
  cause?: string;
}

/** The device's counter started again (its state was wiped): not a redelivery. */
export interface ResetEvent extends Base {
  type: "reset";
  device: string;
  previous: number;
  seq: number;
}

/** `…/status`: `online` (birth) or `offline` (last will or clean stop). */
export interface StatusEvent extends Base {
  type: "status";
  topic: string;
  device: string;
  status: string;
  /** True when the broker replayed it on subscribe (the state before the watcher came). */
  retained: boolean;
}

export interface ManifestEvent extends Base {
  type: "manifest";
  topic: string;
  device: string;
  retained: boolean;
  manifest: unknown;
}

export interface HealthEvent extends Base {
  type: "health";
  topic: string;
  device: string;
  health: unknown;
}

/** A technician's `roadside doctor` test publish on `…/doctor`. */
export interface DoctorEvent extends Base {
  type: "doctor";
  topic: string;
  device: string;
  payload: unknown;
}

/** An online device sent nothing for much longer than its windows. */
export interface SilentEvent extends Base {
  type: "silent";
  device: string;
  lastSeenAt: string;
  silentS: number;
}

/** A device is delivering a backlog (after an outage) far behind real time, or has caught up. */
export interface CatchupEvent extends Base {
  type: "catchup";
  device: string;
  state: "start" | "done";
  /** How far behind real time its newest window is, s. */
  behindS: number;
  /** Messages received from it since the catch-up started. */
  messages: number;
}

/** A message under the prefix that is not a roadside message. */
export interface InvalidEvent extends Base {
  type: "invalid";
  topic: string;
  error: string;
  bytes: number;
}

/**
 * Two different payloads for one device, stream and window: two boards sharing a device id, a state
 * folder copied to a second board, or a replay published live. Not a redelivery (that is identical)
 * and not a restart inside a window (two partial messages whose `observed` add up to the window).
 */
export interface ConflictEvent extends Base {
  type: "conflict";
  topic: string;
  device: string;
  /** `{kind}/{stream}`, e.g. `traffic/lane1`. */
  stream: string;
  windowStart: string;
  /** Sequence numbers of the earlier and the later message (equal when one number carried both). */
  seqs: [number, number];
  detail: string;
}

/** The watcher's own link to the broker. */
export interface BrokerEvent extends Base {
  type: "broker";
  state: "connected" | "disconnected" | "error";
  url: string;
  detail?: string;
}

export type WatchEvent =
  | DataEvent
  | AlarmEvent
  | GapEvent
  | DroppedEvent
  | ResetEvent
  | StatusEvent
  | ManifestEvent
  | HealthEvent
  | DoctorEvent
  | SilentEvent
  | CatchupEvent
  | InvalidEvent
  | ConflictEvent
  | BrokerEvent;
