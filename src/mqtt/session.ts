import type { IClientOptions, IClientPublishOptions, IConnackPacket, MqttClient } from "mqtt";
import type { Logger } from "../log/logger.js";
import type { Outbox, OutboxMessage } from "../outbox/outbox.js";
import type { Clock } from "../clock/clock.js";
import { NS_PER_MS } from "../clock/clock.js";
import { backoffDelay } from "../clock/backoff.js";
import { connectMqtt } from "./connect.js";
import { explainError } from "./errors.js";
import { InboundHold } from "./inbound-hold.js";
import { DrainLanes } from "./lanes.js";
import { redactUrl } from "./secrets.js";
import { countWire } from "./wire.js";

export type SessionState = "idle" | "connecting" | "connected" | "disconnected" | "stopped";

export interface MqttSessionOptions {
  url: string;
  clientId: string;
  /** auto: MQTT 5, falling back to 3.1.1 when the broker refuses it. */
  protocol: "auto" | "5" | "3.1.1";
  keepaliveS: number;
  /**
   * Where the retained `online` birth and the `offline` last will go (`Topics.status()`). The session
   * carries bytes to topics it is given; publish/ owns the topic scheme (DESIGN.md "MQTT contract").
   */
  statusTopic: string;
  outbox: Outbox;
  logger: Logger;
  /** Extra mqtt.js options (TLS material, credentials). Never logged. */
  connectOptions?: Partial<IClientOptions>;
  /** Messages published and not yet acknowledged, at most (lowered to the broker's receive maximum). Default 16. */
  maxInFlight?: number;
  /** Reconnect backoff: first ceiling and largest ceiling, ms. Defaults 2 s and 5 min. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** A connection that lasted this long resets the backoff, ms. Default 60 s (a flapping link does not). */
  stableMs?: number;
  /** Random source for backoff jitter, [0,1). Default Math.random. */
  random?: () => number;
  /** Timer seam (tests record the delays). Returns a cancel function. Default setTimeout. */
  setTimer?: (fn: () => void, ms: number) => () => void;
  /** The device's clock: wall time for message expiry and health, monotonic time for how long a connection lasted. */
  clock: Clock;
  /** Called after every (re)connect, once the birth message is out: publish retained state here. */
  onOnline?: (session: MqttSession) => void | Promise<void>;
  /** Called for each outbox message once the broker acknowledged it. */
  onDelivered?: (msg: OutboxMessage) => void;
  onState?: (state: SessionState, detail?: string) => void;
  /** Bytes on the wire, both ways, as they go (wire.ts: MQTT exact, TLS estimated): the byte budget's count. */
  onWire?: (bytes: number) => void;
}

/** Counters for the health heartbeat. */
export interface SessionCounters {
  state: SessionState;
  /** "5" or "3.1.1" for the current or last connection. */
  protocol: string;
  connects: number;
  /** Connections lost (broker gone, network down), not counting the clean stop. */
  disconnects: number;
  /** Wall time of the current connection's start or of the last loss, ms. */
  sinceMs: number | null;
  delivered: number;
  lastError: string | null;
}

/**
 * One MQTT session of a device: connects (MQTT 5, else 3.1.1), announces itself with a retained
 * `online` birth and an `offline` last will, and drains the outbox with QoS 1, deleting each message
 * only on its PUBACK. Reconnects with exponential backoff and full jitter (backoff.ts).
 *
 * The outbox, not mqtt.js's in-memory store, is the record of what is delivered: every new connection
 * starts from the outbox again, so a message unacknowledged when the link dropped is sent again with
 * its same sequence number (at-least-once). Draining interleaves live messages with the backlog
 * (lanes.ts), so after days offline the current windows are not stuck behind the old ones.
 */
export class MqttSession {
  private client: MqttClient | undefined;
  private stateV: SessionState = "idle";
  private protocolVersion: 4 | 5;
  private inFlight = new Set<number>();
  private draining = false;
  /** start() was called: the retained state and the outbox may go out (open() alone connects only). */
  private ready = false;
  /** Messages that arrive before start(): handled and acknowledged at start(). */
  private readonly inbound = new InboundHold(
    (topic, payload, properties) => this.dispatch(topic, payload, properties),
    () => this.ready,
  );
  private attempt = 0;
  private cancelReconnect: (() => void) | undefined;
  private connectedAtNs = 0;
  private effectiveMaxInFlight: number;
  private readonly maxInFlight: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly lanes: DrainLanes;
  private readonly subscriptions = new Map<
    string,
    (topic: string, payload: Buffer, properties: Record<string, unknown> | undefined) => void
  >();
  private lastErrorLogged = "";
  private settleWire: (() => void) | undefined;
  private readonly counters: SessionCounters = {
    state: "idle",
    protocol: "5",
    connects: 0,
    disconnects: 0,
    sinceMs: null,
    delivered: 0,
    lastError: null,
  };

  constructor(private readonly opts: MqttSessionOptions) {
    this.protocolVersion = opts.protocol === "3.1.1" ? 4 : 5;
    this.maxInFlight = opts.maxInFlight ?? 16;
    this.effectiveMaxInFlight = this.maxInFlight;
    this.random = opts.random ?? Math.random;
    this.now = () => opts.clock.wallMs();
    this.log = opts.logger.child({ component: "mqtt" });
    this.lanes = new DrainLanes(opts.outbox);
  }

  get state(): SessionState {
    return this.stateV;
  }

  /** MQTT version of the current or last connection: 5 or 4 (3.1.1). */
  get protocol(): 4 | 5 {
    return this.protocolVersion;
  }

  /** Connections made since start. */
  get connects(): number {
    return this.counters.connects;
  }

  stats(): SessionCounters {
    return { ...this.counters, state: this.stateV, protocol: this.protocolVersion === 5 ? "5" : "3.1.1" };
  }

  /**
   * Connect now, while the caller is still starting: the birth message and the subscriptions go out
   * on connect, the retained state (onOnline) and the outbox drain wait for start(). A device that
   * opens its session first is announced while its inputs and features load (issue 15: start-up).
   */
  open(): void {
    if (this.stateV === "idle") this.connect();
  }

  /** Connect if not yet open, and from now on publish the retained state and drain on every connect. */
  start(): void {
    if (this.ready || this.stateV === "stopped") return;
    this.ready = true;
    if (this.stateV === "idle") this.connect();
    else if (this.stateV === "connected") this.online();
    this.inbound.release();
  }

  /** Publish an `offline` status (a clean disconnect does not fire the LWT), then disconnect. */
  async stop(): Promise<void> {
    this.cancelReconnect?.();
    this.cancelReconnect = undefined;
    const c = this.client;
    this.setState("stopped");
    // stopped before start(): the held messages are not acknowledged (the broker sends them again),
    // and mqtt.js reads nothing more on this connection, so no PUBACK for `offline` can be awaited
    const blocked = c !== undefined && this.inbound.blocks(c);
    this.inbound.drop();
    if (!c) return;
    if (c.connected) {
      await new Promise<void>((resolve) => {
        c.publish(this.opts.statusTopic, "offline", { qos: 1, retain: true }, () => resolve());
        setTimeout(resolve, blocked ? 100 : 2000).unref();
      });
    }
    await new Promise<void>((resolve) => {
      c.end(blocked, {}, () => resolve());
      setTimeout(() => c.end(true, {}, () => resolve()), 3000).unref();
    });
    this.client = undefined;
  }

  /** Bring the `onWire` count up to date with what the current connection has written. */
  countWire(): void {
    this.settleWire?.();
  }

  /** New messages were committed: send what the in-flight window allows. */
  kick(): void {
    if (this.ready && this.stateV === "connected") this.drain();
  }

  /** Publish outside the outbox (status, manifest, health, command replies). Resolves on PUBACK. */
  publish(topic: string, payload: string | Buffer, options: IClientPublishOptions = { qos: 1 }): Promise<void> {
    const c = this.client;
    if (!c || this.stateV !== "connected") return Promise.reject(new Error(`not connected to ${redactUrl(this.opts.url)}`));
    if (this.protocolVersion !== 5 && options.properties) {
      const { properties: _dropped, ...rest } = options;
      options = rest; // MQTT 3.1.1 has no properties
    }
    return new Promise((resolve, reject) => {
      c.publish(topic, payload, options, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Subscribe (QoS 1) and route matching messages to `handler`, with the MQTT 5 properties of each
   * (correlation data, response topic); re-subscribed on every reconnect.
   */
  subscribe(filter: string, handler: (topic: string, payload: Buffer, properties: Record<string, unknown> | undefined) => void): void {
    this.subscriptions.set(filter, handler);
    if (this.client?.connected) this.client.subscribe(filter, { qos: 1 });
  }

  private connect(): void {
    this.setState("connecting");
    const options: IClientOptions = {
      clientId: this.opts.clientId,
      protocolVersion: this.protocolVersion,
      keepalive: this.opts.keepaliveS,
      clean: false,
      reconnectPeriod: 0, // backoff is ours
      connectTimeout: 15_000,
      resubscribe: false,
      // mqtt-packet's default cache of all 65,536 two-byte packet ids is 65,536 Buffers (~6 MB of heap
      // for the life of the process, a quarter of the device's live heap; issue 15): build them as needed
      writeCache: false,
      will: { topic: this.opts.statusTopic, payload: Buffer.from("offline"), qos: 1, retain: true },
      ...this.opts.connectOptions,
    };
    if (this.protocolVersion === 5) {
      // keep the session (and commands queued for the device) for a day across reconnects
      options.properties = { sessionExpiryInterval: 86_400, ...(this.opts.connectOptions?.properties ?? {}) };
    }
    if (options.rejectUnauthorized === false && /^(mqtts|wss|ssl):/i.test(this.opts.url)) {
      this.log.warn("TLS certificate verification is off (mqtt.tls.verify: false): this connection can be intercepted");
    }
    const c = connectMqtt(this.opts.url, options);
    this.client = c;
    this.inbound.attach(c);
    const onWire = this.opts.onWire;
    this.settleWire = onWire ? countWire(c, /^(mqtts|wss|ssl):/i.test(this.opts.url), onWire) : undefined;
    let refusedVersion = false;
    c.on("connect", (connack: IConnackPacket) => {
      if (this.client !== c) return;
      this.connectedAtNs = this.opts.clock.monoNs();
      this.counters.connects++;
      this.counters.sinceMs = this.now();
      this.counters.lastError = null;
      this.lastErrorLogged = "";
      this.inFlight.clear();
      const receiveMax = connack.properties?.receiveMaximum;
      this.effectiveMaxInFlight = receiveMax ? Math.max(1, Math.min(this.maxInFlight, receiveMax)) : this.maxInFlight;
      this.lanes.reset();
      this.setState("connected", `MQTT ${this.protocolVersion === 5 ? "5" : "3.1.1"}`);
      c.publish(this.opts.statusTopic, "online", { qos: 1, retain: true });
      for (const filter of this.subscriptions.keys()) c.subscribe(filter, { qos: 1 });
      if (this.ready) this.online();
    });
    c.on("error", (err: Error & { code?: number | string }) => {
      if (this.client !== c) return;
      // v3.1.1 brokers answer a v5 CONNECT with return code 1; v5 brokers use reason 0x84
      if (this.opts.protocol === "auto" && this.protocolVersion === 5 && (err.code === 1 || err.code === 132)) {
        refusedVersion = true;
        this.log.info("broker does not speak MQTT 5; using MQTT 3.1.1", { url: redactUrl(this.opts.url) });
        this.protocolVersion = 4;
        return;
      }
      const text = explainError(err, this.opts.url);
      this.counters.lastError = text;
      // the same failure at every retry is said once; a change is news
      if (text !== this.lastErrorLogged) this.log.warn(text, { url: redactUrl(this.opts.url) });
      else this.log.debug(() => text);
      this.lastErrorLogged = text;
    });
    c.on("close", () => {
      if (this.client !== c) return;
      c.removeAllListeners("connect");
      c.end(true);
      this.client = undefined;
      this.inFlight.clear();
      this.inbound.drop(c); // unacknowledged: the broker sends them again
      if (this.stateV === "stopped") return;
      if (refusedVersion) {
        this.connect(); // at once, in MQTT 3.1.1
        return;
      }
      const wasConnected = this.stateV === "connected";
      if (wasConnected) {
        this.counters.disconnects++;
        this.counters.sinceMs = this.now();
        if (this.opts.clock.monoNs() - this.connectedAtNs >= (this.opts.stableMs ?? 60_000) * NS_PER_MS) this.attempt = 0;
      }
      this.setState("disconnected");
      this.scheduleReconnect();
    });
  }

  private dispatch(topic: string, payload: Buffer, properties: Record<string, unknown> | undefined): void {
    for (const [filter, handler] of this.subscriptions) {
      if (matches(filter, topic)) handler(topic, payload, properties);
    }
  }

  /** What follows every connect once started: the retained state, then the outbox. */
  private online(): void {
    void Promise.resolve(this.opts.onOnline?.(this)).catch((err: unknown) => {
      this.log.warn("publishing retained state after connect failed; it is sent again on the next reconnect", { error: String(err) });
    });
    this.drain();
  }

  private scheduleReconnect(): void {
    const wait = backoffDelay(this.attempt, this.opts.backoffMinMs ?? 2000, this.opts.backoffMaxMs ?? 300_000, this.random);
    this.attempt++;
    this.log.debug(() => `reconnecting in ${wait} ms`, { attempt: this.attempt });
    const fire = (): void => {
      this.cancelReconnect = undefined;
      if (this.stateV !== "stopped") this.connect();
    };
    if (this.opts.setTimer) this.cancelReconnect = this.opts.setTimer(fire, wait);
    else {
      const t = setTimeout(fire, wait);
      this.cancelReconnect = () => clearTimeout(t);
    }
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      const c = this.client;
      while (c && this.stateV === "connected" && this.inFlight.size < this.effectiveMaxInFlight) {
        const m = this.lanes.pick(this.inFlight);
        if (!m) break;
        if (m.expiresAtMs !== undefined && m.expiresAtMs <= this.now()) {
          this.opts.outbox.expire(this.now()); // counted as lost and reported, never sent stale
          continue;
        }
        this.send(c, m);
      }
    } finally {
      this.draining = false;
    }
  }

  private send(c: MqttClient, m: OutboxMessage): void {
    this.inFlight.add(m.seq);
    const options: IClientPublishOptions = { qos: 1, retain: false };
    if (this.protocolVersion === 5) {
      options.properties = { contentType: m.contentType, userProperties: { seq: String(m.seq) } };
      if (m.expiresAtMs !== undefined) {
        options.properties.messageExpiryInterval = Math.max(1, Math.round((m.expiresAtMs - this.now()) / 1000));
      }
    }
    c.publish(m.topic, m.payload, options, (err) => {
      if (this.client !== c) return; // the connection it was sent on is gone; the outbox still has it
      this.inFlight.delete(m.seq);
      if (err) {
        // e.g. an MQTT 5 PUBACK "not authorized" (an ACL): not retried on this connection, so a refused
        // topic cannot spin; it stays in the outbox and is tried again after the next reconnect
        this.log.warn(
          `the broker refused seq ${m.seq} on ${m.topic}: ${err.message}; it stays in the outbox. Check the broker's ACL for this device's topics.`,
        );
      } else {
        this.opts.outbox.ack(m.seq);
        this.counters.delivered++;
        this.opts.onDelivered?.(m);
      }
      this.drain();
    });
  }

  private setState(s: SessionState, detail?: string): void {
    this.stateV = s;
    this.counters.state = s;
    this.opts.onState?.(s, detail);
  }
}

/** MQTT topic filter matching (+ and #). */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
